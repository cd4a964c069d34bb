"""The gRPC transport: wire contract stubs, serde, mTLS, the passive-party client.

Importing this package registers nothing and imports nothing: the transport
registry loads :func:`vfl.grpc.local.local_grpc_federation` lazily as
``"grpc"``, and callers import the module they need (``vfl.grpc.client``,
``vfl.grpc.tls``, ``vfl.grpc.errors``, ...), so ``vfl.grpc.tls`` and the
operator client do not pull in torch through :mod:`vfl.grpc.client`.
"""
