"""Privacy audits from a passive party's seat, and the defenses that answer them.

The attacks (label leakage, forget-ID disclosure, forgotten-class guess, model
completion, linear probe) register through :mod:`vfl.audit.registry`, which
imports each one's module when it is asked for; the gradient defenses live in
:mod:`vfl.audit.defenses`. Every name below is imported on first use (see
:mod:`vfl.lazy`), so the CLI can list attacks without loading torch. The
orchestrator lives in :mod:`vfl.audit.run`.
"""

from vfl.lazy import lazy_exports

_EXPORTS = {
    "Attack": "vfl.audit.base",
    "AuditView": "vfl.audit.base",
    "Defense": "vfl.audit.defenses",
    "DefenseConfig": "vfl.audit.config",
    "Finding": "vfl.audit.base",
    "attack_names": "vfl.audit.registry",
    "defense_names": "vfl.audit.defenses",
    "equalize_norms": "vfl.audit.defenses",
    "gaussian_noise": "vfl.audit.defenses",
    "get_attack": "vfl.audit.registry",
    "get_defense": "vfl.audit.defenses",
    "max_norm": "vfl.audit.defenses",
    "register_attack": "vfl.audit.registry",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
