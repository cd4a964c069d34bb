"""Gradient defenses, applied at the active party before gradients leave it.

Each defense names a :data:`~vfl.coordinator.GradientTransform` from
:mod:`vfl.gradients` (which request hiding uses too) plugged into
``Coordinator.gradient_transforms``, an unlearning-method swap, or both:

* ``noise``: clip each row to a norm ``C`` (``clip_norm``; when unset, ``C`` is
  the batch's median row norm, i.e. the noise is relative to the per-sample
  gradient norm) and add isotropic Gaussian noise whose *expected norm* is
  ``noise_multiplier * C`` (per-coordinate std ``noise_multiplier * C / sqrt(d)``).
* ``maxnorm``: Li et al.'s max-norm heuristic -- add to each row Gaussian noise
  that lifts its expected squared norm to the batch maximum.
* ``equalize``: rescale every row to the batch's mean row norm (deterministic;
  request hiding uses it so that no ID stands out by gradient size).
* ``align``: equal norms *and* an equal component along the batch's mean
  gradient for every row (iterated to float precision), so no statistic of a
  row's norm and its agreement with the rest of its batch singles it out; the
  request-hiding method's default equaliser.
* ``hide``: not a transform -- it swaps the unlearning method for a
  request-hiding one (see :mod:`vfl.unlearning.hiding`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vfl.audit.config import DefenseConfig
from vfl.coordinator import GradientTransform
from vfl.gradients import equalize_alignment, equalize_norms, gaussian_noise, max_norm

__all__ = [
    "ALIGN",
    "EQUALIZE",
    "HIDE",
    "MAXNORM",
    "NOISE",
    "Defense",
    "DefenseConfig",
    "defended_method",
    "defense_transforms",
]


@dataclass(frozen=True)
class Defense:
    """A named defense: a gradient transform, an unlearning-method swap, or both."""

    name: str
    summary: str
    transform: Callable[[DefenseConfig], GradientTransform] | None = None
    method: str | None = None


# The defenses vfl ships, listed by name in :data:`vfl.audit.registry.DEFENSES`.
NOISE = Defense(
    "noise",
    "Gaussian gradient noise (noise multiplier x clip norm)",
    lambda c: gaussian_noise(c.noise_multiplier, c.clip_norm, c.seed),
)
MAXNORM = Defense("maxnorm", "max-norm noise (Li et al. 2022)", lambda c: max_norm(c.seed))
EQUALIZE = Defense(
    "equalize", "rescale per-sample gradients to equal norm", lambda c: equalize_norms()
)
ALIGN = Defense(
    "align", "equal norms and equal agreement with the batch mean", lambda c: equalize_alignment()
)
HIDE = Defense("hide", "request hiding: unlearn with luv-hidden", method="luv-hidden")


def defense_transforms(names: Sequence[str], cfg: DefenseConfig) -> list[GradientTransform]:
    """The gradient transforms of the defenses ``names`` (unknown names fail), in order."""
    from vfl.audit.registry import DEFENSES

    builders = [DEFENSES.get(name).transform for name in names]
    return [build(cfg) for build in builders if build is not None]


def defended_method(names: Sequence[str], method: str) -> str:
    """``method``, or the method the last method-swapping defense in ``names`` runs instead."""
    from vfl.audit.registry import DEFENSES

    swaps = [DEFENSES.get(name).method for name in names]
    return next((m for m in reversed(swaps) if m), method)
