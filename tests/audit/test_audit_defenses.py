"""Gradient defenses: clipping, noise scale, max-norm lifting, equalisation, registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vfl.audit.defenses import DefenseConfig
from vfl.audit.disclosure import loo_cosine
from vfl.audit.registry import DEFENSES
from vfl.errors import ConfigError
from vfl.gradients import equalize_alignment, equalize_norms, gaussian_noise, max_norm

IDS = np.arange(4000)


def _grads(seed: int = 0) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    scale = torch.rand(4000, 1, generator=gen) * 5
    return [torch.randn(4000, 16, generator=gen) * scale, torch.randn(4000, 8, generator=gen)]


def test_noise_has_the_stated_norm_relative_to_the_clip() -> None:
    grads = _grads()
    zero = [torch.zeros_like(g) for g in grads]
    for g, out in zip(grads, gaussian_noise(0.5, clip_norm=2.0)(IDS, zero), strict=True):
        assert out.shape == g.shape
        assert out.norm(dim=1).mean().item() == pytest.approx(0.5 * 2.0, rel=0.05)


def test_noise_clips_rows_before_adding_noise() -> None:
    grads = _grads()
    out = gaussian_noise(0.0, clip_norm=1.0)(IDS, grads)
    assert out[0].norm(dim=1).max().item() <= 1.0 + 1e-5
    small = grads[0].norm(dim=1) < 1.0
    assert torch.allclose(out[0][small], grads[0][small])


def test_noise_without_clip_is_relative_to_the_median_norm() -> None:
    g = torch.ones(1000, 4) * torch.arange(1, 1001).unsqueeze(1).float()
    norms = g.norm(dim=1)
    below = norms < norms.median()  # rows the median clip leaves unchanged
    noise = gaussian_noise(1.0)(IDS[:1000], [g])[0][below] - g[below]
    assert noise.norm(dim=1).mean().item() == pytest.approx(norms.median().item(), rel=0.1)


def test_max_norm_lifts_every_row_to_the_batch_max_in_expectation() -> None:
    g = torch.cat([torch.full((2000, 32), 0.1), torch.full((1, 32), 1.0)])
    out = max_norm(seed=1)(np.arange(2001), [g])[0]
    sq = out.norm(dim=1) ** 2
    assert sq[:-1].mean().item() == pytest.approx(32.0, rel=0.05)
    assert torch.equal(out[-1], g[-1])  # the largest row gets no noise


def test_equalize_gives_equal_norms_and_keeps_directions() -> None:
    grads = _grads()
    out = equalize_norms()(IDS, grads)
    for g, e in zip(grads, out, strict=True):
        norms = e.norm(dim=1)
        assert torch.allclose(norms, norms.mean().expand_as(norms), rtol=1e-4)
        assert torch.allclose(torch.nn.functional.cosine_similarity(g, e), torch.ones(4000))


def test_alignment_leaves_no_row_standing_out() -> None:
    transform = equalize_alignment()
    gen = torch.Generator().manual_seed(0)
    coherent = torch.randn(16, generator=gen) + 0.3 * torch.randn(40, 16, generator=gen)
    others = torch.randn(200, 16, generator=gen)
    g = torch.cat([coherent, others]) * torch.rand(240, 1, generator=gen)
    out = transform(np.arange(240), [g])[0]
    norms = out.norm(dim=1)
    assert torch.allclose(norms, norms.mean().expand_as(norms), rtol=1e-4)
    loo = torch.from_numpy(loo_cosine(out.numpy()))
    assert (loo[:40].mean() - loo[40:].mean()).abs() < 1e-3
    assert torch.nn.functional.cosine_similarity(out, g).mean() > 0.5  # own direction kept


def test_registry_builds_transforms_and_names_methods() -> None:
    assert {"noise", "maxnorm", "equalize", "align", "hide"} <= set(DEFENSES.names())
    assert DEFENSES.get("hide").method == "luv-hidden" and DEFENSES.get("hide").transform is None
    noise = DEFENSES.get("noise").transform
    assert noise is not None
    out = noise(DefenseConfig(noise_multiplier=0.0, clip_norm=1.0))(IDS, _grads())
    assert out[0].norm(dim=1).max().item() <= 1.0 + 1e-5
    with pytest.raises(ConfigError, match="unknown defense 'blur'; choose one of"):
        DEFENSES.get("blur")
