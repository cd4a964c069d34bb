"""Running a vfl gRPC server: thread pool, limits, health, signals, readiness.

Both party processes use this: :func:`start_server` builds a synchronous server
(a thread pool is the right shape for CPU-bound torch work that releases the
GIL) with explicit message-size limits, mutual TLS and the standard health
service; :func:`run_until_signal` blocks until SIGTERM/SIGINT (or the parent
process dies) and shuts down gracefully.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vfl.atomic import write_atomic
from vfl.errors import ConfigError
from vfl.grpc.address import check_address, host_and_port
from vfl.grpc.tls import PeerGuard, TLSConfig

__all__ = ["NetworkConfig", "RunningServer", "grpc_options", "run_until_signal", "start_server"]

log = logging.getLogger(__name__)
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
KEEPALIVE_SERVER = [
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 5000),
    ("grpc.http2.max_ping_strikes", 0),
]
"""Accept the operator client's keepalive pings (every 10 s, also on an idle stream):
by default a server answers pings more often than every 5 minutes with GOAWAY."""


class NetworkConfig(BaseModel):
    """Listening address, limits and TLS of one server."""

    model_config = ConfigDict(frozen=True)

    listen: str = "127.0.0.1:0"
    max_workers: int = Field(8, ge=1, le=256)
    max_message_bytes: int = Field(DEFAULT_MAX_MESSAGE_BYTES, ge=1024)
    grace_seconds: float = Field(10.0, ge=0)
    tls: TLSConfig = TLSConfig()

    @field_validator("listen")
    @classmethod
    def _listen_address(cls, value: str) -> str:
        try:
            return check_address(value, listen=True)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None


def grpc_options(max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> list[tuple[str, Any]]:
    """Options shared by servers and channels: explicit size limits both ways."""
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
    ]


@dataclass
class RunningServer:
    server: grpc.Server
    health: health.HealthServicer
    port: int
    grace_seconds: float

    def set_serving(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        self.health.set("", status)

    def stop(self) -> None:
        self.set_serving(False)
        self.server.stop(self.grace_seconds).wait()


def start_server(
    cfg: NetworkConfig, register: Callable[[grpc.Server], None], guard: PeerGuard | None
) -> RunningServer:
    """Start ``register``'s services plus health checks, behind ``guard`` unless insecure."""
    tls = cfg.tls.checked()
    interceptors = [guard] if guard is not None and not tls.insecure else []
    server = grpc.server(
        ThreadPoolExecutor(max_workers=cfg.max_workers, thread_name_prefix="vfl-rpc"),
        interceptors=interceptors,
        # gRPC sets SO_REUSEPORT by default: a second server on an occupied port
        # would bind too and silently take half of the new connections.
        options=[*grpc_options(cfg.max_message_bytes), ("grpc.so_reuseport", 0), *KEEPALIVE_SERVER],
    )
    register(server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = _bind(server, tls, cfg.listen)
    server.start()
    running = RunningServer(server, health_servicer, port, cfg.grace_seconds)
    running.set_serving(True)
    return running


def _bind(server: grpc.Server, tls: TLSConfig, address: str) -> int:
    """The bound port, or a :class:`ConfigError` naming the address (in use, or not ours).

    A plain socket tries the address first, so the common failures get the
    operating system's reason in one line (gRPC would log its own first).
    """
    _probe_bind(address)
    try:
        port = tls.add_port(server, address)
    except RuntimeError:
        port = 0
    if port == 0:
        raise ConfigError(
            f"cannot listen on {address}: the port is in use (another vfl server?) "
            "or the address is not on this machine"
        )
    return port


def _probe_bind(address: str) -> None:
    host, port = host_and_port(address, listen=True)
    if port == 0:
        return  # any free port always binds
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {address}: {exc.strerror}") from None
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # as gRPC does: a port left in TIME_WAIT by a restarted server is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(sockaddr)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {address}: {exc.strerror}") from None


def _watch_parent(stop: threading.Event) -> None:
    """Stop when the process that started us is gone (we were re-parented)."""
    parent = os.getppid()
    while not stop.wait(0.5):
        if os.getppid() != parent:
            log.warning("parent process %d exited; shutting down", parent)
            stop.set()


def run_until_signal(
    running: RunningServer,
    on_shutdown: Callable[[], None] = lambda: None,
    ready_file: Path | None = None,
    exit_with_parent: bool = False,
) -> None:
    """Block until SIGTERM/SIGINT, then report NOT_SERVING, run ``on_shutdown`` and stop.

    ``ready_file`` receives the bound port once serving, so a launcher can ask
    the OS for a free port (``:0``) without racing for it.
    """
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    # A file-size limit reached is a failed write (EFBIG), handled like a full disk,
    # not a dead server: SIGXFSZ would otherwise kill the process mid-request.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    if exit_with_parent:
        threading.Thread(target=_watch_parent, args=(stop,), daemon=True).start()
    if ready_file is not None:
        write_atomic(ready_file, lambda fh: fh.write(f"{running.port}\n".encode()))
    log.info("serving on port %d", running.port)
    stop.wait()
    log.info("shutting down")
    running.set_serving(False)
    on_shutdown()
    running.stop()
