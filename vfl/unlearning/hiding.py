"""LUV with the request hidden from the passive parties (``luv-hidden``).

Plain LUV runs one step on the forget set, one on a few recovery samples, and
checks its progress by predicting chosen IDs: a passive party sees the forget
IDs requested more often than anything else, alone in their batches, with
ascent gradients. Here every epoch is one step on a *cover set*:

* the few-shot forget set (mixup of all within-class pairs, as LUV), pushed
  until each virtual sample's true logit is ``margin`` below the best other
  one (a soft-plus margin loss: its gradient does not vanish on confident
  samples and is never exactly zero);
* the recovery samples plus decoys: retained training IDs, ``forget_samples``
  per retained class, so every class is equally represented in the request
  (descent, mixup with a same-class partner, as LUV's recovery).

The cover is shuffled into one batch (stratified batches when it exceeds
``max_batch``); each batch's gradient comes from one combined loss, and before
it leaves the active party every row is equalised: by default all rows get the
same norm and the same component along the batch's mean gradient, so neither
size nor agreement with the rest of the batch marks a forget row (the ascent
rows are far more coherent than descent rows on samples the model already
fits). Progress is checked by predicting the whole cover, so every ID is
requested exactly as often as every other. The price: about ``classes x
forget_samples`` IDs per step instead of LUV's few, and passive parties get
reshaped gradients (the top model still gets the exact ones), which costs
retained accuracy. Two knobs buy it back: a heavier retained part of the loss,
and passive parties stepping at a fifth of the top model's learning rate -- so
most of the forgetting happens in the top model, and a passive party's own
bottom model keeps more of what it knew (see the model-completion audit).

Limits: the cover is a small subset of all IDs, so a passive party learns
that the forget set is *among* the requested IDs (k-anonymity with ``k`` about
the number of classes), and forgotten-class IDs outside the forget set are
never requested. ``vfl audit`` reports both views.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from vfl.coordinator import GradientTransform
from vfl.gradients import equalize_alignment, equalize_norms
from vfl.party.active import Objective
from vfl.party.optim import UpdateConfig
from vfl.progress import ProgressEvent
from vfl.unlearning.base import Outcome, UnlearningContext, UnlearningMethod
from vfl.unlearning.fewshot import PLAN_SALT, RECOVERY_SALT
from vfl.unlearning.mixup import MixPlan, all_pairs_plan, mixed_logits, partner_plan
from vfl.unlearning.objectives import mixup_objective

__all__ = ["HiddenLUV", "HidingConfig", "combined_objective", "cover_batches", "margin_forget"]

DECOY_SALT, ORDER_SALT = 4, 5
EQUALIZERS: dict[str, Callable[[], GradientTransform]] = {
    "norm": equalize_norms,
    "alignment": equalize_alignment,
}


def _at(plan: MixPlan, positions: torch.Tensor) -> MixPlan:
    """Re-address a plan built on a subset of rows to those rows' batch positions."""
    return MixPlan(positions[plan.left], positions[plan.right], plan.lam, plan.labels)


def margin_forget(plan: MixPlan, margin: float) -> Objective:
    """Push each virtual forget sample's true logit ``margin`` below the best other one.

    ``softplus(z_true - max_other + margin)``: unlike cross-entropy ascent its
    gradient does not vanish on samples the model is sure of (where unlearning
    starts), and unlike a hard cap it never becomes exactly zero -- a zero row
    among non-zero ones would give the forget set away.
    """

    def objective(top: nn.Module, embeddings: list[torch.Tensor]) -> torch.Tensor:
        logits = mixed_logits(top, embeddings, plan)
        true = logits.gather(1, plan.labels.unsqueeze(1)).squeeze(1)
        is_true = F.one_hot(plan.labels, logits.shape[1]).bool()
        other = logits.masked_fill(is_true, float("-inf")).max(1).values
        return F.softplus(true - other + margin).mean()

    return objective


def combined_objective(
    forget: MixPlan, retain: MixPlan, margin: float, retain_weight: float = 1.0
) -> Objective:
    """One loss for a mixed batch: forget the forget pairs, descend on retained mixup."""
    parts = [(1.0, margin_forget(forget, margin))] if len(forget) else []
    parts += [(retain_weight, mixup_objective(retain, ascent=False))] if len(retain) else []

    def objective(top: nn.Module, embeddings: list[torch.Tensor]) -> torch.Tensor:
        return sum((w * part(top, embeddings) for w, part in parts), torch.zeros(()))

    return objective


def cover_batches(
    forget: np.ndarray, retain: np.ndarray, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Shuffled batches, each holding an even share of forget (at least 2) and retained IDs."""
    n_batches = max(1, min(-(-(forget.size + retain.size) // batch_size), forget.size // 2))
    f_parts = np.array_split(rng.permutation(forget), n_batches)
    r_parts = np.array_split(rng.permutation(retain), n_batches)
    return [rng.permutation(np.concatenate([f, r])) for f, r in zip(f_parts, r_parts, strict=True)]


class HidingConfig(BaseModel):
    """The step of ``luv-hidden``, separate from LUV's tuned step.

    One combined step per epoch on the whole cover behaves differently from
    LUV's separate forget and recovery steps, so it keeps its own optimizer
    settings and forget margin; everything else (set sizes, lambdas, alpha, epochs,
    forget target) comes from the request's :class:`UnlearnConfig`.
    """

    model_config = ConfigDict(frozen=True)

    update: UpdateConfig = UpdateConfig(optimizer="adam", lr=1e-3)
    margin: float = Field(2.0, gt=0, description="forget until true logit is this far below")
    retain_weight: float = Field(3.0, ge=0, description="weight of the retained descent part")
    passive_lr_scale: float = Field(
        0.2, gt=0, le=1, description="passive parties step at this fraction of the top's lr"
    )
    equalize: Literal["alignment", "norm", "off"] = Field(
        "alignment",
        description="alignment: equal norms and equal agreement with the batch mean "
        "(costs some retained accuracy); norm: equal norms only (directions leak)",
    )
    max_batch: int = Field(1024, ge=2, description="IDs per step; the whole cover if it fits")


class HiddenLUV(UnlearningMethod):
    """LUV whose forget, recovery and decoy IDs are indistinguishable to passive parties."""

    name = "luv-hidden"
    summary = "LUV with forget IDs hidden among decoys: one loss per mixed batch, equal norms"
    options_model = HidingConfig  # set through method_options (vfl simulate --method-option)

    def __init__(self, config: HidingConfig | None = None) -> None:
        self.config = config or HidingConfig()

    def retained_cover(self, ctx: UnlearningContext) -> np.ndarray:
        """Recovery samples plus decoys: about ``forget_samples`` IDs per retained class."""
        cfg = ctx.config
        retained = ctx.retained_classes()
        recovery = ctx.few_shot(retained, cfg.recovery_per_class, RECOVERY_SALT)
        return np.union1d(recovery, ctx.few_shot(retained, cfg.forget_samples, DECOY_SALT))

    def batch_objective(
        self,
        ctx: UnlearningContext,
        batch: np.ndarray,
        forget: np.ndarray,
        rng: np.random.Generator,
    ) -> Objective:
        labels = ctx.coordinator.active.labels_of(batch)
        is_forget = torch.from_numpy(np.isin(batch, forget))
        f_pos, r_pos = torch.nonzero(is_forget).flatten(), torch.nonzero(~is_forget).flatten()
        forget_plan = _at(all_pairs_plan(labels[f_pos], ctx.config.lambdas), f_pos)
        retain_plan = _at(partner_plan(labels[r_pos], ctx.config.alpha, rng), r_pos)
        return combined_objective(
            forget_plan, retain_plan, self.config.margin, self.config.retain_weight
        )

    def run(self, ctx: UnlearningContext) -> Outcome:
        cfg, co = ctx.config, ctx.coordinator
        forget = ctx.forget_set()
        acc = 1.0
        retain = self.retained_cover(ctx)
        plan_rng, order_rng = ctx.rng(PLAN_SALT), ctx.rng(ORDER_SALT)
        top = self.config.update.model_copy(update={"freeze_norm_stats": True})
        co.configure(top.model_copy(update={"lr": top.lr * self.config.passive_lr_scale}), top)
        guard = (
            co.transforming(EQUALIZERS[self.config.equalize]())
            if self.config.equalize in EQUALIZERS
            else nullcontext()
        )
        with guard:
            for epoch in range(1, cfg.epochs + 1):
                for batch in cover_batches(forget, retain, self.config.max_batch, order_rng):
                    co.step(batch, self.batch_objective(ctx, batch, forget, plan_rng))
                acc = self._forget_accuracy(ctx, forget, retain, order_rng)
                ctx.progress(
                    ProgressEvent("unlearn", epoch, cfg.epochs, {"few_shot_forget_acc": acc})
                )
                if acc <= cfg.forget_target:
                    break
        ctx.progress(ProgressEvent("unlearn", cfg.epochs, cfg.epochs))
        return Outcome(acc, cfg.forget_target)

    @staticmethod
    def _forget_accuracy(
        ctx: UnlearningContext, forget: np.ndarray, retain: np.ndarray, rng: np.random.Generator
    ) -> float:
        """Predict the whole cover (shuffled) so the check does not single out the forget set."""
        cover = rng.permutation(np.concatenate([forget, retain]))
        pred = ctx.coordinator.predict(cover)
        mask = np.isin(cover, forget)
        truth = ctx.coordinator.active.labels_of(cover[mask]).numpy()
        return float((pred[mask] == truth).mean())
