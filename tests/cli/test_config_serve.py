"""``vfl serve passive|active --config party.toml``: the file a deployed party keeps.

A file holding the options of docker-compose.yml's commands must give the same
settings as those flags; ``VFL_SERVE_*`` and the older ``VFL_CERTS`` sit between
the file and the flags. One slow test starts a passive party from a file alone.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.cli.test_config import assert_one_error_line, write
from tests.fixtures.cli import run_vfl
from vfl.cli.config import load_settings
from vfl.cli.serve import ActiveSettings, active_config, active_defenses

PASSIVE_FLAGS = [
    *("--party-id", "passive-1", "--listen", "0.0.0.0:50051"),
    *("--data", "/data/party-1.csv", "--score-data", "/data/party-1-new.csv"),
    *("--id-column", "id", "--categorical", "region"),
    *("--state-dir", "/state", "--certs", "/certs", "--identity", "passive-1"),
]
PASSIVE_TOML = """\
party_id = "passive-1"
listen = "0.0.0.0:50051"
data = "/data/party-1.csv"
score_data = "/data/party-1-new.csv"
id_column = "id"
categorical = ["region"]
state_dir = "/state"
certs = "/certs"
identity = "passive-1"
"""
ACTIVE_FLAGS = [
    *("--listen", "0.0.0.0:50050"),
    *("--passive", "passive-0=passive-0:50051", "--passive", "passive-1=passive-1:50051"),
    *("--labels", "/data/labels.csv", "--label-column", "product"),
    *("--data", "/data/features.csv", "--score-data", "/data/new-customers.csv"),
    *("--state-dir", "/state", "--certs", "/certs", "--identity", "active"),
    *("--party-deadline", "step=90"),
]
ACTIVE_TOML = """\
listen = "0.0.0.0:50050"
passive = ["passive-0=passive-0:50051", "passive-1=passive-1:50051"]
labels = "/data/labels.csv"
label_column = "product"
data = "/data/features.csv"
score_data = "/data/new-customers.csv"
state_dir = "/state"
certs = "/certs"
identity = "active"
party_deadline = ["step=90"]
"""


def dumped(*args: str, env: dict[str, str] | None = None) -> str:
    result = run_vfl("serve", *args, "--dump-config", env=env)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("role", "flags", "text"),
    [("passive", PASSIVE_FLAGS, PASSIVE_TOML), ("active", ACTIVE_FLAGS, ACTIVE_TOML)],
)
def test_a_party_file_gives_the_settings_of_the_compose_flags(
    tmp_path: Path, role: str, flags: list[str], text: str
) -> None:
    config = write(tmp_path, text, "party.toml")
    assert dumped(role, "--config", str(config)) == dumped(role, *flags)


def test_the_active_server_config_is_the_same_from_file_and_flags(tmp_path: Path) -> None:
    config = write(tmp_path, ACTIVE_TOML, "party.toml")
    from_flags = tomllib.loads(dumped("active", *ACTIVE_FLAGS))
    built = active_config(load_settings(ActiveSettings, None, from_flags))
    assert active_config(load_settings(ActiveSettings, config, {})) == built
    assert built.deadlines.step == 90 and built.passive["passive-1"] == "passive-1:50051"


def test_vfl_certs_sits_between_the_file_and_vfl_serve_certs(tmp_path: Path) -> None:
    config = write(tmp_path, PASSIVE_TOML, "party.toml")

    def certs(*args: str, **env: str) -> str:
        return tomllib.loads(dumped("passive", "--config", str(config), *args, env=env))["certs"]

    assert certs() == "/certs"
    assert certs(VFL_CERTS="/from-env") == "/from-env"
    assert certs(VFL_CERTS="/from-env", VFL_SERVE_CERTS="/serve-env") == "/serve-env"
    assert certs("--certs", "/flag", VFL_SERVE_CERTS="/serve-env") == "/flag"


@pytest.mark.parametrize(
    ("role", "text", "message"),
    [
        ("passive", PASSIVE_TOML + 'labels = "y.csv"\n', "party.toml: labels: unknown key"),
        ("passive", 'listen = "0.0.0.0:50051"\n', "party_id is required: give --party-id"),
        ("active", ACTIVE_TOML + "connect_timeout = []\n", "party.toml: connect_timeout: "),
        ("active", 'passive = "p=h:1"\n', "party.toml: passive: Input should be a valid list"),
    ],
)
def test_a_bad_party_file_is_one_line_and_nothing_starts(
    tmp_path: Path, role: str, text: str, message: str
) -> None:
    config = write(tmp_path, text, "party.toml")
    assert_one_error_line(run_vfl("serve", role, "--config", str(config)), message)


@pytest.mark.slow
def test_a_passive_party_serves_from_its_file_alone(tmp_path: Path) -> None:
    from vfl.grpc.processes import serve_command, spawned

    config = write(
        tmp_path,
        'party_id = "passive-0"\nlisten = "127.0.0.1:0"\ninsecure = true\n'
        f'state_dir = "{tmp_path / "state"}"\n',
        "party.toml",
    )
    with spawned(serve_command("passive", "--config", str(config)), tmp_path, "p0") as child:
        port = child.port()
        health = run_vfl(
            "serve", "health", "--target", f"127.0.0.1:{port}", "--server-name", "passive-0",
            "--insecure", "--timeout", "30",
        )  # fmt: skip
        assert health.exit_code == 0 and health.stdout.strip() == "SERVING", health.stderr


def test_serve_active_defenses_reach_the_coordinator_and_hide_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--defense`` names become gradient transforms handed to the server's coordinator."""
    import parties.active_server as server

    seen: list[object] = []

    class Stop(Exception):
        pass

    def fake_server(cfg, journal=None, transforms=()):  # type: ignore[no-untyped-def]
        seen.extend(transforms)
        raise Stop

    monkeypatch.setattr(server, "ActiveServer", fake_server)
    flags = [*ACTIVE_FLAGS, "--defense", "noise", "--noise", "0.2", "--defense", "equalize"]
    settings = load_settings(ActiveSettings, None, tomllib.loads(dumped("active", *flags)))
    with pytest.raises(Stop):
        server.serve(active_config(settings), transforms=active_defenses(settings))
    assert len(seen) == 2 and all(callable(t) for t in seen)
    for name, message in (("hide", "vfl unlearn --method luv-hidden"), ("blur", "'blur'")):
        assert_one_error_line(run_vfl("serve", "active", *ACTIVE_FLAGS, "--defense", name), message)


def test_serve_active_takes_a_top_model_reference() -> None:
    flags = [*ACTIVE_FLAGS, "--top-model", "tests.fixtures.user_models:Top"]
    settings = load_settings(ActiveSettings, None, tomllib.loads(dumped("active", *flags)))
    assert active_config(settings).federation.top_model == "tests.fixtures.user_models:Top"
    bad = run_vfl(
        "serve", "active", *ACTIVE_FLAGS, "--top-model", "tests.fixtures.user_models:Nope"
    )
    assert_one_error_line(bad, "tests.fixtures.user_models:Nope")
