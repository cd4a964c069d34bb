"""The attack and defense names the CLI lists without torch are the real ones."""

from __future__ import annotations

import pytest

from vfl.audit.config import DEFENSE_NAMES
from vfl.audit.defenses import defense_names
from vfl.audit.registry import attack_names, get_attack


@pytest.mark.parametrize("attack", attack_names())
def test_each_listed_attack_loads_under_its_name(attack: str) -> None:
    assert get_attack(attack).name == attack


def test_the_torch_free_defense_names_match_the_defenses() -> None:
    assert list(DEFENSE_NAMES) == defense_names()
