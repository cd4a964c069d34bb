"""The contract for a user's own models (vfl/models/custom.py), without training.

References and factories resolve, one per party where asked; every way a model can
break the contract is one ConfigError naming it; the check itself changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError
from torch import nn

from tests.fixtures import user_models
from vfl.errors import ConfigError
from vfl.federation import FederationSpec, check_remote_parties
from vfl.models.bottom import BottomModelConfig, build_bottom_model
from vfl.models.custom import check_output
from vfl.models.top import CustomTopModel, TopModel, build_top_model
from vfl.seeding import seeded

MOD = "tests.fixtures.user_models"
DIGITS_BAND = (1, 8, 4)  # one of two parties' share of an 8x8 digit


def test_a_comma_list_or_a_list_is_one_model_per_party() -> None:
    assert BottomModelConfig(name=f"mlp, {MOD}:Tower").name == ("mlp", f"{MOD}:Tower")
    assert BottomModelConfig(name=["cnn", user_models.tower]).name == ("cnn", user_models.tower)
    assert BottomModelConfig(name=["mlp"]).name == "mlp"  # one entry: every party's
    spec = FederationSpec(parties=2, model=BottomModelConfig(name="mlp,cnn", embed_dim=8))
    assert [spec.model_for(p).name for p in spec.party_ids()] == ["mlp", "cnn"]
    assert spec.model_for("passive-1").embed_dim == 8


def test_one_model_serves_every_party_and_a_wrong_count_is_refused() -> None:
    spec = FederationSpec(parties=3, model=BottomModelConfig(name=f"{MOD}:Tower"))
    assert {spec.model_for(p).name for p in spec.party_ids()} == {f"{MOD}:Tower"}
    with pytest.raises(ValidationError, match="3 bottom models for 2 passive parties"):
        FederationSpec(parties=2, model=BottomModelConfig(name="mlp,mlp,cnn"))


def test_a_party_outside_the_list_needs_a_single_model() -> None:
    """The active party's own feature columns (``serve active --data``) are no list entry."""
    listed = FederationSpec(parties=2, model=BottomModelConfig(name="mlp,cnn"))
    with pytest.raises(ConfigError, match=r"own-features has no entry .*'mlp', 'cnn'"):
        listed.model_for("own-features")
    assert FederationSpec(parties=2).model_for("own-features").name == "auto"


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("no_such_pkg.models:Tower", "cannot import no_such_pkg.models"),
        (f"{MOD}:Nope", f"module {MOD} has no attribute 'Nope'"),
        (f"{MOD}:NOT_A_MODEL", "is the int 3: give a builder function or an nn.Module class"),
        (f"{MOD}:", "write it as 'package.module:attr'"),
    ],
)
def test_a_bad_reference_is_refused_when_configured(reference: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as bottom:
        BottomModelConfig(name=f"mlp,{reference}")
    assert repr(reference) in str(bottom.value)
    with pytest.raises(ValidationError, match=message):
        FederationSpec(top_model=reference)


def test_a_module_class_and_a_builder_both_give_batch_by_embed_dim() -> None:
    for name in (f"{MOD}:Tower", f"{MOD}:tower", user_models.Tower, user_models.tower):
        model = build_bottom_model(DIGITS_BAND, BottomModelConfig(name=name, embed_dim=12))
        assert model(torch.zeros(5, *DIGITS_BAND)).shape == (5, 12)
    assert isinstance(build_bottom_model((30,), BottomModelConfig(name=f"{MOD}:Tower")), nn.Module)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (f"{MOD}:wrong_width", r"must map a \[2, 1, 8, 4\] batch to \[2, 64\].*got \[2, 7\]"),
        (f"{MOD}:bad_signature", "building it failed .TypeError"),
        (lambda shape, cfg: "not a module", "returned a str, not an nn.Module"),
        (lambda shape, cfg: nn.Linear(3, cfg.embed_dim), "a forward pass of a .2, 1, 8, 4. batch"),
    ],
)
def test_a_model_that_breaks_the_contract_is_one_config_error(name: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        build_bottom_model(DIGITS_BAND, BottomModelConfig(name=name))
    assert "\n" not in str(caught.value) and str(caught.value).startswith("bottom model ")


def test_the_shape_check_draws_no_random_numbers_and_leaves_the_mode() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.BatchNorm1d(32), nn.Linear(32, 4))
    stats = model[2].running_mean.clone()
    state = torch.get_rng_state()
    check_output(model, torch.ones(2, 32), 4, "bottom model x", "embed_dim")
    assert torch.equal(torch.get_rng_state(), state)
    assert model.training and torch.equal(model[2].running_mean, stats)


def test_a_lazy_model_is_materialised_under_the_party_seed() -> None:
    def lazy(shape: tuple[int, ...], cfg: BottomModelConfig) -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.LazyLinear(cfg.embed_dim))

    weights = []
    for _ in range(2):
        with seeded(7):
            weights.append(build_bottom_model(DIGITS_BAND, BottomModelConfig(name=lazy))[1].weight)
    assert weights[0].shape == (64, 32) and torch.equal(weights[0], weights[1])


def test_the_built_in_models_are_unchanged_by_the_check() -> None:
    """Same seed, same weights as the builder alone gives (the probe runs in eval mode)."""
    from vfl.models.bottom import build_mlp

    cfg = BottomModelConfig(name="mlp")
    with seeded(3):
        checked = build_bottom_model(DIGITS_BAND, cfg).state_dict()
    with seeded(3):
        plain = build_mlp(DIGITS_BAND, cfg).state_dict()
    assert checked.keys() == plain.keys()
    assert all(torch.equal(checked[k], plain[k]) for k in plain)


def test_a_user_top_model_sees_the_concatenation_and_mixes_it() -> None:
    top = build_top_model([3, 5], 4, custom=f"{MOD}:Top")
    assert isinstance(top, CustomTopModel) and isinstance(top.net, user_models.Top)
    a, b = torch.randn(6, 3), torch.randn(6, 5)
    joined = torch.cat([a, b], dim=1)
    assert torch.equal(top([a, b]), top.net(joined))
    mixing = torch.full((2, 6), 1 / 6)
    assert torch.allclose(top([a, b], mixing=mixing), top.net(mixing @ joined))
    assert top.penultimate([a, b]).shape == (6, 48)  # the module's own penultimate()
    assert isinstance(build_top_model([3, 5], 4), TopModel)  # no custom: the built-in


def test_a_sequential_top_has_a_penultimate_layer_and_other_modules_say_why_not() -> None:
    seq = build_top_model(
        [4], 3, custom=lambda d, k: nn.Sequential(nn.Linear(d, 6), nn.Linear(6, k))
    )
    assert seq.penultimate([torch.zeros(2, 4)]).shape == (2, 6)
    plain = build_top_model([4], 3, custom=nn.Linear)  # nn.Linear(in_features, out_features)
    with pytest.raises(ConfigError, match="no penultimate layer to probe"):
        plain.penultimate([torch.zeros(2, 4)])


def test_a_top_model_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"top model .*top_too_wide.*\[2, 10\].*got \[2, 11\]"):
        build_top_model([64, 64], 10, custom=f"{MOD}:top_too_wide")


def test_remote_parties_need_references_and_models_that_build() -> None:
    from vfl.data import load_dataset

    digits = load_dataset("digits", None, 0)
    lam = FederationSpec(model=BottomModelConfig(name=["mlp", lambda s, c: nn.Identity()]))
    with pytest.raises(ConfigError, match="is a Python object, but over there"):
        check_remote_parties(lam, digits, "over there")
    wrong = FederationSpec(model=BottomModelConfig(name=f"mlp,{MOD}:wrong_width"))
    with pytest.raises(ConfigError, match="wrong_width' must map"):
        check_remote_parties(wrong, digits, "over there")
    good = FederationSpec(model=BottomModelConfig(name=f"cnn,{MOD}:Tower"))
    state = torch.get_rng_state()
    check_remote_parties(good, digits, "over there")
    assert torch.equal(torch.get_rng_state(), state)
    assert good.model.reference("over there") == f"cnn,{MOD}:Tower"


def test_a_reference_next_to_the_working_directory_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``vfl`` (the console script, whose sys.path lacks the working directory) runs it."""
    package = tmp_path / "my_towers_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(
        "from torch import nn\n"
        "def build(shape, cfg):\n"
        "    return nn.Sequential(nn.Flatten(), nn.LazyLinear(cfg.embed_dim))\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "my_towers_pkg", raising=False)
    monkeypatch.delitem(sys.modules, "my_towers_pkg.models", raising=False)
    cfg = BottomModelConfig(name="my_towers_pkg.models:build", embed_dim=6)
    assert build_bottom_model((10,), cfg)(torch.zeros(3, 10)).shape == (3, 6)
    assert sys.path[-1] == str(tmp_path)


def test_a_spec_with_a_callable_still_dumps_as_text() -> None:
    spec = FederationSpec(
        model=BottomModelConfig(name=["mlp", user_models.tower]), top_model=user_models.Top
    )
    dumped = spec.model_dump(mode="json")
    assert dumped["model"]["name"] == ["mlp", f"{MOD}:tower"]
    assert dumped["top_model"] == f"{MOD}:Top"
