"""Unlearning methods (LUV and baselines) behind one registry.

Every name is imported on first use (see :mod:`vfl.lazy`): the registry and
:class:`UnlearnConfig` need no torch, so the CLI can list the methods and read
the defaults without loading the methods themselves.
"""

from vfl.lazy import lazy_exports

_EXPORTS = {
    "MixPlan": "vfl.unlearning.mixup",
    "UnlearnConfig": "vfl.unlearning.config",
    "UnlearningContext": "vfl.unlearning.base",
    "UnlearningMethod": "vfl.unlearning.base",
    "all_pairs_plan": "vfl.unlearning.mixup",
    "get_method": "vfl.unlearning.registry",
    "identity_plan": "vfl.unlearning.objectives",
    "method_names": "vfl.unlearning.registry",
    "mix": "vfl.unlearning.mixup",
    "mixup_objective": "vfl.unlearning.objectives",
    "partner_plan": "vfl.unlearning.mixup",
    "register_method": "vfl.unlearning.registry",
    "validate_classes": "vfl.unlearning.base",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
