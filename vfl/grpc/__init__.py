"""The gRPC transport: wire contract stubs, serde, mTLS, the passive-party client.

Importing this package registers nothing; the transport registry loads
:func:`vfl.grpc.local.local_grpc_federation` lazily as ``"grpc"``.
"""

from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.errors import (
    PartyUnavailableError,
    PeerRejectedError,
    RemoteCallError,
    RemoteNotFoundError,
    RemoteProtocolError,
    WireFormatError,
)
from vfl.grpc.tls import TLSConfig

__all__ = [
    "GrpcPassiveClient",
    "PartyUnavailableError",
    "PeerRejectedError",
    "RemoteCallError",
    "RemoteNotFoundError",
    "RemoteProtocolError",
    "TLSConfig",
    "WireFormatError",
]
