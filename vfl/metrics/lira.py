"""The per-example likelihood-ratio membership test behind U-LiRA, as pure math.

Sources: LiRA, Carlini et al., "Membership Inference Attacks From First
Principles" (IEEE S&P 2022): per example, fit one Gaussian to the
logit-scaled confidence ``log(p / (1 - p))`` of shadow models that trained on
it ("in") and one to those that did not ("out"); the score of a target model
is the log likelihood ratio of its own confidence under the two. U-LiRA,
Hayes et al., "Inexact Unlearning Needs More Careful Evaluations to Avoid a
False Sense of Privacy" (SaTML 2025, arXiv 2403.01218): the shadows are
*unlearned* with the method under test, so the test asks whether a sample
that was trained on and then unlearned can be told apart from one that was
never trained on -- per example, which population MIAs cannot.

With few shadows (< 64) Carlini et al. fit a *global* variance (one per side,
pooled over examples) rather than one per example; :func:`lira_scores` does
the same, with per-example means.

Centring (``centre=True``): every model's confidences, shadows' and target's,
minus that model's median over the candidates. For a forgotten class the
confidence is dominated by one model-wide offset (how far the class's logit
was pushed down, -16 to -19 on digits), which differs between any two models
and says nothing about one sample; with a handful of shadows per side that
offset ranked candidates at random (retrained targets, which should score 0.5,
scored 0.37-0.56). Centred scores ask only how a sample sits relative to the
model's other candidates, and are unchanged by adding a constant to a model's
confidences. The evaluation reports both (BENCHMARKS.md, section 11).

Shadow training lives above the core (:mod:`vfl.evaluation.shadows`); here
are only arrays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from scipy.stats import norm
from sklearn.metrics import roc_auc_score, roc_curve

__all__ = [
    "AttackResult",
    "attack_result",
    "balanced_masks",
    "centred",
    "lira_scores",
    "logit_confidence",
    "tpr_at_fpr",
]

MIN_STD = 1e-3
"""Floor on a fitted standard deviation: identical shadows must not divide by zero."""


@dataclass(frozen=True)
class AttackResult:
    """ROC summary of a membership attack; ``auc`` 0.5 = the attacker guesses."""

    auc: float
    tpr_at_1fpr: float
    tpr_at_5fpr: float
    members: int
    non_members: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def logit_confidence(logits: torch.Tensor, labels: np.ndarray) -> np.ndarray:
    """``log p_y - log(1 - p_y)`` per row, computed stably from the logits.

    Equal to ``z_y - logsumexp_{j != y} z_j``, so it stays finite where the
    softmax probability rounds to 0 or 1 (exactly the forgotten class's case).
    """
    z = logits.double()
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    true = z.gather(1, y[:, None]).squeeze(1)
    others = z.scatter(1, y[:, None], float("-inf"))
    return (true - torch.logsumexp(others, dim=1)).numpy()


def balanced_masks(n_shadows: int, n_samples: int, seed: int) -> np.ndarray:
    """``[n_shadows, n_samples]`` booleans: each sample is "in" exactly half the shadows.

    Balanced per sample (not i.i.d. coin flips), so every sample has as many
    in- as out-shadows to fit its two Gaussians from.
    """
    if n_shadows < 2 or n_shadows % 2:
        raise ValueError(f"need an even number of shadows (>= 2), got {n_shadows}")
    rng = np.random.default_rng(seed)
    masks = np.zeros((n_shadows, n_samples), dtype=bool)
    for i in range(n_samples):
        masks[rng.permutation(n_shadows)[: n_shadows // 2], i] = True
    return masks


def _pooled_std(values: np.ndarray, weights: np.ndarray, means: np.ndarray) -> float:
    resid = (values - means[None, :]) ** 2 * weights
    dof = max(float(weights.sum()) - means.size, 1.0)
    return max(float(np.sqrt(resid.sum() / dof)), MIN_STD)


def centred(conf: np.ndarray) -> np.ndarray:
    """Each model's confidences (the last axis) minus their median: the model's offset removed."""
    return conf - np.median(conf, axis=-1, keepdims=True)


def lira_scores(
    shadow_conf: np.ndarray, masks: np.ndarray, target_conf: np.ndarray, centre: bool = False
) -> np.ndarray:
    """Per-example log likelihood ratio "in" vs "out" of ``target_conf``.

    ``shadow_conf[k, i]`` is shadow ``k``'s logit-scaled confidence on sample
    ``i`` and ``masks[k, i]`` whether shadow ``k`` trained on it. Higher =
    more likely a member. Means per example, one pooled variance per side.
    With ``centre``, every model's confidences are first :func:`centred`.
    """
    if centre:
        shadow_conf, target_conf = centred(shadow_conf), centred(target_conf)
    inside = masks.astype(np.float64)
    outside = 1.0 - inside
    mu_in = (shadow_conf * inside).sum(0) / np.maximum(inside.sum(0), 1.0)
    mu_out = (shadow_conf * outside).sum(0) / np.maximum(outside.sum(0), 1.0)
    sd_in = _pooled_std(shadow_conf, inside, mu_in)
    sd_out = _pooled_std(shadow_conf, outside, mu_out)
    return norm.logpdf(target_conf, mu_in, sd_in) - norm.logpdf(target_conf, mu_out, sd_out)


def tpr_at_fpr(scores: np.ndarray, member: np.ndarray, fpr: float) -> float:
    """The highest true-positive rate at a false-positive rate of at most ``fpr``."""
    fprs, tprs, _ = roc_curve(member, scores)
    ok = fprs <= fpr + 1e-12
    return float(tprs[ok].max()) if ok.any() else 0.0


def attack_result(scores: np.ndarray, member: np.ndarray) -> AttackResult:
    """AUC and TPR at 1 % / 5 % FPR of ``scores`` for the boolean ``member``.

    NaN when one side is empty. With ``n`` non-members the lowest FPR resolved
    is ``1/n``: below that, TPR is read at FPR 0.
    """
    member = np.asarray(member, dtype=bool)
    n_in, n_out = int(member.sum()), int((~member).sum())
    if n_in == 0 or n_out == 0:
        nan = float("nan")
        return AttackResult(nan, nan, nan, n_in, n_out)
    return AttackResult(
        auc=float(roc_auc_score(member, scores)),
        tpr_at_1fpr=tpr_at_fpr(scores, member, 0.01),
        tpr_at_5fpr=tpr_at_fpr(scores, member, 0.05),
        members=n_in,
        non_members=n_out,
    )
