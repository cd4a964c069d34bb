"""Bottom models: each passive party maps its own columns to an embedding.

:mod:`vfl.models.registry` maps ``--model`` names to builders (the two below,
and any plug-in's); ``auto`` picks the CNN for images with at least 16 pixels
on each side and the MLP otherwise. A user's own model -- a ``"module:attr"``
reference or, from Python, a callable -- follows the contract in
:mod:`vfl.models.custom`; every party may have its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator
from torch import nn

from vfl.errors import ConfigError
from vfl.models.custom import (
    check_output,
    describe,
    guarded_build,
    is_module_class,
    is_reference,
    probe_batch,
    resolve_reference,
)
from vfl.models.registry import AUTO, BOTTOM_MODELS, bottom_model_names

__all__ = [
    "BottomModelConfig",
    "bottom_model_names",
    "build_bottom_model",
    "build_cnn",
    "build_mlp",
    "resolve_model_name",
]

ROLE = "bottom model"


class BottomModelConfig(BaseModel):
    """Architecture of the passive parties' bottom models.

    ``name`` is one model for every party or a tuple of one per party (in party
    order; ``"mlp,cnn"`` and a list are read as that tuple). Each is a
    registered name, a ``"module:attr"`` reference or (Python only) a callable:
    see :mod:`vfl.models.custom`. :meth:`of_party` gives one party's config,
    the one its builder receives.
    """

    model_config = ConfigDict(frozen=True)

    name: str | Callable[..., Any] | tuple[str | Callable[..., Any], ...] = AUTO
    embed_dim: int = Field(64, ge=2, le=4096)
    hidden: int = Field(128, ge=2, le=8192)

    @field_validator("name", mode="before")
    @classmethod
    def _known(cls, name: Any) -> Any:
        """Split ``"mlp,cnn"``; every name must be registered, every reference importable."""
        if isinstance(name, str) and "," in name:
            name = [part.strip() for part in name.split(",")]
        if isinstance(name, list | tuple):
            if not name:
                raise ValueError("no bottom model given")
            choices = tuple(_checked(one) for one in name)
            return choices[0] if len(choices) == 1 else choices
        return _checked(name)

    @field_serializer("name", when_used="json")
    def _as_text(self, name: Any) -> str | list[str]:
        """References stay themselves; a callable is written as its ``module:qualname``
        (for reports and cache keys -- :meth:`reference` refuses to send one)."""
        if isinstance(name, tuple):
            return [one if isinstance(one, str) else describe(one) for one in name]
        return name if isinstance(name, str) else describe(name)

    @property
    def names(self) -> tuple[str | Callable[..., Any], ...]:
        """One entry, or one per party."""
        return self.name if isinstance(self.name, tuple) else (self.name,)

    def of_party(self, index: int) -> BottomModelConfig:
        """Party ``index``'s config (the same for every party when one model is given)."""
        if not isinstance(self.name, tuple):
            return self
        return self.model_copy(update={"name": self.name[index]})

    def reference(self, why: str) -> str:
        """``--model``'s text for another process (``"mlp,my_pkg:Tower"``); a Python
        callable cannot be sent there, ``why`` says where it was going."""
        for one in self.names:
            if not isinstance(one, str):
                raise ConfigError(
                    f"{ROLE} {describe(one)} is a Python object, but {why}: give it as an "
                    "importable 'module:attr' reference instead (docs/architecture.md, "
                    "Your own models)"
                )
        return ",".join(self.names)  # type: ignore[arg-type]


def _checked(name: Any) -> str | Callable[..., Any]:
    if callable(name):
        return name
    if not isinstance(name, str):
        raise ValueError(f"a bottom model is a name or a callable, got {type(name).__name__}")
    if is_reference(name):
        resolve_reference(name, ROLE)  # fails now, naming it, rather than mid-run
    elif name != AUTO and name not in BOTTOM_MODELS:
        raise ValueError(
            f"unknown model {name!r}; choose one of: {', '.join(bottom_model_names())}, "
            "or your own as 'module:attr'"
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
    """Build one party's bottom model for its ``feature_shape`` (without the batch axis),
    checked to give ``[batch, embed_dim]`` (:mod:`vfl.models.custom`)."""
    choice = cfg.name
    if isinstance(choice, tuple):
        raise ConfigError("one bottom model per party: build from cfg.of_party(index)")
    if isinstance(choice, str) and not is_reference(choice):
        name = resolve_model_name(choice, feature_shape)
        model, label = BOTTOM_MODELS.get(name)(feature_shape, cfg), f"{ROLE} {name!r}"
    else:
        label = f"{ROLE} {describe(choice)}"
        build = resolve_reference(choice, ROLE) if isinstance(choice, str) else choice
        model = guarded_build(label, lambda: _call(build, feature_shape, cfg))
    check_output(model, probe_batch(feature_shape), cfg.embed_dim, label, "embed_dim")
    return model


def _call(build: Callable[..., Any], feature_shape: tuple[int, ...], cfg: BottomModelConfig) -> Any:
    if is_module_class(build):
        return build(feature_shape=feature_shape, embed_dim=cfg.embed_dim)
    return build(feature_shape, cfg)


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
