"""The registry of unlearning methods: name -> method class (entry points: ``vfl.methods``).

The table says where each built-in method lives, so listing the names (the
CLI's help) imports no torch. A method with settings of its own declares them
as ``options_model`` (a pydantic model); :func:`create_method` validates the
user's ``method_options`` against it and returns a ready-to-run instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vfl.registry import Registry

if TYPE_CHECKING:
    from vfl.unlearning.base import UnlearningMethod

__all__ = ["METHODS", "create_method", "get_method", "method_names", "register_method"]

METHODS: Registry[type[UnlearningMethod]] = Registry(
    "method",
    "vfl.methods",
    {
        "boundary-shrink": "vfl.unlearning.boundary:BoundaryShrink",
        "finetune": "vfl.unlearning.retraining:FineTune",
        "gradient-ascent": "vfl.unlearning.fewshot:GradientAscent",
        "luv": "vfl.unlearning.fewshot:LUV",
        "luv-hidden": "vfl.unlearning.hiding:HiddenLUV",
        "luv-samples": "vfl.unlearning.samples:SampleLUV",
        "mixup-ascent": "vfl.unlearning.fewshot:MixupAscent",
        "neggrad-plus": "vfl.unlearning.samples:NegGradPlus",
        "random-label": "vfl.unlearning.fewshot:RandomLabel",
        "random-label-samples": "vfl.unlearning.samples:SampleRandomLabel",
        "retrain": "vfl.unlearning.retraining:Retrain",
    },
)
method_names = METHODS.names
get_method = METHODS.get  # the class
create_method = METHODS.create  # an instance, built with its options
register_method = METHODS.register_class
