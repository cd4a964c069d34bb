"""Waiting for a server to report SERVING over the standard gRPC health protocol."""

from __future__ import annotations

import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from vfl.grpc.errors import PartyUnavailableError

__all__ = ["wait_healthy"]


def wait_healthy(channel: grpc.Channel, timeout: float, peer: str) -> None:
    """Poll ``Health.Check`` until SERVING; :class:`PartyUnavailableError` after ``timeout``."""
    stub = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PartyUnavailableError(
                f"{peer} is not serving after {timeout:.0f}s ({last}) -- is it running, and do "
                "both sides use certificates from one CA?",
                grpc.StatusCode.UNAVAILABLE,
            )
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=min(remaining, 2.0))
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
            last = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        except grpc.RpcError as exc:
            last = f"{exc.code().name}: {exc.details()}" if isinstance(exc, grpc.Call) else str(exc)
        time.sleep(min(0.1, max(remaining, 0)))
