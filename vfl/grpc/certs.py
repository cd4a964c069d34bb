"""A private CA and per-identity certificates, made with ``cryptography``.

Every process of a federation has one identity: a party (``passive-0``,
``active``) or an operator (``admin``). The identity is the certificate's
common name; the role is the organizational unit. Servers authorise peers by
both (see :mod:`vfl.grpc.tls`). Clients check the server by TLS host
verification against the DNS subject-alternative name, which names the role
as well (``passive-0.party.vfl``, see :func:`server_name`): a certificate of
an operator called ``passive-0`` cannot pass for the party ``passive-0``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vfl.errors import ConfigError

__all__ = [
    "CA_NAME",
    "Identity",
    "Role",
    "identity_of_pem",
    "init_certs",
    "issue_certificate",
    "server_name",
]

Role = Literal["party", "operator"]
CA_NAME = "ca"
_VALID_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Identity:
    name: str
    role: Role

    def __str__(self) -> str:
        return f"{self.role} {self.name!r}"


def server_name(name: str, role: Role = "party") -> str:
    """The DNS name in ``name``'s certificate and the one a client expects of a server.

    The role is part of it because hostname verification is the only check a
    gRPC client makes of the server's certificate.
    """
    return f"{name}.{role}.vfl"


def _check_name(name: str) -> str:
    if not _VALID_NAME.match(name) or name == CA_NAME:
        raise ConfigError(
            f"identity {name!r} must be lowercase letters, digits and '-' (a DNS label), not 'ca'"
        )
    return name


def _subject(name: str, unit: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vfl federation"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.write_bytes(data)
    if private:
        os.chmod(path, 0o600)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, days: int
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
    )


def _issue(
    out: Path,
    identity: Identity,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    days: int,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(_subject(identity.name, identity.role), ca_cert.subject, key.public_key(), days)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(server_name(identity.name, identity.role))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(out / f"{identity.name}.key", _pem_key(key), private=True)
    _write(out / f"{identity.name}.crt", cert.public_bytes(serialization.Encoding.PEM))


def init_certs(out: Path, parties: list[str], operators: list[str], days: int = 365) -> list[Path]:
    """Create ``ca.crt``/``ca.key`` and ``NAME.crt``/``NAME.key`` per identity in ``out``."""
    identities = [Identity(_check_name(p), "party") for p in parties]
    identities += [Identity(_check_name(o), "operator") for o in operators]
    names = [i.name for i in identities]
    if not identities:
        raise ConfigError("name at least one --party or --operator")
    if len(set(names)) != len(names):
        raise ConfigError("each identity may be named once")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (out / f"{CA_NAME}.key").exists():
        raise ConfigError(f"{out} already holds a CA; use an empty directory")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _subject("vfl-ca", "ca")
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key(), days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    _write(out / f"{CA_NAME}.key", _pem_key(ca_key), private=True)
    _write(out / f"{CA_NAME}.crt", ca_cert.public_bytes(serialization.Encoding.PEM))
    for identity in identities:
        _issue(out, identity, ca_key, ca_cert, days)
    return sorted(out.iterdir())


def bundle_identities(out: Path, names: list[str]) -> list[Path]:
    """``OUT/NAME/`` per identity: ``ca.crt``, ``NAME.crt``, ``NAME.key`` and nothing else.

    Each folder is what one organisation's container mounts (``--certs OUT/NAME``):
    never the CA key, never another identity's key.
    """
    folders = []
    for name in names:
        folder = Path(out) / _check_name(name)
        folder.mkdir(exist_ok=True)
        _write(folder / f"{CA_NAME}.crt", (Path(out) / f"{CA_NAME}.crt").read_bytes())
        _write(folder / f"{name}.crt", (Path(out) / f"{name}.crt").read_bytes())
        _write(folder / f"{name}.key", (Path(out) / f"{name}.key").read_bytes(), private=True)
        folders.append(folder)
    return folders


def issue_certificate(ca_dir: Path, identity: Identity, out: Path, days: int = 365) -> None:
    """Issue one more certificate from the CA in ``ca_dir`` (its ``ca.key`` and ``ca.crt``)."""
    ca_key = serialization.load_pem_private_key((ca_dir / f"{CA_NAME}.key").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate((ca_dir / f"{CA_NAME}.crt").read_bytes())
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ConfigError(f"{ca_dir / (CA_NAME + '.key')} is not an EC private key")
    _issue(Path(out), Identity(_check_name(identity.name), identity.role), ca_key, ca_cert, days)


@functools.lru_cache(maxsize=256)
def identity_of_pem(pem: bytes) -> Identity | None:
    """The identity in a (CA-verified) peer certificate; ``None`` if it names no known role."""
    cert = x509.load_pem_x509_certificate(pem)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    units = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    if not names or not units or units[0].value not in ("party", "operator"):
        return None
    return Identity(str(names[0].value), units[0].value)  # type: ignore[arg-type]
