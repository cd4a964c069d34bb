"""Privacy audits from a passive party's seat, and the defenses that answer them.

Importing this package registers every attack (label leakage, forget-ID
disclosure, forgotten-class guess, model completion, linear probe) and the
gradient defenses. The orchestrator lives in :mod:`vfl.audit.run` (imported on
demand: it pulls in the unlearning methods, which themselves use the defenses).
"""

from vfl.audit import depth as _depth  # noqa: F401  (registers attacks)
from vfl.audit import disclosure as _disclosure  # noqa: F401
from vfl.audit import leakage as _leakage  # noqa: F401
from vfl.audit.base import (
    Attack,
    AuditView,
    Finding,
    attack_names,
    get_attack,
    register_attack,
)
from vfl.audit.defenses import (
    Defense,
    DefenseConfig,
    defense_names,
    equalize_norms,
    gaussian_noise,
    get_defense,
    max_norm,
)

__all__ = [
    "Attack",
    "AuditView",
    "Defense",
    "DefenseConfig",
    "Finding",
    "attack_names",
    "defense_names",
    "equalize_norms",
    "gaussian_noise",
    "get_attack",
    "get_defense",
    "max_norm",
    "register_attack",
]
