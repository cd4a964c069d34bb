"""ToW and ToW-MIA on cases whose value is known by hand."""

from __future__ import annotations

import pytest

from vfl.metrics.tow import SplitAccuracy, tow, tow_mia


def test_tow_of_identical_models_is_one() -> None:
    model = SplitAccuracy(forget=0.0, retain=0.97, test=0.88, mia=0.12)
    assert tow(model, model) == 1.0
    assert tow_mia(model, model) == 1.0


def test_tow_multiplies_the_three_closeness_terms() -> None:
    retrained = SplitAccuracy(forget=0.0, retain=0.9, test=0.8, mia=0.1)
    unlearned = SplitAccuracy(forget=0.5, retain=0.8, test=0.9, mia=0.3)
    assert tow(unlearned, retrained) == pytest.approx(0.5 * 0.9 * 0.9)
    assert tow_mia(unlearned, retrained) == pytest.approx(0.8 * 0.9 * 0.9)


def test_forgetting_too_much_costs_as_much_as_too_little() -> None:
    retrained = SplitAccuracy(forget=0.3, retain=0.9, test=0.9)
    above = SplitAccuracy(forget=0.5, retain=0.9, test=0.9)
    below = SplitAccuracy(forget=0.1, retain=0.9, test=0.9)
    assert tow(above, retrained) == pytest.approx(tow(below, retrained)) == pytest.approx(0.8)
