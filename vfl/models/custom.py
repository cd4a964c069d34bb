"""Your own models: the one contract for bottom and top models that vfl did not ship.

A **bottom model** (``--model``, ``model=`` in :mod:`vfl.api`) is one of

* a registered name: ``auto``, ``mlp``, ``cnn`` or a plug-in's (entry points
  ``vfl.bottom_models``, :mod:`vfl.models.registry`);
* a ``"module:attr"`` reference such as ``my_pkg.models:Tower``, imported when
  the federation is configured (the current directory is importable, as with
  ``python -m``). ``attr`` is either

  - a **builder** ``build(feature_shape, cfg) -> nn.Module``, what the registry
    holds: ``feature_shape`` is one party's features without the batch axis
    (``(32,)`` for a band of table columns, ``(1, 28, 14)`` for a band of an
    image), ``cfg`` that party's :class:`~vfl.models.bottom.BottomModelConfig`
    (``embed_dim``, ``hidden``); or
  - an ``nn.Module`` **subclass**, constructed as
    ``Tower(feature_shape=feature_shape, embed_dim=embed_dim)``;
* in Python only, such a builder or class itself (any callable). It cannot
  cross to another process, so the ``grpc`` and ``flower`` transports refuse it
  and want the reference.

It maps a float32 batch ``[batch, *feature_shape]`` to ``[batch, embed_dim]``.

A **top model** (``--top-model``, ``top_model=``) is a reference or (Python) a
callable ``build(in_features, n_classes) -> nn.Module``, called positionally,
so an ``nn.Module`` subclass with that ``__init__`` is one. It maps
``[batch, in_features]`` -- every party's embedding concatenated in party
order -- to ``[batch, n_classes]`` logits. Forgetting-depth probes read its
penultimate layer: the module's own ``penultimate(x)`` if it has one, else all
but the last module of an ``nn.Sequential``.
The active party trains it in train mode in every step, unlearning included,
so keep BatchNorm out of it (the built-in has none): LUV's batches of only a few
forget samples would move its statistics.

Every model is checked when it is built, before any training: two zero rows
go through it in eval mode and must come out in the shape above. An import
error, a missing attribute, a constructor that fails or a wrong shape is one
:class:`~vfl.errors.ConfigError` naming the model.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeAlias

import torch
from torch import nn

from vfl.errors import ConfigError, VFLError
from vfl.lazy import resolve

__all__ = [
    "ModelChoice",
    "check_output",
    "describe",
    "guarded_build",
    "is_module_class",
    "is_reference",
    "probe_batch",
    "resolve_reference",
]

ModelChoice: TypeAlias = "str | Callable[..., nn.Module]"
"""A model as a user gives it: a name or ``"module:attr"`` reference, or (Python) a callable."""

PROBE_ROWS = 2  # BatchNorm in eval mode takes any batch; two rows tell batch from width


def is_reference(name: str) -> bool:
    """``"module:attr"`` (a registered name has no colon)."""
    return ":" in name


def describe(model: object) -> str:
    """How an error names ``model``: the reference as given, or a callable's ``module:qualname``."""
    if isinstance(model, str):
        return repr(model)
    name = getattr(model, "__qualname__", None) or type(model).__qualname__
    return f"{getattr(model, '__module__', '?')}:{name}"


def resolve_reference(reference: str, role: str) -> Callable[..., Any]:
    """Import ``"module:attr"`` for a ``role`` (``"bottom model"``, ``"top model"``).

    Every way it can fail is one :class:`ConfigError` naming the reference, so a
    typo is reported when the federation is configured, not mid-run.
    """
    module, sep, attr = reference.partition(":")
    label = f"{role} {reference!r}"
    if not sep or not module or not attr:
        raise ConfigError(f"{label}: write it as 'package.module:attr'")
    _cwd_importable()
    try:
        obj = resolve(reference)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{label}: cannot import {module} ({exc})") from None
    except ImportError:
        raise ConfigError(f"{label}: module {module} has no attribute {attr!r}") from None
    except Exception as exc:  # the user's module failed while it was imported
        raise ConfigError(f"{label}: importing {module} failed ({_why(exc)})") from None
    if not callable(obj):
        raise ConfigError(
            f"{label} is the {type(obj).__name__} {obj!r}: give a builder function or an "
            "nn.Module class"
        )
    return obj


def _cwd_importable() -> None:
    """Put the current directory on ``sys.path`` (last), as ``python -m`` would.

    The ``vfl`` console script does not, and ``--model my_pkg.models:Tower``
    run next to ``my_pkg/`` should find it; appended, it shadows nothing installed.
    """
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)


def is_module_class(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, nn.Module)


def guarded_build(label: str, build: Callable[[], object]) -> nn.Module:
    """Call a user's builder; whatever it raises (a bad signature too) is one ConfigError."""
    try:
        module = build()
    except VFLError:
        raise
    except Exception as exc:
        raise ConfigError(f"{label}: building it failed ({_why(exc)})") from exc
    if not isinstance(module, nn.Module):
        raise ConfigError(f"{label} returned a {type(module).__name__}, not an nn.Module")
    return module


def check_output(module: nn.Module, probe: torch.Tensor, width: int, label: str, what: str) -> None:
    """Run ``probe`` through ``module`` in eval mode; the output must be ``[rows, width]``.

    Eval mode and ``no_grad`` leave BatchNorm statistics and autograd untouched,
    and no random numbers are drawn, so the check does not change training.
    (A lazy module is materialised here, under the party's seed.)
    """
    training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(probe)
    except Exception as exc:
        raise ConfigError(
            f"{label}: a forward pass of a {list(probe.shape)} batch failed ({_why(exc)})"
        ) from exc
    finally:
        module.train(training)
    expected = [probe.shape[0], width]
    if not isinstance(out, torch.Tensor):
        raise ConfigError(f"{label} must return a tensor [batch, {what}], got {type(out).__name__}")
    if list(out.shape) != expected or not out.is_floating_point():
        raise ConfigError(
            f"{label} must map a {list(probe.shape)} batch to {expected} (batch x {what}), "
            f"got {list(out.shape)} {str(out.dtype).removeprefix('torch.')}"
        )


def probe_batch(feature_shape: tuple[int, ...]) -> torch.Tensor:
    """The zero rows :func:`check_output` sends: float32, as every dataset's features are."""
    return torch.zeros(PROBE_ROWS, *feature_shape)


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
