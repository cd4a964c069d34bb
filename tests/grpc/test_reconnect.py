"""A restarted passive party is reachable again over the old channel within a second or two."""

from __future__ import annotations

import socket
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.fixtures.pki import SPEC
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.errors import PartyUnavailableError
from vfl.grpc.local import LOOPBACK, spawn_passive
from vfl.grpc.tls import TLSConfig

DOWN_SECONDS = 10.0
"""Long enough for gRPC's default backoff (1 s x 1.6 per failure) to pass 4 s."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def seconds_until_reachable(client: GrpcPassiveClient, limit: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        try:
            client.info()
            return time.monotonic() - start
        except PartyUnavailableError:
            time.sleep(0.05)
    return float("inf")


@pytest.mark.slow
def test_a_restarted_party_is_reachable_again_within_two_seconds(
    certs: Path, tmp_path: Path
) -> None:
    listen = ["--listen", f"{LOOPBACK}:{free_port()}"]
    target = listen[1]
    for run in ("a", "b"):  # one directory per run: each writes its own ready file
        (tmp_path / run).mkdir()
    with ExitStack() as stack:
        first = spawn_passive(stack, SPEC, "passive-0", certs, tmp_path / "a", extra=listen)
        first.port()
        tls = TLSConfig(certs=certs, identity="active")
        client = GrpcPassiveClient("passive-0", target, tls, timeout=10)
        stack.callback(client.close)
        client.info()
        first.proc.kill()
        first.proc.wait()
        down_until = time.monotonic() + DOWN_SECONDS
        while time.monotonic() < down_until:  # calls fail; the channel backs off
            with pytest.raises(PartyUnavailableError):
                client.info()
            time.sleep(0.2)
        second = spawn_passive(stack, SPEC, "passive-0", certs, tmp_path / "b", extra=listen)
        second.port()  # the restarted party serves (its ready file is written)
        assert seconds_until_reachable(client, limit=15.0) < 2.0
