"""`vfl certs init` and the TLS configuration's checks and warnings."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vfl.cli.app import app
from vfl.errors import ConfigError
from vfl.grpc.certs import Identity, identity_of_pem
from vfl.grpc.tls import InsecureTransportWarning, TLSConfig, is_active_party, is_operator

RUNNER = CliRunner()


def test_certs_init_writes_a_ca_and_one_identity_per_name(tmp_path: Path) -> None:
    out = tmp_path / "certs"
    args = ["certs", "init", "--out", str(out), "--party", "passive-0", "--party", "active",
            "--operator", "admin"]  # fmt: skip
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    names = {"ca", "passive-0", "active", "admin"}
    assert {p.name for p in out.iterdir()} == {f"{n}.{e}" for n in names for e in ("crt", "key")}
    for name in names:
        assert stat.S_IMODE((out / f"{name}.key").stat().st_mode) == 0o600
    assert identity_of_pem((out / "active.crt").read_bytes()) == Identity("active", "party")
    assert identity_of_pem((out / "admin.crt").read_bytes()) == Identity("admin", "operator")
    assert is_active_party(Identity("active", "party")) and not is_operator(
        Identity("active", "party")
    )

    again = RUNNER.invoke(app, args)  # never overwrite a CA silently
    assert again.exit_code == 2 and "already holds a CA" in again.stderr
    assert RUNNER.invoke(app, [*args, "--keep-existing"]).exit_code == 0


@pytest.mark.parametrize("name", ["Active", "ca", "a_b", ""])
def test_identity_names_must_be_dns_labels(tmp_path: Path, name: str) -> None:
    result = RUNNER.invoke(app, ["certs", "init", "--out", str(tmp_path), "--party", name])
    assert result.exit_code == 2 and "identity" in result.stderr


def test_tls_needs_certificates_or_an_explicit_insecure(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--insecure"):
        TLSConfig().checked()
    with pytest.raises(ConfigError, match="missing"):
        TLSConfig(certs=tmp_path, identity="active").checked()
    with pytest.warns(InsecureTransportWarning, match="WITHOUT TLS"):
        TLSConfig(insecure=True).checked()
