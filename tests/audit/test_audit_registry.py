"""The attack and defense names the CLI lists without torch are the real ones."""

from __future__ import annotations

import pytest

from vfl.audit.registry import ATTACKS, DEFENSES
from vfl.errors import ConfigError


@pytest.mark.parametrize("attack", ATTACKS.names())
def test_each_listed_attack_loads_under_its_name(attack: str) -> None:
    assert ATTACKS.get(attack).name == attack
    assert ATTACKS.create(attack).name == attack


@pytest.mark.parametrize("defense", DEFENSES.names())
def test_each_listed_defense_loads_under_its_name(defense: str) -> None:
    assert DEFENSES.get(defense).name == defense


def test_an_attack_without_settings_refuses_options() -> None:
    with pytest.raises(ConfigError, match="attack 'norm' takes no options"):
        ATTACKS.create("norm", {"threshold": 1})
