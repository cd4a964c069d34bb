"""docker-compose.yml, run without Docker: each service's command as a local process.

Hostnames become 127.0.0.1, every listen port becomes one the OS picks (the
servers report it), volumes and bind mounts become temp folders. The data are
the example's bank split, one folder per organisation; then the align job and
the operator service's CLI align, train, predict, unlearn and predict again
through the coordinator, exactly as documented.
"""

from __future__ import annotations

import json
import re
from contextlib import ExitStack
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.fixtures.bank import make_bank_split
from vfl.cli.app import app
from vfl.grpc.processes import ChildServer, serve_command, spawned
from vfl.party.state import load_checkpoint, state_digest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
RUNNER = CliRunner()


class LocalCompose:
    """Maps a compose file's hosts, ports and volumes onto this machine."""

    def __init__(self, compose: dict, workdir: Path) -> None:
        self.services: dict[str, dict] = compose["services"]
        self.workdir = workdir
        self.ports: dict[str, int] = {}

    def _volumes(self, service: str) -> dict[str, Path]:
        out = {}
        for spec in self.services[service].get("volumes", []):
            name, mount = spec.split(":")[:2]
            out[mount] = self.workdir / name
            out[mount].mkdir(parents=True, exist_ok=True)
        return out

    def rewrite(self, service: str, token: str) -> str:
        for mount, local in self._volumes(service).items():
            if token == mount or token.startswith(mount + "/"):
                token = str(local) + token[len(mount) :]
        token = re.sub(r"^0\.0\.0\.0:\d+$", "127.0.0.1:0", token)
        hosts = "|".join(map(re.escape, [*self.services, "localhost"]))
        return re.sub(
            rf"(?<![\w.-])({hosts}):\d+",
            lambda m: f"127.0.0.1:{self.ports[service if m[1] == 'localhost' else m[1]]}",
            token,
        )

    def command(self, service: str, command: list[str] | None = None) -> list[str]:
        return [self.rewrite(service, t) for t in command or self.services[service]["command"]]

    def env(self, service: str) -> dict[str, str]:
        environment = self.services[service]["environment"]
        return {k: self.rewrite(service, str(v)) for k, v in environment.items()}

    def run(self, service: str, command: list[str], **env: str) -> Result:
        """A one-shot command (certs job, probe, operator CLI) through the real ``vfl`` app.

        In this process, to save an interpreter start per command; servers are processes.
        """
        args = self.command(service, command)
        return RUNNER.invoke(app, args, env={**self.env(service), "COLUMNS": "200", **env})

    def start(self, stack: ExitStack, service: str) -> ChildServer:
        args = self.command(service)
        assert args[0] == "serve", f"{service} is not a server"
        return stack.enter_context(spawned(serve_command(*args[1:]), self.workdir, service))

    def healthy(self, service: str) -> bool:
        """Run the health check as Docker does: healthy once one of ``retries`` tries passes."""
        check = self.services[service]["healthcheck"]
        assert check["test"][:2] == ["CMD", "vfl"]
        tries = range(check["retries"])
        return any(self.run(service, check["test"][2:]).exit_code == 0 for _ in tries)


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.stderr
    return result.stdout


def load_compose(workdir: Path) -> LocalCompose:
    return LocalCompose(yaml.safe_load((ROOT / "docker-compose.yml").read_text()), workdir)


def test_each_party_mounts_only_its_own_data_and_key(tmp_path: Path) -> None:
    compose = load_compose(tmp_path)
    for name in ("passive-0", "passive-1", "active"):
        mounts = {m.split(":")[0]: m.split(":")[1] for m in compose.services[name]["volumes"]}
        assert mounts == {
            f"./deploy-data/{name}": "/data",
            f"./certs/{name}": "/certs",
            f"{name}-state": "/state",
        }
        assert compose.services[name]["restart"] == "unless-stopped"
    assert compose.services["align"]["command"] == ["align"]


@pytest.mark.slow
def test_compose_services_align_train_predict_and_unlearn_through_the_cli(
    tmp_path: Path,
) -> None:
    compose = load_compose(tmp_path)
    make_bank_split(tmp_path / "deploy-data", customers=600, seed=0)
    certs_job = compose.services["certs"]["command"]
    _ok(compose.run("certs", certs_job))
    assert "keeping it" in _ok(compose.run("certs", certs_job))  # a re-run job is harmless

    with ExitStack() as stack:
        passives = [compose.start(stack, s) for s in ("passive-0", "passive-1")]
        for child in passives:
            compose.ports[child.name] = child.port()
            assert compose.healthy(child.name)
        active = compose.start(stack, "active")
        compose.ports["active"] = active.port()
        assert compose.healthy("active")

        def operator(*args: str) -> Result:
            return compose.run("operator", list(args))

        assert "aligned:" in _ok(compose.run("align", compose.services["align"]["command"]))
        train_id = _ok(operator("train", "--epochs", "3", "--wait", "--quiet")).split()[0]
        predict = ("predict", "--ids", "/data/score-ids.txt", "--out", "/data/pred.csv", "--quiet")
        _ok(operator(*predict))
        first = (tmp_path / "deploy-data/operator/pred.csv").read_text().splitlines()
        assert first[0] == "id,predicted,p_card,p_loan,p_mortgage,p_savings" and len(first) == 201
        unlearn = operator("unlearn", "--class", "1", "--wait", "--quiet")
        unlearn_id = _ok(unlearn).split()[0]  # the id, then the final metrics table
        assert "unlearned (luv)" in unlearn.stdout
        _ok(operator(*predict))
        second = (tmp_path / "deploy-data/operator/pred.csv").read_text().splitlines()
        assert [r.split(",")[0] for r in second] == [r.split(",")[0] for r in first]
        assert not [r for r in second[1:] if r.split(",")[1] == "loan"]  # class 1 is forgotten

        records = json.loads(_ok(operator("requests", "list", "--json")))
        assert [(r["id"], r["status"]) for r in records] == [
            (train_id, "committed"),
            (unlearn_id, "committed"),
        ]
        shown = json.loads(_ok(operator("requests", "show", unlearn_id, "--json")))
        assert shown["after"]["forget_acc"] < shown["before"]["forget_acc"]
        parties = {"passive-0", "passive-1", "active-features", "active"}
        assert set(shown["digests_after"]) == parties
        assert all(shown["digests_after"][p] != shown["digests_before"][p] for p in parties)

        status = json.loads(_ok(operator("status", "--json")))
        versions = {p["party_id"]: p["version"] for p in status["parties"]}
        assert set(versions) == parties and len(set(versions.values())) == 1
        version = versions["active"]
        assert version >= 2  # at least one commit per request
        assert {p["party_id"]: p["digest"] for p in status["parties"]} == shown["digests_after"]

        bad = operator("unlearn", "--class", "42")
        assert bad.exit_code == 2 and "out of range" in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
        intruder = compose.run(  # a party's own certificate is not an operator's
            "operator", ["status"], VFL_IDENTITY="passive-0",
            VFL_CERTS=str(tmp_path / "certs" / "passive-0"),
        )  # fmt: skip
        assert intruder.exit_code == 2 and "only operator certificates" in intruder.stderr
        children = [*passives, active]

    for child in children:  # SIGTERM: a clean, graceful exit
        assert child.proc.returncode == 0, child.log.read_text()[-2000:]
    for service, name in (("passive-0", "passive-0"), ("active", "active")):
        state = load_checkpoint(tmp_path / f"{service}-state" / f"{name}.pt")
        assert state["version"] == version
        assert state_digest(state["model"]) == shown["digests_after"][name]
