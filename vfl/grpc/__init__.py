"""The gRPC transport: wire contract stubs, serde, mTLS, the passive-party client.

Importing this package registers nothing; the transport registry loads
:func:`vfl.grpc.local.local_grpc_federation` lazily as ``"grpc"``. The names
below are imported on first use (see :mod:`vfl.lazy`), so ``vfl.grpc.tls`` and
the operator client do not pull in torch through :mod:`vfl.grpc.client`.
"""

from vfl.lazy import lazy_exports

_EXPORTS = {
    "GrpcPassiveClient": "vfl.grpc.client",
    "PartyUnavailableError": "vfl.grpc.errors",
    "PeerRejectedError": "vfl.grpc.errors",
    "RemoteCallError": "vfl.grpc.errors",
    "RemoteNotFoundError": "vfl.grpc.errors",
    "RemoteProtocolError": "vfl.grpc.errors",
    "TLSConfig": "vfl.grpc.tls",
    "WireFormatError": "vfl.grpc.errors",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
