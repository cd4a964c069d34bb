"""The active party accepts a passive server by its role as well as its name."""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest
from cryptography import x509

from tests.fixtures.pki import SPEC
from vfl.grpc.certs import Identity, issue_certificate, server_name
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.errors import PartyUnavailableError
from vfl.grpc.local import LOOPBACK, spawn_passive
from vfl.grpc.processes import terminate_all
from vfl.grpc.tls import TLSConfig


def dns_names(cert: Path) -> list[str]:
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.DNSName)


def test_certificates_name_the_role_in_their_dns_name(certs: Path) -> None:
    assert dns_names(certs / "passive-0.crt") == [server_name("passive-0", "party")]
    assert dns_names(certs / "admin.crt") == ["admin.operator.vfl"]


@pytest.mark.slow
def test_an_operator_certificate_named_like_a_party_cannot_serve_as_that_party(
    certs: Path, tmp_path: Path
) -> None:
    """A real passive server process holding a CA-issued *operator* certificate
    called ``passive-0``: the handshake fails, so it never receives gradients."""
    impostor = tmp_path / "impostor"
    impostor.mkdir()
    shutil.copy(certs / "ca.crt", impostor / "ca.crt")
    issue_certificate(certs, Identity("passive-0", "operator"), impostor)
    with ExitStack() as stack:
        child = spawn_passive(stack, SPEC, "passive-0", impostor, tmp_path)
        stack.callback(terminate_all, [child])
        tls = TLSConfig(certs=certs, identity="active")
        client = GrpcPassiveClient("passive-0", f"{LOOPBACK}:{child.port()}", tls, timeout=10)
        with pytest.raises(PartyUnavailableError):
            client.info()
        client.close()
