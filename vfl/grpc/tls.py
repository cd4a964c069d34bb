"""Mutual TLS for every connection, and who may call which service.

:class:`TLSConfig` names a certificate folder (made by ``vfl certs init``) and
this process's identity. Servers require a client certificate from the same CA;
:class:`PeerGuard` then reads the peer's identity from that certificate and
refuses everyone its policy does not name (PERMISSION_DENIED). ``insecure``
turns all of this off for local development only, with a loud warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from pydantic import BaseModel, ConfigDict

from vfl.errors import ConfigError
from vfl.grpc.address import check_address
from vfl.grpc.certs import CA_NAME, Identity, identity_of_pem, server_name

__all__ = ["InsecureTransportWarning", "PeerGuard", "TLSConfig", "is_active_party", "is_operator"]

HEALTH_PREFIX = "/grpc.health.v1.Health/"


class InsecureTransportWarning(UserWarning):
    """Plaintext gRPC: anyone on the network can read embeddings and impersonate parties."""


class TLSConfig(BaseModel):
    """Where this process's certificates are and which identity it is."""

    model_config = ConfigDict(frozen=True)

    certs: Path | None = None
    identity: str = ""
    insecure: bool = False

    def checked(self) -> TLSConfig:
        """Fail early with the fix when neither certificates nor ``insecure`` are given."""
        if self.insecure:
            warnings.warn(
                "--insecure: gRPC runs WITHOUT TLS or peer checks; use it only for local "
                "development (create certificates with `vfl certs init`)",
                InsecureTransportWarning,
                stacklevel=2,
            )
            return self
        if self.certs is None or not self.identity:
            raise ConfigError(
                "mutual TLS needs --certs DIR and --identity NAME (create them with "
                "`vfl certs init`), or pass --insecure for local development"
            )
        for name in (f"{CA_NAME}.crt", f"{self.identity}.crt", f"{self.identity}.key"):
            if not (self.certs / name).is_file():
                raise ConfigError(f"{self.certs / name} is missing; run `vfl certs init`")
        return self

    def _read(self, name: str) -> bytes:
        assert self.certs is not None
        try:
            return (self.certs / name).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {self.certs / name}: {exc.strerror or exc}") from None

    def server_credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self._read(f"{self.identity}.key"), self._read(f"{self.identity}.crt"))],
            root_certificates=self._read(f"{CA_NAME}.crt"),
            require_client_auth=True,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self._read(f"{CA_NAME}.crt"),
            private_key=self._read(f"{self.identity}.key"),
            certificate_chain=self._read(f"{self.identity}.crt"),
        )

    def open_channel(
        self, target: str, server_identity: str, options: list[tuple[str, Any]]
    ) -> grpc.Channel:
        """A channel to ``target`` that only accepts a server certified as ``server_identity``."""
        check_address(target)
        options = [*options, *RECONNECT]
        if self.insecure:
            return grpc.insecure_channel(target, options=options)
        options = [*options, ("grpc.ssl_target_name_override", server_name(server_identity))]
        return grpc.secure_channel(target, self.channel_credentials(), options=options)

    def add_port(self, server: grpc.Server, address: str) -> int:
        if self.insecure:
            return server.add_insecure_port(address)
        return server.add_secure_port(address, self.server_credentials())


RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 1000),
]
"""Reconnect at least once a second: gRPC's default backoff grows to minutes, so a
restarted party stayed unreachable ~10 s after it served again (a connection
attempt is cheap next to a party being reported down)."""


def is_active_party(peer: Identity) -> bool:
    return peer == Identity("active", "party")


def is_operator(peer: Identity) -> bool:
    return peer.role == "operator"


class PeerGuard(grpc.ServerInterceptor):
    """Let a call through only if the client certificate's identity passes ``allow``.

    Health checks are exempt (any certificate from the CA may ask), so probes
    can run with any identity.
    """

    def __init__(self, allow: Callable[[Identity], bool], allowed: str) -> None:
        self._allow = allow
        self._allowed = allowed

    def _check(self, context: grpc.ServicerContext) -> None:
        pems = context.auth_context().get("x509_pem_cert")
        if not pems:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "a client certificate is required")
        peer = identity_of_pem(pems[0])
        if peer is None or not self._allow(peer):
            context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{peer or 'this certificate'} may not call this service; only {self._allowed}",
            )

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(HEALTH_PREFIX):
            return handler
        return _guarded(handler, self._check)


def _guarded(handler: grpc.RpcMethodHandler, check: Callable[[Any], None]) -> Any:
    """The same handler, calling ``check(context)`` first (unary and server-streaming)."""
    if handler.unary_unary is not None:
        inner, factory = handler.unary_unary, grpc.unary_unary_rpc_method_handler
    elif handler.unary_stream is not None:
        inner, factory = handler.unary_stream, grpc.unary_stream_rpc_method_handler
    else:  # no client-streaming methods in vfl.v1
        raise ConfigError("PeerGuard supports unary and server-streaming methods only")

    def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
        check(context)
        return inner(request, context)

    return factory(
        behaviour,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
