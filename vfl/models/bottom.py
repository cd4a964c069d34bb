"""Bottom models: each passive party maps its own columns to an embedding.

A registry maps ``--model`` names to builders; ``auto`` picks the CNN for
images with at least 16 pixels on each side and the MLP otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from vfl.errors import ConfigError

__all__ = ["BottomModelConfig", "bottom_model_names", "build_bottom_model", "resolve_model_name"]


class BottomModelConfig(BaseModel):
    """Architecture of every passive party's bottom model."""

    model_config = ConfigDict(frozen=True)

    name: Literal["auto", "mlp", "cnn"] = "auto"
    embed_dim: int = Field(64, ge=2, le=4096)
    hidden: int = Field(128, ge=2, le=8192)


Builder = Callable[[tuple[int, ...], BottomModelConfig], nn.Module]
_BUILDERS: dict[str, Builder] = {}


def _register(name: str) -> Callable[[Builder], Builder]:
    def wrap(fn: Builder) -> Builder:
        _BUILDERS[name] = fn
        return fn

    return wrap


def bottom_model_names() -> list[str]:
    return ["auto", *sorted(_BUILDERS)]


def resolve_model_name(name: str, feature_shape: tuple[int, ...]) -> str:
    """Turn ``auto`` into a concrete architecture for this party's features."""
    if name != "auto":
        return name
    is_big_image = (
        len(feature_shape) == 3 and min(feature_shape[1:]) >= 8 and feature_shape[1] >= 16
    )
    return "cnn" if is_big_image else "mlp"


def build_bottom_model(feature_shape: tuple[int, ...], cfg: BottomModelConfig) -> nn.Module:
    """Build the bottom model for one party's ``feature_shape`` (without the batch axis)."""
    name = resolve_model_name(cfg.name, feature_shape)
    if name not in _BUILDERS:
        raise ConfigError(
            f"unknown model {cfg.name!r}; choose one of: {', '.join(bottom_model_names())}"
        )
    return _BUILDERS[name](feature_shape, cfg)


@_register("mlp")
def _mlp(feature_shape: tuple[int, ...], cfg: BottomModelConfig) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(math.prod(feature_shape), cfg.hidden),
        nn.BatchNorm1d(cfg.hidden),
        nn.ReLU(),
        nn.Linear(cfg.hidden, cfg.embed_dim),
    )


@_register("cnn")
def _cnn(feature_shape: tuple[int, ...], cfg: BottomModelConfig) -> nn.Module:
    if len(feature_shape) != 3:
        raise ConfigError(
            f"the cnn model needs image features [C, H, W], got {list(feature_shape)}"
        )
    channels = feature_shape[0]
    trunk = nn.Sequential(
        nn.Conv2d(channels, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.Flatten(),
    )
    with torch.no_grad():
        flat = trunk(torch.zeros(2, *feature_shape)).shape[1]
    return nn.Sequential(
        trunk, nn.Linear(flat, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, cfg.embed_dim)
    )
