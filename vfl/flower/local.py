"""A whole Flower deployment on loopback, yielding a Coordinator (transport ``flower``).

:func:`local_flower_federation` starts the real Flower processes -- one
``flower-superlink`` and, per passive party, one ``flower-supernode`` plus one
``python -m vfl.flower.worker`` -- on 127.0.0.1 with ports chosen by the OS,
submits the vfl Flower App with ``flwr run``, hosts that run's ServerApp in
this process (so the caller gets a live coordinator, exactly like the other
transports) and stops every process on exit, error or Ctrl-C. Children also
die with this process (``PR_SET_PDEATHSIG``) if it is killed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from vfl.coordinator import Coordinator
from vfl.data.base import Dataset
from vfl.data.tables import LabelTable
from vfl.errors import ConfigError
from vfl.federation import FederationSpec, PassiveData, check_remote_parties
from vfl.flower.client import FlowerTransportError
from vfl.flower.crypto import generate_keypair
from vfl.flower.grid import ACTIVE, ActiveKeys, open_grid_federation
from vfl.flower.runtime import hosted_serverapp
from vfl.processes import child_env, log_tail, start_child, stop_children

__all__ = ["APP_DIR", "LocalDeployment", "local_flower_federation"]

APP_DIR = Path(__file__).parent / "app"
HOST = "127.0.0.1"
CONNECTION = "vfl-local"
STARTUP_TIMEOUT = 120.0


_issued_ports: set[int] = set()


def free_port() -> int:
    """A loopback port that is free now and that this process never handed out before.

    The child binds it later, so two ports picked before either child has
    bound could otherwise be the same one.
    """
    while True:
        with socket.socket() as s:
            s.bind((HOST, 0))
            port = int(s.getsockname()[1])
        if port not in _issued_ports:
            _issued_ports.add(port)
            return port


def _executable(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise ConfigError(f"{name} not found; install the extra: pip install 'vfl[flower]'")
    return found


class LocalDeployment:
    """The processes of one local deployment, their logs, and their teardown."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            **child_env(),  # idle OpenMP threads sleep: parties share the cores
            "FLWR_HOME": str(root / "flwr-home"),
            "FLWR_TELEMETRY_ENABLED": "0",
            "FLWR_DISABLE_UPDATE_CHECK": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str]) -> None:
        log = self.root / f"{name}.log"
        proc = start_child(argv, log, env=self.env, cwd=self.root, die_with_parent=True)
        self._procs.append((name, proc))

    def check(self) -> None:
        """Raise with the log tail of the first process that exited."""
        for name, proc in self._procs:
            if proc.poll() is not None:
                raise FlowerTransportError(
                    f"{name} exited with code {proc.returncode}:\n{self.log_tail(name)}"
                )

    def log_tail(self, name: str, lines: int = 15) -> str:
        return log_tail(self.root / f"{name}.log", lines)

    def wait_for_port(self, port: int, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check()
            with socket.socket() as s:
                if s.connect_ex((HOST, port)) == 0:
                    return
            if time.monotonic() > deadline:
                raise FlowerTransportError(f"nothing listens on {HOST}:{port} after {timeout} s")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM every process group, newest first; SIGKILL what is left after 5 s."""
        stop_children([proc for _name, proc in reversed(self._procs)], grace=5)

    def submit_run(self, link_port: int) -> None:
        """``flwr run`` the vfl app against this SuperLink (creates the ServerApp task)."""
        home = Path(self.env["FLWR_HOME"])
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text(
            f'[superlink]\ndefault = "{CONNECTION}"\n\n'
            f'[superlink.{CONNECTION}]\naddress = "{HOST}:{link_port}"\ninsecure = true\n'
        )
        app = self.root / "app"
        shutil.copytree(APP_DIR, app)
        out = subprocess.run(
            [_executable("flwr"), "run", str(app), CONNECTION, "--format", "json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=STARTUP_TIMEOUT,
            check=False,
        )
        if out.returncode != 0:
            raise FlowerTransportError(f"flwr run failed:\n{out.stdout}\n{out.stderr}")


def _data_args(data: PassiveData | None) -> list[str]:
    """A worker's own table, as its command line names it."""
    if data is None:
        return []
    out = [f"--data={data.path}", f"--id-column={data.id_column}"]
    out += [f"--categorical={c}" for c in data.categorical]
    return out + ([f"--score-data={data.score}"] if data.score else [])


def _start_parties(
    dep: LocalDeployment,
    spec: FederationSpec,
    link_port: int,
    tables: dict[str, PassiveData] | None = None,
) -> None:
    keys = dep.root / "keys"
    generate_keypair(keys, ACTIVE)
    spec_file = dep.root / "federation.json"
    spec_file.write_text(spec.model_dump_json())
    record = os.environ.get("VFL_FLOWER_RECORD_DIR")  # tests: what each ClientApp receives
    for pid in spec.party_ids():
        generate_keypair(keys, pid)
        node_port = free_port()
        dep.start(
            f"supernode-{pid}",
            [
                _executable("flower-supernode"),
                "--insecure",
                "--isolation=process",
                f"--superlink={HOST}:{link_port}",
                f"--host={HOST}",
                f"--port={node_port}",
                f"--node-config=party-id='{pid}'",
            ],
        )
        worker = [sys.executable, "-m", "vfl.flower.worker"]
        worker += [f"--runtime-api-address={HOST}:{node_port}", f"--spec={spec_file}"]
        worker += [f"--party-id={pid}", f"--key={keys / (pid + '.key')}"]
        worker += [f"--active-key={keys / (ACTIVE + '.pub')}"]
        if record:
            worker.append(f"--record={Path(record) / (pid + '.jsonl')}")
        dep.start(f"worker-{pid}", worker + _data_args((tables or {}).get(pid)))


@contextmanager
def local_flower_federation(
    spec: FederationSpec,
    dataset: Dataset | None,
    keep_warm: bool = True,
    tables: dict[str, PassiveData] | None = None,
    labels: LabelTable | None = None,
) -> Iterator[Coordinator]:
    """Start SuperLink, SuperNodes and workers on loopback; yield the coordinator.

    ``keep_warm=False`` lets the SuperNodes sleep between requests (see
    :class:`~vfl.flower.client.GridLink`): only for comparisons. With ``tables``
    (party id -> its own file) and ``labels``, each worker reads only its file and
    the coordinator starts unaligned: run ``co.align(seed)`` first.
    """
    check_remote_parties(spec, dataset, "the flower transport runs each party in its own process")
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vfl-flower-")))
        dep = LocalDeployment(root)
        stack.callback(dep.stop)
        link_port = free_port()
        dep.start(
            "superlink",
            [
                _executable("flower-superlink"),
                "--insecure",
                "--isolation=process",
                "--disable-runtime-dependency-installation",
                f"--host={HOST}",
                f"--port={link_port}",
            ],
        )
        dep.wait_for_port(link_port)
        _start_parties(dep, spec, link_port, tables)
        dep.submit_run(link_port)
        grid, context = stack.enter_context(hosted_serverapp(f"{HOST}:{link_port}"))
        keys = ActiveKeys.load(root / "keys", spec.party_ids())
        try:
            co = stack.enter_context(
                open_grid_federation(
                    grid, context.run_id, spec, dataset, keys, dep.check, keep_warm, labels
                )
            )
        except Exception:
            dep.check()  # a crashed process explains the failure better
            raise
        yield co
