"""Bottom models: each passive party maps its own columns to an embedding.

:mod:`vfl.models.registry` maps ``--model`` names to builders (the two below,
and any plug-in's); ``auto`` picks the CNN for images with at least 16 pixels
on each side and the MLP otherwise.
"""

from __future__ import annotations

import math

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import nn

from vfl.errors import ConfigError
from vfl.models.registry import AUTO, BOTTOM_MODELS, bottom_model_names

__all__ = [
    "BottomModelConfig",
    "bottom_model_names",
    "build_bottom_model",
    "build_cnn",
    "build_mlp",
    "resolve_model_name",
]


class BottomModelConfig(BaseModel):
    """Architecture of every passive party's bottom model."""

    model_config = ConfigDict(frozen=True)

    name: str = AUTO
    embed_dim: int = Field(64, ge=2, le=4096)
    hidden: int = Field(128, ge=2, le=8192)

    @field_validator("name")
    @classmethod
    def _registered(cls, name: str) -> str:
        if name != AUTO and name not in BOTTOM_MODELS:
            raise ValueError(
                f"unknown model {name!r}; choose one of: {', '.join(bottom_model_names())}"
            )
        return name


def resolve_model_name(name: str, feature_shape: tuple[int, ...]) -> str:
    """Turn ``auto`` into a concrete architecture for this party's features."""
    if name != AUTO:
        return name
    is_big_image = (
        len(feature_shape) == 3 and min(feature_shape[1:]) >= 8 and feature_shape[1] >= 16
    )
    return "cnn" if is_big_image else "mlp"


def build_bottom_model(feature_shape: tuple[int, ...], cfg: BottomModelConfig) -> nn.Module:
    """Build the bottom model for one party's ``feature_shape`` (without the batch axis)."""
    return BOTTOM_MODELS.get(resolve_model_name(cfg.name, feature_shape))(feature_shape, cfg)


def build_mlp(feature_shape: tuple[int, ...], cfg: BottomModelConfig) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(math.prod(feature_shape), cfg.hidden),
        nn.BatchNorm1d(cfg.hidden),
        nn.ReLU(),
        nn.Linear(cfg.hidden, cfg.embed_dim),
    )


def build_cnn(feature_shape: tuple[int, ...], cfg: BottomModelConfig) -> nn.Module:
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
