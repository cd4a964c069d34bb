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
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from pydantic import BaseModel, ConfigDict, Field

import grpc
from vfl.grpc.tls import PeerGuard, TLSConfig
from vfl.report import write_atomic

__all__ = ["NetworkConfig", "RunningServer", "grpc_options", "run_until_signal", "start_server"]

log = logging.getLogger(__name__)
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class NetworkConfig(BaseModel):
    """Listening address, limits and TLS of one server."""

    model_config = ConfigDict(frozen=True)

    listen: str = "127.0.0.1:0"
    max_workers: int = Field(8, ge=1, le=256)
    max_message_bytes: int = Field(DEFAULT_MAX_MESSAGE_BYTES, ge=1024)
    grace_seconds: float = Field(10.0, ge=0)
    tls: TLSConfig = TLSConfig()


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
        options=grpc_options(cfg.max_message_bytes),
    )
    register(server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = tls.add_port(server, cfg.listen)
    server.start()
    running = RunningServer(server, health_servicer, port, cfg.grace_seconds)
    running.set_serving(True)
    return running


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
