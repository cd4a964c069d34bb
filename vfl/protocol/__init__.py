"""The passive-party protocol: typed messages, one dispatcher, one client over any link.

``messages`` defines every operation; ``dispatch`` carries requests out on a
party; ``client`` sends them over a ``PartyLink`` (in-process here, gRPC in
:mod:`vfl.grpc.client`, Flower in :mod:`vfl.flower.client`); ``fields`` turns
messages into parts for codecs; ``errors`` is the one table of error codes.
"""
