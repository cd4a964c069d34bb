"""The one registry mechanism: lazy built-ins, refusals that name the choices, options."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from vfl.errors import ConfigError
from vfl.registry import Registry


class Knobs(BaseModel):
    depth: int = Field(2, ge=1)
    label: str = "x"


class Configured:
    options_model = Knobs

    def __init__(self, options: Knobs) -> None:
        self.options = options


class Plain:
    pass


@pytest.fixture
def lazy_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module on ``sys.path`` that nobody has imported yet."""
    name = f"vfl_registry_probe_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text("class Thing:\n    name = 'thing'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_a_builtin_is_listed_without_importing_it_and_imported_on_get(lazy_module: str) -> None:
    reg: Registry[type] = Registry("widget", "vfl.test-widgets", {"thing": f"{lazy_module}:Thing"})
    assert reg.names() == ["thing"] and "thing" in reg
    assert lazy_module not in sys.modules
    assert reg.get("thing").name == "thing"
    assert lazy_module in sys.modules


def test_an_unknown_name_is_one_line_listing_the_choices() -> None:
    reg: Registry[type] = Registry("widget", "vfl.test-widgets", {"b": "x:y", "a": "x:y"})
    with pytest.raises(ConfigError, match=r"^unknown widget 'c'; choose one of: a, b$"):
        reg.get("c")


def test_a_reference_that_does_not_resolve_says_so() -> None:
    reg: Registry[type] = Registry("widget", "vfl.test-widgets", {"gone": "vfl.registry:Missing"})
    with pytest.raises(ConfigError, match=r"widget 'gone' is not available .*no attribute"):
        reg.get("gone")


def test_a_taken_name_is_refused_builtin_or_registered() -> None:
    reg: Registry[type] = Registry("widget", "vfl.test-widgets", {"thing": "x:y"})
    with pytest.raises(ConfigError, match="widget 'thing' is registered already"):
        reg.register("thing", Plain)
    assert reg.register("plain", Plain) is Plain and reg.get("plain") is Plain
    with pytest.raises(ConfigError, match="widget 'plain' is registered already"):
        reg.register("plain", Configured)
    assert reg.get("plain") is Plain


def test_create_validates_options_against_the_entry_model() -> None:
    reg: Registry[type] = Registry("widget", "vfl.test-widgets", {})
    reg.register("configured", Configured)
    reg.register("plain", Plain)
    assert reg.create("configured").options == Knobs()
    assert reg.create("configured", {"depth": "3"}).options == Knobs(depth=3)
    with pytest.raises(ConfigError, match="unknown option 'dpth' for widget 'configured'; "):
        reg.create("configured", {"dpth": 3})
    with pytest.raises(ConfigError, match="invalid option 'depth' for widget 'configured'"):
        reg.create("configured", {"depth": 0})
    assert isinstance(reg.create("plain"), Plain)
    with pytest.raises(ConfigError, match="widget 'plain' takes no options; got \\['depth'\\]"):
        reg.create("plain", {"depth": 3})
