"""Privacy audits from a passive party's seat, and the defenses that answer them.

The attacks (label leakage, forget-ID disclosure, forgotten-class guess, model
completion, linear probe; :mod:`vfl.audit.base` says what one is) and the
gradient defenses (:mod:`vfl.audit.defenses`) are listed in
:mod:`vfl.audit.registry`, which imports each one's module when it is asked
for, so the CLI lists them without loading torch. The orchestrator lives in
:mod:`vfl.audit.run`. Importing this package imports nothing.
"""
