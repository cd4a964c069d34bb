"""Transforms of the embedding gradients the active party sends to passive parties.

Each builder returns a :data:`~vfl.coordinator.GradientTransform`: it sees one
batch's IDs and the list of per-party gradient matrices (one row per sample)
and returns new matrices. Every party's rows are treated on their own: a party
only ever receives its own slice, so that is the slice whose statistics must
not leak.

They live here, beside the core, because two layers use them: audit defenses
(:mod:`vfl.audit.defenses` names them ``noise``, ``maxnorm``, ``equalize`` and
``align``) and request hiding (:mod:`vfl.unlearning.hiding` equalises its
batches), and unlearning must not import audits.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from vfl.coordinator import GradientTransform

__all__ = ["equalize_alignment", "equalize_norms", "gaussian_noise", "max_norm"]

EPS = 1e-12


def _rows(fn: Callable[[torch.Tensor], torch.Tensor]) -> GradientTransform:
    """Lift a per-party matrix function to a :data:`GradientTransform`."""

    def transform(_ids: np.ndarray, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        return [fn(g) for g in grads]

    return transform


def _norms(g: torch.Tensor) -> torch.Tensor:
    return g.norm(dim=1, keepdim=True)


def gaussian_noise(
    noise_multiplier: float, clip_norm: float | None = None, seed: int = 0
) -> GradientTransform:
    """Clip rows to ``clip_norm`` (or the batch median norm), add noise of norm ~ sigma * C.

    The noise's *expected norm* is ``noise_multiplier * C`` (per-coordinate std
    ``noise_multiplier * C / sqrt(d)``); with ``clip_norm`` unset it is relative
    to the per-sample gradient norm.
    """
    gen = torch.Generator().manual_seed(seed)

    def noisy(g: torch.Tensor) -> torch.Tensor:
        norms = _norms(g)
        clip = float(norms.median()) if clip_norm is None else clip_norm
        clipped = g * torch.clamp(clip / norms.clamp_min(EPS), max=1.0)
        std = noise_multiplier * clip / math.sqrt(g.shape[1])
        return clipped + std * torch.randn(g.shape, generator=gen, dtype=g.dtype)

    return _rows(noisy)


def max_norm(seed: int = 0) -> GradientTransform:
    """Li et al. (2022): noise so every row's expected squared norm equals the batch max."""
    gen = torch.Generator().manual_seed(seed)

    def lifted(g: torch.Tensor) -> torch.Tensor:
        sq = _norms(g) ** 2
        std = torch.sqrt((sq.max() - sq).clamp_min(0.0) / g.shape[1])
        return g + std * torch.randn(g.shape, generator=gen, dtype=g.dtype)

    return _rows(lifted)


def equalize_norms() -> GradientTransform:
    """Every row rescaled to the batch mean norm: same size, same direction as before."""

    def equal(g: torch.Tensor) -> torch.Tensor:
        norms = _norms(g)
        return g * (norms.mean() / norms.clamp_min(EPS))

    return _rows(equal)


def equalize_alignment(iterations: int = 20) -> GradientTransform:
    """Rows of equal norm whose projection on the batch mean direction is equal too.

    Each pass splits every row into its component along the current mean
    direction and the rest, sets the former to the rows' average and scales the
    latter so the norm is the batch mean norm. A few passes make every row's
    cosine with the batch mean (nearly) the same.
    """

    def aligned(g: torch.Tensor) -> torch.Tensor:
        target = _norms(g).mean()
        for _ in range(iterations):
            mean = g.mean(0)
            unit = mean / mean.norm().clamp_min(EPS)
            along = g @ unit
            rest = g - along.unsqueeze(1) * unit
            common = along.mean()
            scale = torch.sqrt((target**2 - common**2).clamp_min(0.0))
            g = common * unit + scale * rest / _norms(rest).clamp_min(EPS)
        return g

    return _rows(aligned)
