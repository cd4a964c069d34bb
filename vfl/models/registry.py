"""The registry of bottom models: name -> builder (entry points: ``vfl.bottom_models``).

A builder is ``build(feature_shape, cfg) -> nn.Module``: ``feature_shape`` is one
party's features without the batch axis, ``cfg`` its
:class:`~vfl.models.bottom.BottomModelConfig` (embedding width, hidden width).
Listing the names imports no torch; ``auto`` is not an entry but a choice made
per party (:func:`vfl.models.bottom.resolve_model_name`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from vfl.registry import Registry

if TYPE_CHECKING:
    from torch import nn

    from vfl.models.bottom import BottomModelConfig

__all__ = ["AUTO", "BOTTOM_MODELS", "BottomModelBuilder", "bottom_model_names"]

AUTO = "auto"
BottomModelBuilder: TypeAlias = "Callable[[tuple[int, ...], BottomModelConfig], nn.Module]"
BOTTOM_MODELS: Registry[BottomModelBuilder] = Registry(
    "model",
    "vfl.bottom_models",
    {"cnn": "vfl.models.bottom:build_cnn", "mlp": "vfl.models.bottom:build_mlp"},
)


def bottom_model_names() -> list[str]:
    """What ``--model`` accepts: ``auto`` and every registered builder."""
    return [AUTO, *BOTTOM_MODELS.names()]
