"""The Python API: a federation in a few lines, for notebooks and scripts.

    import vfl

    with vfl.Federation.simulated("digits", parties=2, seed=0) as fed:
        fed.train(epochs=10)
        before = fed.evaluate(forget=[3])
        after = fed.unlearn([3])                 # LUV: forgets class 3, keeps the rest
        probs = fed.predict_proba(fed.test_ids)  # numpy, one row per sample

It is a thin layer over the same parts the CLI uses (:class:`FederationSpec`, a
registered transport, :class:`~vfl.coordinator.Coordinator`, the unlearning
registry), so a result here equals ``vfl simulate``'s for the same settings.
Everything is keyword-only past the first argument; models are plain
``torch.nn.Module`` s (:attr:`Federation.top_model`, :attr:`Federation.bottom_models`
for the in-process transport). Your own models go in as factories:

    def tower(feature_shape, cfg):                # or an nn.Module class, or "pkg.mod:attr"
        return nn.Sequential(nn.Flatten(), nn.LazyLinear(cfg.embed_dim))

    vfl.Federation.simulated("digits", model=["mlp", tower], top_model=MyTop)

(contract: :mod:`vfl.models.custom`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from vfl.coordinator import Coordinator, TrainConfig
from vfl.data.base import Dataset
from vfl.federation import FederationSpec
from vfl.metrics import Evaluation, evaluate
from vfl.models.bottom import BottomModelConfig
from vfl.models.custom import ModelChoice
from vfl.party.optim import UpdateConfig
from vfl.progress import ProgressCallback, ignore_progress
from vfl.seeding import derive_seed
from vfl.simulation import default_epochs
from vfl.transport import TRANSPORTS
from vfl.unlearning import UnlearnConfig, validate_classes
from vfl.unlearning.run import unlearn_and_evaluate

__all__ = ["Federation"]


def _choices(model: ModelChoice | Sequence[ModelChoice]) -> ModelChoice | tuple[ModelChoice, ...]:
    """One model, or a tuple of one per party (a string is one model, not a sequence)."""
    return model if isinstance(model, str) or callable(model) else tuple(model)


class Federation:
    """An open federation: train, unlearn, evaluate and score it (:meth:`simulated` opens one)."""

    def __init__(self, co: Coordinator, spec: FederationSpec, dataset: Dataset) -> None:
        self.coordinator = co
        self.spec = spec
        self.dataset = dataset
        self._train = TrainConfig(epochs=default_epochs(dataset.n_train))
        self._trainings = 0

    @classmethod
    @contextmanager
    def simulated(
        cls,
        dataset: str = "digits",
        *,
        parties: int = 2,
        model: ModelChoice | Sequence[ModelChoice] = "auto",
        embed_dim: int = 64,
        hidden: int = 128,
        top_model: ModelChoice | None = None,
        top_hidden: int = 128,
        seed: int = 0,
        data_dir: str | Path | None = None,
        transport: str = "inprocess",
    ) -> Iterator[Federation]:
        """Open a simulated federation over a built-in dataset; closed when the block ends.

        ``transport`` is any registered one (``inprocess``, ``grpc``: real local
        processes over mutual TLS, ``flower``); results are equal across them.

        ``model`` is one bottom model for every party or a list of one per party:
        a registered name (``auto``, ``mlp``, ``cnn``), a ``"module:attr"``
        reference, or a factory -- a builder ``f(feature_shape, cfg)`` or an
        ``nn.Module`` class built as ``Cls(feature_shape=..., embed_dim=...)`` --
        returning a module that maps ``[batch, *feature_shape]`` to
        ``[batch, embed_dim]``. Factories work in-process only; ``grpc`` and
        ``flower`` parties run elsewhere and need references. ``top_model`` is a
        reference or a factory ``f(in_features, n_classes)`` (``None``: the
        built-in MLP of ``top_hidden`` units). Each is checked before training.
        """
        spec = FederationSpec(
            dataset=dataset,
            data_dir=Path(data_dir) if data_dir is not None else None,
            parties=parties,
            model=BottomModelConfig(name=_choices(model), embed_dim=embed_dim, hidden=hidden),
            top_hidden=top_hidden,
            top_model=top_model,
            seed=seed,
        )
        data = spec.load()
        with ExitStack() as stack:
            co = stack.enter_context(TRANSPORTS.get(transport)(spec, data))
            yield cls(co, spec, data)

    # -- data ------------------------------------------------------------------
    @property
    def train_ids(self) -> np.ndarray:
        return self.coordinator.active.labels.train_ids

    @property
    def test_ids(self) -> np.ndarray:
        return self.coordinator.active.labels.test_ids

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.coordinator.active.labels.class_names

    @property
    def top_model(self) -> nn.Module:
        """The active party's top model (plain torch)."""
        return self.coordinator.active.model

    @property
    def bottom_models(self) -> list[nn.Module]:
        """Each passive party's bottom model; in-process only (elsewhere they live remotely)."""
        models = []
        for client in self.coordinator.clients:
            party = getattr(getattr(client, "link", None), "party", None)
            if party is None:
                raise TypeError("bottom models live in other processes on this transport")
            models.append(party.model)
        return models

    # -- training and unlearning -----------------------------------------------
    def train(
        self,
        *,
        epochs: int | None = None,
        batch_size: int = 64,
        lr: float = 1e-3,
        progress: ProgressCallback = ignore_progress,
    ) -> Evaluation:
        """Train every party (``epochs`` default: chosen from the dataset size, as
        ``vfl simulate`` does); return the test evaluation."""
        epochs = epochs or self._train.epochs
        self._train = TrainConfig(epochs=epochs, batch_size=batch_size, update=UpdateConfig(lr=lr))
        name = "train-order" if not self._trainings else f"train-order-{self._trainings}"
        self._trainings += 1
        seed = derive_seed(self.spec.seed, name)
        self.coordinator.train(self.train_ids, self._train, seed, progress)
        return self.evaluate()

    def unlearn(
        self,
        classes: Sequence[int],
        *,
        method: str = "luv",
        config: UnlearnConfig | None = None,
        progress: ProgressCallback = ignore_progress,
        **options: Any,
    ) -> dict[str, Any]:
        """Forget ``classes`` with ``method`` (``options``: its settings, as
        ``--method-option``); return the evaluation afterwards and the wall time."""
        forget = validate_classes(list(classes), self.dataset.num_classes)
        return unlearn_and_evaluate(
            self.coordinator, method, forget, config or UnlearnConfig(), self._train,
            self.spec.seed, progress, options=options,
        )  # fmt: skip

    # -- evaluation and scoring -------------------------------------------------
    def evaluate(self, *, forget: Sequence[int] = ()) -> Evaluation:
        """Test accuracy (overall, retained, forgotten, per class) and the paper's MIA."""
        return evaluate(self.coordinator, self.coordinator.active.labels, list(forget))

    def predict(self, ids: np.ndarray) -> np.ndarray:
        """Predicted class index per sample ID."""
        return self.coordinator.predict(np.asarray(ids, dtype=np.int64))

    def predict_proba(self, ids: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per sample ID."""
        return self.coordinator.scores(np.asarray(ids, dtype=np.int64))[1]
