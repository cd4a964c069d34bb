"""Unlearning methods (LUV and baselines) behind one registry.

Every name is imported on first use (see :mod:`vfl.lazy`): the registry and
:class:`UnlearnConfig` need no torch, so the CLI can list the methods and read
the defaults without loading the methods themselves.
"""

from vfl.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "vfl.unlearning.base": ("UnlearningContext", "UnlearningMethod", "validate_classes"),
        "vfl.unlearning.config": ("UnlearnConfig",),
        "vfl.unlearning.mixup": ("MixPlan", "all_pairs_plan", "mix", "partner_plan"),
        "vfl.unlearning.objectives": ("identity_plan", "mixup_objective"),
        "vfl.unlearning.registry": (
            "METHODS",
            "create_method",
            "get_method",
            "method_names",
            "register_method",
        ),
    },
)
