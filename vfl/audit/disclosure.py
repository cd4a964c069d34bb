"""Does an unlearning request disclose what is being forgotten?

During a request the passive party sees which IDs it is asked to embed and
the gradients that come back. From those alone it computes per-ID statistics
(how often an ID was requested, how large and how aligned its gradients were)
and ranks IDs by them. Two attacks:

* ``forget-id``: ROC-AUC of separating the forget IDs (the forgotten class's
  samples the request touched) from the other IDs,
  among the IDs seen during the request and among all IDs the party holds
  (never-requested IDs rank lowest). The statistic and its sign are picked
  with hindsight, so this is an upper bound on a real attacker.
* ``forgotten-class``: the attacker labels the requested IDs with a nearest-
  neighbour classifier on its *own feature columns*, fitted on a few public
  labelled samples, and guesses the class whose IDs look most suspicious
  (scored as the chance of a right guess: ties count as a random pick).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata
from sklearn.neighbors import KNeighborsClassifier

from vfl.audit.base import Attack, AuditView, Finding, Stage
from vfl.audit.leakage import gradient_batches
from vfl.audit.scores import auc, best_oriented_auc, cosine_rows, row_norms
from vfl.protocol.client import RecordedCall

CHANCE_ROUNDS = 20
SIGNIFICANT_DIGITS = 6
"""Per-ID statistics are compared at this precision: differences below one part in
a million are float32 rounding residue of the defenses, not a signal we model."""

__all__ = [
    "ForgetIdAttack",
    "ForgottenClassAttack",
    "IdStatistics",
    "guess_probabilities",
    "id_statistics",
    "loo_cosine",
]


@dataclass(frozen=True)
class IdStatistics:
    """Per-ID statistics over the IDs seen in a session (``ids`` sorted)."""

    ids: np.ndarray
    stats: dict[str, np.ndarray]


def _embed_counts(calls: list[RecordedCall]) -> tuple[np.ndarray, np.ndarray]:
    seen = [c.args["ids"] for c in calls if c.method == "embed"]
    if not seen:
        return np.empty(0, np.int64), np.empty(0)
    ids, counts = np.unique(np.concatenate(seen), return_counts=True)
    return ids, counts.astype(np.float64)


def significant(x: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """``x`` rounded to ``digits`` significant digits (zeros stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    safe = np.where(x == 0, 1.0, np.abs(x))
    scale = 10.0 ** (digits - 1 - np.floor(np.log10(safe)))
    return np.round(x * scale) / scale


def loo_cosine(grads: np.ndarray) -> np.ndarray:
    """Each row's cosine with the sum of the *other* rows of its batch.

    Leave-one-out keeps the score meaningful when the batch sums to (almost)
    zero, where a cosine with the batch mean would only measure rounding noise.
    """
    g = np.asarray(grads, dtype=np.float64)
    rest = g.sum(0, keepdims=True) - g
    denom = row_norms(g) * row_norms(rest)
    dots = (g * rest).sum(1)
    return np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)


def id_statistics(calls: list[RecordedCall]) -> IdStatistics:
    """Requests, gradient count, gradient norm mean/std, mean cosine with the batch
    mean and with the rest of the batch, per ID, rounded to :data:`SIGNIFICANT_DIGITS`."""
    ids, requests = _embed_counts(calls)
    total = {k: np.zeros(ids.size) for k in ("n", "norm", "norm2", "cos", "loo")}
    for batch_ids, grads in gradient_batches(calls):
        rows = np.searchsorted(ids, batch_ids)
        norms = row_norms(grads)
        np.add.at(total["n"], rows, 1.0)
        np.add.at(total["norm"], rows, norms)
        np.add.at(total["norm2"], rows, norms**2)
        np.add.at(total["cos"], rows, cosine_rows(grads, grads.mean(0)))
        np.add.at(total["loo"], rows, loo_cosine(grads))
    n = np.maximum(total["n"], 1.0)
    mean = total["norm"] / n
    stats = {
        "requests": requests,
        "gradients": total["n"],
        "grad-norm": mean,
        "grad-norm-std": np.sqrt(np.maximum(total["norm2"] / n - mean**2, 0.0)),
        "batch-cosine": total["cos"] / n,
        "loo-cosine": total["loo"] / n,
    }
    return IdStatistics(ids, {k: significant(v) for k, v in stats.items()})


@dataclass(frozen=True)
class Suspicion:
    """The attacker's best per-ID score (oriented so that higher = more likely forgotten)."""

    statistic: str
    ids: np.ndarray
    score: np.ndarray
    auc_seen: float
    chance: float  # the same selection's AUC when the "forget set" is a random subset


def _best(table: IdStatistics, positive: np.ndarray) -> tuple[str, int, float]:
    """Statistic, sign and AUC of the best-separating oriented statistic."""
    best = ("", 1, float("nan"))
    for name, values in table.stats.items():
        value, sign = best_oriented_auc(values, positive)
        if value == value and not value <= best[2]:
            best = (name, sign, value)
    return best


def _chance(table: IdStatistics, n_positive: int, rounds: int = CHANCE_ROUNDS) -> float:
    """Mean best AUC over random "forget sets" of the same size: the attack's floor.

    Picking the best of several statistics and its sign with hindsight is worth
    something even on noise; this is what that is worth.
    """
    rng = np.random.default_rng(0)
    values = []
    for _ in range(rounds):
        positive = np.zeros(table.ids.size, dtype=bool)
        positive[rng.choice(table.ids.size, n_positive, replace=False)] = True
        values.append(_best(table, positive)[2])
    return float(np.mean(values))


def best_suspicion(view: AuditView, stage: Stage) -> Suspicion | None:
    """The statistic that best separates the forget set among the requested IDs."""
    table = id_statistics(view.calls.get(stage, []))
    if table.ids.size == 0:
        return None
    positive = view.is_forget(table.ids)
    name, sign, value = _best(table, positive)
    if value != value:
        return None
    chance = _chance(table, int(positive.sum()))
    label = f"{'+' if sign > 0 else '-'}{name}"
    return Suspicion(label, table.ids, sign * table.stats[name], value, chance)


def _auc_all(view: AuditView, s: Suspicion) -> float:
    """AUC over every ID the attacker holds; never-requested IDs rank below all others.

    Positives are still the forget IDs the request touched: an untouched sample
    of the forgotten class is not being forgotten by this request.
    """
    n = view.attacker_features.shape[0]
    score = np.full(n, -np.inf)
    score[s.ids] = s.score
    positive = np.zeros(n, dtype=bool)
    positive[s.ids[view.is_forget(s.ids)]] = True
    return auc(np.nan_to_num(score, neginf=-1e300), positive)


class ForgetIdAttack(Attack):
    name = "forget-id"
    summary = "separate the forget IDs from the IDs and gradients seen during unlearning"
    stages: tuple[Stage, ...] = ("unlearned",)

    def run(self, view: AuditView, stage: Stage) -> list[Finding]:
        s = best_suspicion(view, stage)
        if s is None:
            return []
        detail = f"best statistic {s.statistic}; {s.ids.size} IDs requested"
        return [
            Finding(self.name, "AUC among requested IDs", s.auc_seen, detail, "toward 0.5"),
            Finding(self.name, "chance level of that AUC", s.chance, "random forget sets"),
            Finding(self.name, "AUC among all IDs", _auc_all(view, s), detail, "toward 0.5"),
        ]


def class_suspicion(view: AuditView, s: Suspicion) -> dict[int, float]:
    """Mean suspicion rank of the requested IDs the attacker labels as each class."""
    flat = view.attacker_features.reshape(view.attacker_features.shape[0], -1)
    knn = KNeighborsClassifier(n_neighbors=3).fit(
        flat[view.aux_ids], view.labels.labels_of(view.aux_ids)
    )
    predicted = knn.predict(flat[s.ids])
    ranks = rankdata(s.score) / s.score.size
    return {int(c): float(ranks[predicted == c].mean()) for c in np.unique(predicted)}


def guess_probabilities(means: dict[int, float], k: int) -> dict[int, float]:
    """Chance that each class is among the ``k`` guessed, ties at the cut broken at random.

    With flat scores every class ties, so the guess is as good as a coin and is
    scored as such -- not as whichever class happens to sort first.
    """
    cut = sorted(means.values(), reverse=True)[min(k, len(means)) - 1]
    above = [c for c, v in means.items() if v > cut]
    tied = [c for c, v in means.items() if v == cut]
    share = (k - len(above)) / len(tied)
    return {c: 1.0 if v > cut else share if v == cut else 0.0 for c, v in means.items()}


class ForgottenClassAttack(Attack):
    name = "forgotten-class"
    summary = "guess the forgotten class from the attacker's own features of suspicious IDs"
    stages: tuple[Stage, ...] = ("unlearned",)

    def run(self, view: AuditView, stage: Stage) -> list[Finding]:
        s = best_suspicion(view, stage)
        if s is None:
            return []
        p = guess_probabilities(class_suspicion(view, s), len(view.classes))
        hit = sum(p.get(c, 0.0) for c in view.classes) / len(view.classes)
        likely = sorted((c for c in p if p[c] > 0), key=lambda c: -p[c])
        return [Finding(self.name, "guessed correctly", hit, f"candidates {likely}", "lower")]
