"""The runnable party roles: gRPC servers that forward to the library.

``parties.passive_server`` serves one :class:`vfl.party.PassiveParty`;
``parties.active_server`` serves the label holder and the operators'
coordinator API. Both are thin: decoding lives in :mod:`vfl.grpc.serde`, the
requests in :mod:`vfl.txn`, the work in :mod:`vfl`. Each file's name says
which side it runs on (the library's parties are :mod:`vfl.party.active` and
:mod:`vfl.party.passive`).
"""
