"""Baselines that train on the retained data: retrain from scratch and fine-tune."""

from __future__ import annotations

from vfl.coordinator import TrainConfig
from vfl.seeding import derive_seed
from vfl.unlearning.base import UnlearningContext, UnlearningMethod

__all__ = ["FineTune", "Retrain"]


class Retrain(UnlearningMethod):
    """The gold standard: fresh models at every party, trained without the classes."""

    name = "retrain"
    summary = "retrain every party from scratch on the retained data"
    scopes = frozenset({"classes", "samples"})

    def run(self, ctx: UnlearningContext) -> None:
        co = ctx.coordinator
        co.reinitialize(derive_seed(ctx.seed, "retrain"))
        co.train(
            ctx.retained_train_ids(),
            ctx.train,
            derive_seed(ctx.seed, "retrain-order"),
            ctx.progress,
            "retrain",
        )


class FineTune(UnlearningMethod):
    """Keep training on the retained data only and rely on catastrophic forgetting."""

    name = "finetune"
    summary = "fine-tune on the retained data (a fifth of the training epochs)"
    scopes = frozenset({"classes", "samples"})

    def run(self, ctx: UnlearningContext) -> None:
        cfg = TrainConfig(
            epochs=max(1, ctx.train.epochs // 5),
            batch_size=ctx.train.batch_size,
            update=ctx.train.update,
        )
        ctx.coordinator.train(
            ctx.retained_train_ids(),
            cfg,
            derive_seed(ctx.seed, "finetune"),
            ctx.progress,
            "finetune",
        )
