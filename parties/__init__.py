"""The party processes: gRPC servicers that forward to the library's parties.

``parties.passive`` serves a :class:`vfl.party.PassiveParty`; ``parties.active``
serves the label holder and the operators' coordinator API. Both are thin:
validation and tensor conversion live in :mod:`vfl.grpc.serde`, the work in
:mod:`vfl`.
"""
