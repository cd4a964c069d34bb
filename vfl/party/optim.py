"""How a party updates its model: one config object for optimizer and norm layers."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

__all__ = ["UpdateConfig", "build_optimizer", "set_mode", "set_training"]


class UpdateConfig(BaseModel):
    """Optimizer settings plus how norm layers behave while gradients are recorded.

    ``freeze_norm_stats``: when true, a party embeds for backward with its
    model in eval mode, so BatchNorm uses and keeps its running statistics and
    dropout is off. Unlearning turns this on: its batches hold only a few
    samples of a few classes, and letting them overwrite the running mean and
    variance would damage every class, not just the forgotten one.
    """

    model_config = ConfigDict(frozen=True)

    optimizer: Literal["sgd", "adam"] = "adam"
    lr: float = Field(1e-3, gt=0, le=10, allow_inf_nan=False)
    momentum: float = Field(0.9, ge=0, lt=1, allow_inf_nan=False)
    # an L2 penalty above 1 per step shrinks every weight to nothing; inf/NaN poison it at once
    weight_decay: float = Field(0.0, ge=0, le=1, allow_inf_nan=False)
    freeze_norm_stats: bool = False


def build_optimizer(params: list[nn.Parameter], cfg: UpdateConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def set_mode(model: nn.Module, record_grad: bool, cfg: UpdateConfig) -> None:
    """Train mode only when recording gradients with live norm statistics."""
    set_training(model, record_grad and not cfg.freeze_norm_stats)


def set_training(model: nn.Module, mode: bool) -> None:
    """``model.train(mode)``, skipped when the model is in ``mode`` already.

    ``Module.train`` walks every submodule: 10-35 microseconds on a small bottom
    model, on every embed and every step, a tenth of an in-process round trip.
    The root's flag stands for the whole tree because modes only ever change
    through ``Module.train``/``eval`` on the root (here, and the model contract's
    check, which puts the root's mode back).
    """
    if model.training != mode:
        model.train(mode)
