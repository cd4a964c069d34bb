"""The registry of unlearning methods: name -> method class.

Each built-in method registers itself with :func:`register_method` when its
module is imported; the table below says which module that is, so listing the
names (the CLI's help) imports no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vfl.registry import LazyRegistry

if TYPE_CHECKING:
    from vfl.unlearning.base import UnlearningMethod

__all__ = ["get_method", "method_names", "register_method"]

_METHODS: LazyRegistry[UnlearningMethod] = LazyRegistry(
    "method",
    {  # name -> module whose import registers it (tests check each one does)
        "boundary-shrink": "vfl.unlearning.boundary",
        "finetune": "vfl.unlearning.retraining",
        "gradient-ascent": "vfl.unlearning.fewshot",
        "luv": "vfl.unlearning.fewshot",
        "luv-hidden": "vfl.unlearning.hiding",
        "mixup-ascent": "vfl.unlearning.fewshot",
        "random-label": "vfl.unlearning.fewshot",
        "retrain": "vfl.unlearning.retraining",
    },
)
register_method = _METHODS.register
method_names = _METHODS.names
get_method = _METHODS.get
