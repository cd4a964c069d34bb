"""Few-shot unlearning: LUV and the baselines that share its loop.

One loop serves them all: per epoch a forget step on the few-shot forget set,
optionally a recovery step on a few retained samples per class, then a check
that only the active party can make -- its accuracy on the few-shot forget
set. Once that reaches ``forget_target`` the loop runs ``patience`` more epochs
and stops. The rule uses training samples only; no test data selects a model.

BatchNorm: every step runs with ``freeze_norm_stats``. Passive parties embed in
eval mode, so forget-only batches neither use nor overwrite the running
statistics learned on the whole population; the affine parameters still learn.
"""

from __future__ import annotations

import numpy as np
import torch

from vfl.party.active import Objective
from vfl.party.optim import UpdateConfig
from vfl.progress import ProgressEvent
from vfl.unlearning.base import UnlearningContext, UnlearningMethod, register_method
from vfl.unlearning.mixup import all_pairs_plan, partner_plan
from vfl.unlearning.objectives import identity_plan, mixup_objective

__all__ = ["LUV", "GradientAscent", "MixupAscent", "RandomLabel"]

FORGET_SALT, RECOVERY_SALT, PLAN_SALT = 1, 2, 3


class FewShotMethod(UnlearningMethod):
    """The shared loop; subclasses choose the forget objective and recovery."""

    use_recovery = False

    def forget_objective(
        self, ctx: UnlearningContext, labels: torch.Tensor, rng: np.random.Generator
    ) -> Objective:
        raise NotImplementedError

    def run(self, ctx: UnlearningContext) -> None:
        cfg, co = ctx.config, ctx.coordinator
        forget_ids = ctx.few_shot(ctx.classes, cfg.forget_samples, FORGET_SALT)
        recovery_ids = (
            ctx.few_shot(ctx.retained_classes(), cfg.recovery_per_class, RECOVERY_SALT)
            if self.use_recovery and cfg.recovery_per_class > 0
            else np.empty(0, np.int64)
        )
        rng = ctx.rng(PLAN_SALT)
        forget_labels = co.active.labels_of(forget_ids)
        forget_objective = self.forget_objective(ctx, forget_labels, rng)
        co.configure(UpdateConfig(optimizer="adam", lr=cfg.lr, freeze_norm_stats=True))
        extra = 0
        for epoch in range(1, cfg.epochs + 1):
            co.step(forget_ids, forget_objective)
            if recovery_ids.size:
                plan = partner_plan(co.active.labels_of(recovery_ids), cfg.alpha, rng)
                co.step(recovery_ids, mixup_objective(plan, ascent=False))
            acc = float((co.predict(forget_ids) == forget_labels.numpy()).mean())
            ctx.progress(ProgressEvent("unlearn", epoch, cfg.epochs, {"few_shot_forget_acc": acc}))
            if acc <= cfg.forget_target:
                extra += 1
                if extra > cfg.patience:
                    break
        ctx.progress(ProgressEvent("unlearn", cfg.epochs, cfg.epochs))


@register_method
class LUV(FewShotMethod):
    """The paper's method: pairwise mixup ascent on the forget set + mixup recovery."""

    name = "luv"
    summary = "mixup gradient ascent on a few forget samples, then few-shot mixup recovery"
    use_recovery = True

    def forget_objective(
        self, ctx: UnlearningContext, labels: torch.Tensor, rng: np.random.Generator
    ) -> Objective:
        plan = all_pairs_plan(labels, ctx.config.lambdas)
        return mixup_objective(plan, ascent=True, ce_cap=ctx.config.ce_cap)


@register_method
class MixupAscent(LUV):
    """Ablation: LUV without the recovery phase."""

    name = "mixup-ascent"
    summary = "LUV without recovery (ablation)"
    use_recovery = False


@register_method
class GradientAscent(FewShotMethod):
    """Gradient ascent on the few-shot forget set itself: no mixup, no recovery."""

    name = "gradient-ascent"
    summary = "gradient ascent on the few-shot forget samples (no mixup, no recovery)"

    def forget_objective(
        self, ctx: UnlearningContext, labels: torch.Tensor, rng: np.random.Generator
    ) -> Objective:
        return mixup_objective(identity_plan(labels), ascent=True, ce_cap=ctx.config.ce_cap)


@register_method
class RandomLabel(FewShotMethod):
    """Descent toward random wrong labels on the few-shot forget set."""

    name = "random-label"
    summary = "train the few-shot forget samples toward random other classes"

    def forget_objective(
        self, ctx: UnlearningContext, labels: torch.Tensor, rng: np.random.Generator
    ) -> Objective:
        retained = np.asarray(ctx.retained_classes())
        wrong = torch.from_numpy(rng.choice(retained, size=labels.numel()).astype(np.int64))
        return mixup_objective(identity_plan(wrong), ascent=False)
