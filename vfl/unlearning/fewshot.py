"""Few-shot unlearning: LUV and the baselines that share its loop.

One loop serves them all: per epoch a forget step on the few-shot forget set,
then a check that only the active party can make -- its accuracy on the
few-shot forget set (plus a few held-out samples of each forgotten class) and
the cross-entropy of a held-out check set of retained training samples. If
the check set says the retained classes were hurt beyond tolerance, LUV takes
up to ``repair_steps`` recovery steps (mixup descent on a few retained samples
per class) and checks again; an epoch still past tolerance is undone on every
party and the step halves. The loop stops once the forget gauge reaches
``forget_target`` (after ``patience`` more epochs). The rule uses training
samples only; no test data selects a model.

Recovery runs on demand, not every epoch: with Adam a recovery step on a model
that already fits its few samples is a full-size step along a near-zero,
noisy gradient, and on every measured setting it cost retained test accuracy
that the training-sample check set could not see (BENCHMARKS.md, "LUV's working
window"). As a repair it also stops the guard from undoing epochs that forgot
much and hurt a little -- the pattern that left MNIST/MLP 11-23 % short.

BatchNorm: every step runs with ``freeze_norm_stats``. Passive parties embed in
eval mode, so forget-only batches neither use nor overwrite the running
statistics learned on the whole population; the affine parameters still learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from vfl.coordinator import Coordinator, Lookahead
from vfl.data.base import LabelShard
from vfl.party.active import Objective
from vfl.party.optim import UpdateConfig
from vfl.progress import ProgressEvent
from vfl.unlearning.base import (
    FORGET_SALT,
    Outcome,
    UnlearnConfig,
    UnlearningContext,
    UnlearningMethod,
)
from vfl.unlearning.mixup import MixPlan, all_pairs_plan, partner_plan
from vfl.unlearning.objectives import identity_plan, mixup_objective

__all__ = [
    "FORGET_SALT",
    "LUV",
    "FewShotMethod",
    "FewShotSets",
    "GradientAscent",
    "MixupAscent",
    "RandomLabel",
]

RECOVERY_SALT, PLAN_SALT = 2, 3
EPOCH_TOKEN = "unlearn-epoch"
MAX_HALVINGS = 6


class FewShotMethod(UnlearningMethod):
    """The shared loop; subclasses choose the forget objective and recovery."""

    use_recovery = False

    def forget_objective(
        self, ctx: UnlearningContext, sets: FewShotSets, rng: np.random.Generator
    ) -> Objective:
        """The forget step's loss, built once per request from the few-shot sets."""
        raise NotImplementedError

    def run(self, ctx: UnlearningContext) -> Outcome:
        cfg, co = ctx.config, ctx.coordinator
        sets = FewShotSets.draw(ctx, self.use_recovery)
        rng = ctx.rng(PLAN_SALT)
        forget_objective = self.forget_objective(ctx, sets, rng)
        lr = cfg.lr
        _configure(co, cfg, lr)
        kept_acc, baseline, ahead = sets.measure(co)  # kept_acc: the gauge of the state we keep
        # Each forgotten class may cost the retained ones up to ``max_check_rise``:
        # the more classes leave, the more the boundaries of the rest must move.
        tolerance = cfg.max_check_rise * len(ctx.classes)
        met = 0
        for epoch in range(1, cfg.epochs + 1):
            with co.trial(EPOCH_TOKEN) as guard:
                forget_acc, check_ce, repairs, ahead = self._epoch(
                    ctx, sets, forget_objective, rng, baseline + tolerance, ahead
                )
                damaged = check_ce > baseline + tolerance
                if damaged:
                    # Still past tolerance after the repairs: undo the epoch, halve the step.
                    guard.undo()
                    ahead = None  # embeddings of the weights the undo replaced
                    lr /= 2
                    _configure(co, cfg, lr)
                else:
                    guard.keep()
                    kept_acc = forget_acc
            metrics = {"forget_acc": forget_acc, "check_ce": check_ce, "lr": lr, "repairs": repairs}
            ctx.progress(ProgressEvent("unlearn", epoch, cfg.epochs, metrics))
            if forget_acc <= cfg.forget_target and not damaged:
                met += 1
                if met > cfg.patience:
                    break
            if lr < cfg.lr / 2**MAX_HALVINGS:
                break  # every larger step did damage: more epochs would change nothing
        ctx.progress(ProgressEvent("unlearn", cfg.epochs, cfg.epochs))
        return Outcome(kept_acc, cfg.forget_target)

    def _epoch(
        self,
        ctx: UnlearningContext,
        sets: FewShotSets,
        forget_objective: Objective,
        rng: np.random.Generator,
        limit: float,
        ahead: Lookahead | None,
    ) -> tuple[float, float, int, Lookahead | None]:
        """One forget step, then (LUV) recovery steps while the check CE is above ``limit``.

        Returns the gauges after the last step, how many recovery steps ran, and the
        last measurement's embeddings, which the next forget step reuses (the forget
        set is part of what a measurement embeds): on Flower that saves a message
        per epoch.
        """
        co = ctx.coordinator
        co.step(sets.forget_ids, forget_objective, ahead)
        forget_acc, check_ce, ahead = sets.measure(co)
        repairs = 0
        while check_ce > limit and repairs < ctx.config.repair_steps and sets.recovery_ids.size:
            plan = partner_plan(sets.recovery_labels, ctx.config.alpha, rng)
            co.step(sets.recovery_ids, mixup_objective(plan, ascent=False))
            forget_acc, check_ce, ahead = sets.measure(co)
            repairs += 1
        return forget_acc, check_ce, repairs, ahead


def _ascent(ctx: UnlearningContext, plan: MixPlan) -> Objective:
    """The capped, entropy-raising ascent every few-shot method shares."""
    cfg = ctx.config
    return mixup_objective(
        plan,
        ascent=True,
        ce_cap=cfg.ce_cap,
        entropy_weight=cfg.entropy_weight,
        forgotten=ctx.classes,
    )


def _configure(co: Coordinator, cfg: UnlearnConfig, lr: float) -> None:
    """Top model at ``lr``; bottom models at ``lr * bottom_lr_scale``."""

    def update(step: float) -> UpdateConfig:
        return UpdateConfig(
            optimizer=cfg.optimizer, lr=step, momentum=cfg.momentum, freeze_norm_stats=True
        )

    co.configure(update(max(lr * cfg.bottom_lr_scale, 1e-12)), update(lr))


@dataclass(frozen=True)
class FewShotSets:
    """The training samples one request touches, all chosen by the active party.

    Two held-out gauges that no step trains on: ``check`` (a few retained samples
    per class) measures collateral damage, ``forget_check`` (a few more samples of
    each forgotten class) measures whether forgetting generalises beyond the
    few-shot set. Both are training data the active party already holds.
    """

    forget_ids: np.ndarray
    forget_labels: torch.Tensor
    forget_check_ids: np.ndarray
    recovery_ids: np.ndarray
    recovery_labels: torch.Tensor
    check_ids: np.ndarray
    labels: LabelShard

    @classmethod
    def draw(cls, ctx: UnlearningContext, use_recovery: bool) -> FewShotSets:
        cfg, labels = ctx.config, ctx.labels
        smallest = min(labels.train_ids_of([c]).size for c in ctx.classes)
        n_forget_check = max(0, min(cfg.check_per_class, smallest - cfg.forget_samples))
        forget, forget_check = _split_per_class(
            ctx.few_shot(ctx.classes, cfg.forget_samples + n_forget_check, FORGET_SALT),
            len(ctx.classes),
            cfg.forget_samples,
        )
        retained = ctx.retained_classes()
        n_recovery = cfg.recovery_per_class if use_recovery else 0
        recovery, check = _split_per_class(
            ctx.few_shot(retained, n_recovery + cfg.check_per_class, RECOVERY_SALT),
            len(retained),
            n_recovery,
        )
        return cls(
            forget_ids=forget,
            forget_labels=torch.from_numpy(labels.labels_of(forget)),
            forget_check_ids=forget_check,
            recovery_ids=recovery,
            recovery_labels=torch.from_numpy(labels.labels_of(recovery)),
            check_ids=check,
            labels=labels,
        )

    def measure(self, co: Coordinator) -> tuple[float, float, Lookahead | None]:
        """(accuracy on all forget-class samples in view, mean cross-entropy on the check
        set, the embeddings for the next forget step).

        One round for both gauges. Cross-entropy, not accuracy, gauges the check set:
        it moves before any prediction flips, and it is not quantised to
        one-over-the-set-size steps. The round is a training embed whose graph the
        next forget step reuses: every step of this loop freezes norm statistics
        (:func:`_configure`), so it equals an evaluation embed.
        """
        forget = np.concatenate([self.forget_ids, self.forget_check_ids])
        ids = np.concatenate([forget, self.check_ids])
        logits, ahead = co.logits_ahead(ids)
        labels = torch.from_numpy(self.labels.labels_of(ids))
        forget_acc = (logits[: forget.size].argmax(1) == labels[: forget.size]).float().mean()
        check_ce = F.cross_entropy(logits[forget.size :], labels[forget.size :])
        return float(forget_acc), float(check_ce), ahead


def _split_per_class(ids: np.ndarray, n_classes: int, first: int) -> tuple[np.ndarray, np.ndarray]:
    """Split class-sorted ``ids`` into the first ``first`` of each class and the rest."""
    per_class = ids.reshape(n_classes, -1)
    return per_class[:, :first].ravel(), per_class[:, first:].ravel()


class LUV(FewShotMethod):
    """The paper's method: pairwise mixup ascent on the forget set + mixup recovery."""

    name = "luv"
    summary = "mixup gradient ascent on a few forget samples, then few-shot mixup recovery"
    use_recovery = True

    def forget_objective(
        self, ctx: UnlearningContext, sets: FewShotSets, rng: np.random.Generator
    ) -> Objective:
        return _ascent(ctx, all_pairs_plan(sets.forget_labels, ctx.config.lambdas))


class MixupAscent(LUV):
    """Ablation: LUV without the recovery phase."""

    name = "mixup-ascent"
    summary = "LUV without recovery (ablation)"
    use_recovery = False


class GradientAscent(FewShotMethod):
    """Gradient ascent on the few-shot forget set itself: no mixup, no recovery."""

    name = "gradient-ascent"
    summary = "gradient ascent on the few-shot forget samples (no mixup, no recovery)"

    def forget_objective(
        self, ctx: UnlearningContext, sets: FewShotSets, rng: np.random.Generator
    ) -> Objective:
        return _ascent(ctx, identity_plan(sets.forget_labels))


class RandomLabel(FewShotMethod):
    """Descent toward random wrong labels on the few-shot forget set."""

    name = "random-label"
    summary = "train the few-shot forget samples toward random other classes"

    def forget_objective(
        self, ctx: UnlearningContext, sets: FewShotSets, rng: np.random.Generator
    ) -> Objective:
        retained = np.asarray(ctx.retained_classes())
        n = sets.forget_labels.numel()
        wrong = torch.from_numpy(rng.choice(retained, size=n).astype(np.int64))
        return mixup_objective(identity_plan(wrong), ascent=False)
