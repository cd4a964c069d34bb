"""Forgetting depth: is the forgotten class still linearly readable inside the model?

A linear probe (standardised logistic regression) is fitted on frozen
features to tell the forgotten classes from the rest, on training samples,
and scored by ROC-AUC on the test split. Forgetting that only hides the
class at the output leaves it readable in the embeddings; after retraining
the probe reads only what the retained classes taught. The layers are each
passive party's embedding (``party <id>``), all of them concatenated
(``embeddings``) and the top model's hidden layer (``penultimate``).

This is the probe of ``vfl audit``'s ``probe`` attack, which calls it (the
idea is the standard "linear probe" of representation analysis, Alain &
Bengio 2016; for unlearning, e.g. the layer-wise probes of Kim et al.). Like
the other metrics it runs at the active party, the only place with labels.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from vfl.coordinator import EVAL_CHUNK, Coordinator
from vfl.data.base import LabelShard

__all__ = ["PROBE_TRAIN_CAP", "forgetting_depth", "layer_features", "linear_head", "probe_ids"]

PROBE_TRAIN_CAP = 4000
"""At most this many training samples fit a probe (keeps MNIST quick)."""


def linear_head(x: np.ndarray, y: np.ndarray, balanced: bool = False) -> Pipeline:
    """Standardise, then multinomial logistic regression (the 'small head')."""
    return make_pipeline(
        StandardScaler(),
        LogisticRegression(max_iter=2000, class_weight="balanced" if balanced else None),
    ).fit(x, y)


def probe_ids(train_ids: np.ndarray, cap: int = PROBE_TRAIN_CAP) -> np.ndarray:
    """The training IDs a probe fits on: all, or a fixed seeded subset of ``cap``."""
    if train_ids.size <= cap:
        return train_ids
    return np.sort(np.random.default_rng(0).choice(train_ids, cap, replace=False))


def layer_features(co: Coordinator, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Every probed layer's features for ``ids``: per party, concatenated, penultimate."""
    parts: dict[str, list[torch.Tensor]] = {}
    for start in range(0, len(ids), EVAL_CHUNK):
        embeddings = co.embed(ids[start : start + EVAL_CHUNK], train=False)
        layers = {f"party {c.party_id}": e for c, e in zip(co.clients, embeddings, strict=True)}
        layers["embeddings"] = torch.cat(embeddings, 1)
        layers["penultimate"] = co.active.penultimate(embeddings)
        for name, value in layers.items():
            parts.setdefault(name, []).append(value.detach())
    return {name: torch.cat(values).numpy() for name, values in parts.items()}


def forgetting_depth(co: Coordinator, labels: LabelShard, forgotten: list[int]) -> dict[str, float]:
    """Probe AUC for the forgotten classes at every layer (0.5 = not readable)."""
    train, test = probe_ids(labels.train_ids), labels.test_ids
    y_train = np.isin(labels.labels_of(train), forgotten)
    y_test = np.isin(labels.labels_of(test), forgotten)
    x_train, x_test = layer_features(co, train), layer_features(co, test)
    out = {}
    for name in x_train:
        probe = linear_head(x_train[name], y_train, balanced=True)
        out[name] = float(roc_auc_score(y_test, probe.decision_function(x_test[name])))
    return out
