"""A user's package adds a bottom model and a method through entry points, without editing vfl.

Each test builds a tiny installed distribution in ``tmp_path`` (a ``*.dist-info``
folder with ``entry_points.txt``, next to its module) and puts it on ``sys.path``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from vfl.models.bottom import BottomModelConfig, build_bottom_model
from vfl.models.registry import BOTTOM_MODELS, bottom_model_names
from vfl.registry import reload_plugins
from vfl.unlearning import METHODS, UnlearningMethod, create_method, method_names

MODULE = "vfl_toy_plugin"
SOURCE = """
from pydantic import BaseModel
from torch import nn

from vfl.unlearning import UnlearningMethod


def tiny(feature_shape, cfg):
    return nn.Sequential(nn.Flatten(), nn.LazyLinear(cfg.embed_dim))


class ToyOptions(BaseModel):
    steps: int = 1


class Toy(UnlearningMethod):
    name = "toy"
    summary = "does nothing, with options"
    options_model = ToyOptions

    def __init__(self, options):
        self.options = options

    def run(self, ctx):
        pass
"""
ENTRY_POINTS = f"""
[vfl.bottom_models]
tiny = {MODULE}:tiny

[vfl.methods]
toy = {MODULE}:Toy
luv = {MODULE}:Toy
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The distribution ``vfl-toy-plugin`` installed on ``sys.path`` for one test."""
    (tmp_path / f"{MODULE}.py").write_text(SOURCE)
    info = tmp_path / "vfl_toy_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vfl-toy-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    with monkeypatch.context() as patch:
        patch.syspath_prepend(str(tmp_path))
        reload_plugins()
        yield
    sys.modules.pop(MODULE, None)
    reload_plugins()  # the next test sees the real installation again


def test_a_plugin_bottom_model_is_listed_without_import_and_built_by_name(plugin: None) -> None:
    assert "tiny" in bottom_model_names()
    assert MODULE not in sys.modules  # listing did not import the plug-in
    model = build_bottom_model((1, 4, 4), BottomModelConfig(name="tiny", embed_dim=5))
    assert model(torch.zeros(3, 1, 4, 4)).shape == (3, 5)
    assert BOTTOM_MODELS.get("tiny").__module__ == MODULE


def test_a_plugin_method_is_found_and_built_with_its_options(plugin: None) -> None:
    with pytest.warns(UserWarning, match="method 'luv' from vfl-toy-plugin is skipped"):
        names = method_names()
    assert "toy" in names and MODULE not in sys.modules
    cls = METHODS.get("toy")
    assert issubclass(cls, UnlearningMethod) and cls.__module__ == MODULE
    assert create_method("toy", {"steps": 4}).options.steps == 4
    assert METHODS.get("luv").__module__ == "vfl.unlearning.fewshot"  # a built-in is not replaced


def test_without_the_plugin_its_names_are_gone(plugin: None) -> None:
    assert "tiny" in bottom_model_names()
    sys.path.remove(next(p for p in sys.path if Path(p).joinpath(f"{MODULE}.py").exists()))
    reload_plugins()
    assert "tiny" not in bottom_model_names()
