"""The knobs of an unlearning request.

Kept apart from :mod:`vfl.unlearning.base` (which re-exports it) because it
needs no torch: the CLI reads its defaults to build ``--help``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["UnlearnConfig"]


class UnlearnConfig(BaseModel):
    """Knobs of the few-shot methods; each method reads the ones it uses.

    The defaults are LUV's tuned values (see the README's "Tuning" section).
    """

    model_config = ConfigDict(frozen=True)

    forget_samples: int = Field(40, ge=2, description="few-shot forget samples per class")
    recovery_per_class: int = Field(3, ge=0, description="retained samples per remaining class")
    lambdas: tuple[float, ...] = (0.25, 0.5, 0.75)
    alpha: float = Field(1.0, gt=0, description="Beta(alpha, alpha) for recovery mixup")
    epochs: int = Field(20, ge=1, le=10_000, description="upper bound on unlearning epochs")
    optimizer: Literal["sgd", "adam"] = "adam"
    lr: float = Field(5e-3, gt=0, le=10)
    momentum: float = Field(0.9, ge=0, lt=1)
    bottom_lr_scale: float = Field(0.01, ge=0, le=10, description="passive lr = lr * this")
    ce_cap: float = Field(2.0, gt=0, description="ascent stops per sample past this CE")
    entropy_weight: float = Field(0.5, ge=0, description="also raise prediction entropy")
    forget_target: float = Field(0.0, ge=0, le=1, description="stop at this forget-class acc")
    patience: int = Field(
        0,
        ge=0,
        description="epochs to keep going once the target is met (the gauge already includes "
        "held-out forget samples)",
    )
    check_per_class: int = Field(
        20, ge=1, description="held-out retained samples per class that gauge collateral damage"
    )
    max_check_rise: float = Field(
        0.02, ge=0, description="per forgotten class: repair, then undo, if check CE rises past it"
    )
    repair_steps: int = Field(
        3, ge=0, description="recovery steps an epoch may take to bring the check CE back"
    )
