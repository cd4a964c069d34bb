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

from dataclasses import dataclass

import numpy as np
import torch

from vfl.coordinator import Coordinator
from vfl.party.active import Objective
from vfl.party.optim import UpdateConfig
from vfl.progress import ProgressEvent
from vfl.unlearning.base import UnlearnConfig, UnlearningContext, UnlearningMethod, register_method
from vfl.unlearning.mixup import all_pairs_plan, partner_plan
from vfl.unlearning.objectives import identity_plan, mixup_objective

__all__ = ["LUV", "GradientAscent", "MixupAscent", "RandomLabel"]

FORGET_SALT, RECOVERY_SALT, PLAN_SALT = 1, 2, 3
EPOCH_TOKEN = "unlearn-epoch"


class FewShotMethod(UnlearningMethod):
    """The shared loop; subclasses choose the forget objective and recovery."""

    use_recovery = False

    def forget_objective(
        self, ctx: UnlearningContext, labels: torch.Tensor, rng: np.random.Generator
    ) -> Objective:
        raise NotImplementedError

    def run(self, ctx: UnlearningContext) -> None:
        cfg, co = ctx.config, ctx.coordinator
        sets = _FewShotSets.draw(ctx, self.use_recovery)
        rng = ctx.rng(PLAN_SALT)
        forget_objective = self.forget_objective(ctx, sets.forget_labels, rng)
        lr = cfg.lr
        co.configure(_update(cfg, lr))
        baseline = sets.check_accuracy(co)
        for epoch in range(1, cfg.epochs + 1):
            co.snapshot(EPOCH_TOKEN)
            self._epoch(ctx, sets, forget_objective, rng)
            forget_acc, check_acc = sets.forget_accuracy(co), sets.check_accuracy(co)
            if check_acc < baseline - cfg.max_check_drop:
                # The step hurt retained classes beyond tolerance: undo it, halve the step.
                co.restore(EPOCH_TOKEN)
                lr /= 2
                co.configure(_update(cfg, lr))
            else:
                co.commit(EPOCH_TOKEN)
            metrics = {"few_shot_forget_acc": forget_acc, "check_acc": check_acc, "lr": lr}
            ctx.progress(ProgressEvent("unlearn", epoch, cfg.epochs, metrics))
            if forget_acc <= cfg.forget_target and check_acc >= baseline - cfg.max_check_drop:
                break
        ctx.progress(ProgressEvent("unlearn", cfg.epochs, cfg.epochs))

    def _epoch(
        self,
        ctx: UnlearningContext,
        sets: _FewShotSets,
        forget_objective: Objective,
        rng: np.random.Generator,
    ) -> None:
        """One forget step, then (for LUV) one recovery step on fresh mixup partners."""
        co = ctx.coordinator
        co.step(sets.forget_ids, forget_objective)
        if sets.recovery_ids.size:
            plan = partner_plan(sets.recovery_labels, ctx.config.alpha, rng)
            co.step(sets.recovery_ids, mixup_objective(plan, ascent=False))


def _update(cfg: UnlearnConfig, lr: float) -> UpdateConfig:
    return UpdateConfig(
        optimizer=cfg.optimizer, lr=lr, momentum=cfg.momentum, freeze_norm_stats=True
    )


@dataclass(frozen=True)
class _FewShotSets:
    """The training samples one request touches, all chosen by the active party.

    ``check`` is a held-out handful of retained samples that no step trains on:
    the active party's own gauge of collateral damage.
    """

    forget_ids: np.ndarray
    forget_labels: torch.Tensor
    recovery_ids: np.ndarray
    recovery_labels: torch.Tensor
    check_ids: np.ndarray
    check_labels: np.ndarray

    @classmethod
    def draw(cls, ctx: UnlearningContext, use_recovery: bool) -> _FewShotSets:
        cfg, labels = ctx.config, ctx.labels
        forget = ctx.few_shot(ctx.classes, cfg.forget_samples, FORGET_SALT)
        retained = ctx.retained_classes()
        n_recovery = cfg.recovery_per_class if use_recovery else 0
        both = ctx.few_shot(retained, n_recovery + cfg.check_per_class, RECOVERY_SALT)
        per_class = both.reshape(len(retained), -1)
        recovery = per_class[:, :n_recovery].ravel()
        check = per_class[:, n_recovery:].ravel()
        return cls(
            forget,
            torch.from_numpy(labels.labels_of(forget)),
            recovery,
            torch.from_numpy(labels.labels_of(recovery)),
            check,
            labels.labels_of(check),
        )

    def forget_accuracy(self, co: Coordinator) -> float:
        return float((co.predict(self.forget_ids) == self.forget_labels.numpy()).mean())

    def check_accuracy(self, co: Coordinator) -> float:
        return float((co.predict(self.check_ids) == self.check_labels).mean())


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
