"""Requests end to end: records, journals, receipts, the runner and restart recovery.

A train or unlearn request is all-or-nothing across organisations, so it is a
transaction: journaled (:mod:`vfl.txn.journal`, :mod:`vfl.txn.sqlite`), run
one at a time by :mod:`vfl.txn.runner` with two-phase commit over the parties'
versioned ``begin/prepare/commit/abort`` verbs, finished after a crash by
:mod:`vfl.txn.recovery`, and vouched for by a signed receipt
(:mod:`vfl.txn.receipts`). Nothing here imports a transport: the gRPC server
and the operator client convert these records to and from their messages.
"""
