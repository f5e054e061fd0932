"""Claims rules against hand-computed cases (O'Neill 1982; Aumann & Maschler 1985 Talmud
examples) and their axioms by property tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from cybersyn.supply import allocate, allocate_tiered

TALMUD = np.array([100.0, 200.0, 300.0])


@pytest.mark.parametrize(("rule", "estate", "expected"), [
    ("proportional", 300, [50, 100, 150]),
    ("proportional", 100, [100 / 6, 200 / 6, 300 / 6]),
    ("cea", 100, [100 / 3] * 3),
    ("cea", 200, [200 / 3] * 3),
    ("cea", 300, [100, 100, 100]),
    ("cea", 500, [100, 200, 200]),
    ("cel", 300, [0, 100, 200]),
    ("cel", 200, [0, 50, 150]),
    ("cel", 500, [100 - 100 / 3, 200 - 100 / 3, 300 - 100 / 3]),
    ("cea", 600, [100, 200, 300]),
    ("cel", 700, [100, 200, 300]),
])
def test_talmud_hand_computed(rule: str, estate: float, expected: list[float]) -> None:
    assert_allclose(allocate(TALMUD, estate, rule), expected)


def test_priority_class_served_first() -> None:
    claims = np.array([[2.0, 1.0], [2.0, 1.0], [4.0, 1.0]])
    prio = np.array([0, 1, 1])
    out = allocate(claims, np.array([4.0, 1.0]), "cea", prio)
    assert_allclose(out, [[2, 1], [1, 0], [1, 0]])


def test_integer_cumulative_rounding_hand_computed() -> None:
    out = allocate(np.array([3.0, 3.0, 3.0]), 4, "proportional", integer=True)
    assert_allclose(out, [1, 1, 2])  # running sums 4/3, 8/3, 4 floored: 1, 2, 4
    out = allocate(np.array([1.0, 5.0]), 3.7, "cea", integer=True)
    assert_allclose(out, [1, 2])


def test_tiers_children_milk_first() -> None:
    child = np.array([[15.0], [0.0], [30.0]])
    rest = np.array([[10.0], [20.0], [10.0]])
    t0, t1 = allocate_tiered([child, rest], 55.0, "proportional")
    assert_allclose(t0, child)
    assert_allclose(t1, [[2.5], [5.0], [2.5]])


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="Expected rule"):
        allocate(TALMUD, 1, "lottery")
    with pytest.raises(ValueError, match="claims >= 0"):
        allocate(np.array([-1.0]), 1)
    with pytest.raises(ValueError, match="whole-number"):
        allocate(np.array([1.5]), 1, integer=True)


def _reference(c: np.ndarray, e: float, rule: str) -> np.ndarray:
    """Independent reference: bisection on the rule's parameter, one good."""
    total = c.sum()
    if e >= total:
        return c.copy()
    if rule == "proportional":
        return c * e / total
    f = (lambda t: np.minimum(c, t)) if rule == "cea" else (lambda t: np.maximum(c - t, 0))
    lo, hi = 0.0, float(c.max())
    for _ in range(200):
        mid = (lo + hi) / 2
        s = f(mid).sum()
        if (s < e) == (rule == "cea"):
            lo = mid
        else:
            hi = mid
    return f((lo + hi) / 2)


claims_st = st.lists(st.integers(0, 50), min_size=1, max_size=12).map(
    lambda v: np.array(v, dtype=float))
rules = st.sampled_from(["proportional", "cea", "cel"])


@settings(max_examples=150, deadline=None)
@given(claims_st, st.floats(0, 700), rules)
def test_matches_reference_and_bounds(c: np.ndarray, e: float, rule: str) -> None:
    x = allocate(c, e, rule)
    assert_allclose(x, _reference(c, e, rule), atol=1e-6)
    assert np.all(x >= -1e-12) and np.all(x <= c + 1e-9)
    assert x.sum() == pytest.approx(min(e, c.sum()), abs=1e-7)


@settings(max_examples=150, deadline=None)
@given(claims_st, st.floats(0, 700), st.floats(0, 100), rules)
def test_resource_monotonicity(c: np.ndarray, e: float, extra: float, rule: str) -> None:
    assert np.all(allocate(c, e + extra, rule) >= allocate(c, e, rule) - 1e-9)


@settings(max_examples=150, deadline=None)
@given(claims_st, st.floats(0, 700), rules, st.booleans())
def test_equal_treatment_of_equals(c: np.ndarray, e: float, rule: str, integer: bool) -> None:
    c2 = np.append(c, c[0])
    x = allocate(c2, e, rule, integer=integer)
    assert abs(x[0] - x[-1]) <= (1.0 if integer else 1e-9)


@settings(max_examples=150, deadline=None)
@given(claims_st, st.integers(0, 700), rules,
       st.lists(st.integers(0, 2), min_size=12, max_size=12))
def test_integer_priority_bounds(c: np.ndarray, e: int, rule: str, p: list[int]) -> None:
    prio = np.array(p[: c.size])
    x = allocate(c, e, rule, prio, integer=True)
    assert np.all(x == np.round(x)) and np.all(x >= 0) and np.all(x <= c)
    assert x.sum() == min(e, c.sum())
    # a lower class is cut only if every higher-priority claim is met in full
    for k in np.unique(prio):
        if np.any(x[prio == k] < c[prio == k]):
            assert np.all(x[prio > k] == 0)
    # quota: within one unit of the continuous award
    cont = allocate(c, e, rule, prio)
    assert np.all(np.abs(x - cont) < 1 + 1e-9)


def test_many_goods_match_per_good() -> None:
    rng = np.random.default_rng(3)
    c = rng.integers(0, 10, (200, 5)).astype(float)
    e = c.sum(axis=0) * np.array([0.2, 0.5, 0.9, 1.0, 1.3])
    for rule in ("proportional", "cea", "cel"):
        x = allocate(c, e, rule)
        for j in range(5):
            assert_allclose(x[:, j], _reference(c[:, j], e[j], rule), atol=1e-6)
