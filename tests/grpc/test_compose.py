"""docker-compose.yml, run without Docker: each service's command as a local process.

Hostnames become 127.0.0.1, every listen port becomes one the OS picks (the
servers report it), volumes become temp folders. Then the operator service's
CLI trains and unlearns through the coordinator, exactly as documented.
"""

from __future__ import annotations

import json
import re
from contextlib import ExitStack
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

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
            out[mount].mkdir(exist_ok=True)
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


@pytest.mark.slow
def test_compose_services_train_and_unlearn_through_the_cli(tmp_path: Path) -> None:
    compose = LocalCompose(yaml.safe_load((ROOT / "docker-compose.yml").read_text()), tmp_path)
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

        train_id = _ok(operator("train", "--epochs", "2", "--wait", "--quiet")).split()[0]
        unlearn = operator("unlearn", "--class", "3", "--wait", "--quiet")
        unlearn_id = _ok(unlearn).strip()
        assert "unlearned (luv)" in unlearn.stderr  # the final metrics table

        records = json.loads(_ok(operator("requests", "list", "--json")))
        assert [(r["id"], r["status"]) for r in records] == [
            (train_id, "committed"),
            (unlearn_id, "committed"),
        ]
        shown = json.loads(_ok(operator("requests", "show", unlearn_id, "--json")))
        assert shown["after"]["forget_acc"] < shown["before"]["forget_acc"]
        parties = {"passive-0", "passive-1", "active"}
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
        intruder = compose.run("operator", ["status"], VFL_IDENTITY="passive-0")
        assert intruder.exit_code == 2 and "only operator certificates" in intruder.stderr
        children = [*passives, active]

    for child in children:  # SIGTERM: a clean, graceful exit
        assert child.proc.returncode == 0, child.log.read_text()[-2000:]
    for service, name in (("passive-0", "passive-0"), ("active", "active")):
        state = load_checkpoint(tmp_path / f"{service}-state" / f"{name}.pt")
        assert state["version"] == version
        assert state_digest(state["model"]) == shown["digests_after"][name]
