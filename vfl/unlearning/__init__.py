"""Unlearning methods (LUV and baselines) behind one registry."""

from vfl.unlearning import boundary as _boundary  # noqa: F401  (registers boundary-shrink)
from vfl.unlearning import fewshot as _fewshot  # noqa: F401  (registers methods)
from vfl.unlearning import hiding as _hiding  # noqa: F401  (registers luv-hidden)
from vfl.unlearning import retraining as _retraining  # noqa: F401
from vfl.unlearning.base import (
    UnlearnConfig,
    UnlearningContext,
    UnlearningMethod,
    get_method,
    method_names,
    register_method,
    validate_classes,
)
from vfl.unlearning.mixup import MixPlan, all_pairs_plan, mix, partner_plan
from vfl.unlearning.objectives import identity_plan, mixup_objective

__all__ = [
    "MixPlan",
    "UnlearnConfig",
    "UnlearningContext",
    "UnlearningMethod",
    "all_pairs_plan",
    "get_method",
    "identity_plan",
    "method_names",
    "mix",
    "mixup_objective",
    "partner_plan",
    "register_method",
    "validate_classes",
]
