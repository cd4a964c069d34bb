"""The registry of unlearning methods: name -> method class.

Each built-in method registers itself with :func:`register_method` when its
module is imported; :data:`_BUILTIN` says which module that is, so listing the
names (the CLI's help) imports no torch and :func:`get_method` imports a
module only when one of its methods is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from vfl.errors import ConfigError

if TYPE_CHECKING:
    from vfl.unlearning.base import UnlearningMethod

__all__ = ["get_method", "method_names", "register_method"]

_METHODS: dict[str, type[UnlearningMethod]] = {}
_BUILTIN: dict[str, str] = {
    # name -> module whose import registers it; tests check each module does
    "boundary-shrink": "vfl.unlearning.boundary",
    "finetune": "vfl.unlearning.retraining",
    "gradient-ascent": "vfl.unlearning.fewshot",
    "luv": "vfl.unlearning.fewshot",
    "luv-hidden": "vfl.unlearning.hiding",
    "mixup-ascent": "vfl.unlearning.fewshot",
    "random-label": "vfl.unlearning.fewshot",
    "retrain": "vfl.unlearning.retraining",
}


def register_method(cls: type[UnlearningMethod]) -> type[UnlearningMethod]:
    _METHODS[cls.name] = cls
    return cls


def method_names() -> list[str]:
    return sorted(set(_METHODS) | set(_BUILTIN))


def get_method(name: str) -> UnlearningMethod:
    if name not in _METHODS and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
    if name not in _METHODS:
        raise ConfigError(f"unknown method {name!r}; choose one of: {', '.join(method_names())}")
    return _METHODS[name]()
