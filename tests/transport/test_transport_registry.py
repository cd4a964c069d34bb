"""The transport registry: unknown names and missing optional extras fail with a clear error."""

from __future__ import annotations

import pytest

from vfl.errors import ConfigError
from vfl.registry import Registry
from vfl.transport import registry


def test_unknown_transport_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="unknown transport 'carrier-pigeon'; choose one of: "):
        registry.open_federation("carrier-pigeon", None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "hint"), [("flower", "pip install 'vfl[flower]'"), ("grpc", None)]
)
def test_a_transport_that_cannot_import_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, name: str, hint: str | None
) -> None:
    broken = Registry(
        "transport",
        "vfl.transports",
        {name: "vfl_no_such_module:factory"},
        extras={"flower": "vfl[flower]"},
    )
    monkeypatch.setattr(registry, "TRANSPORTS", broken)
    with pytest.raises(ConfigError, match=f"transport '{name}' is not available") as info:
        registry.open_federation(name, None, None)  # type: ignore[arg-type]
    assert "vfl_no_such_module" in str(info.value)
    if hint is None:
        assert "pip install" not in str(info.value)
    else:
        assert hint in str(info.value)
