"""Sharing household goods among districts: the fallback claims rules against hand-computed
answers and against the supply package's allocation core."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from cybersyn.simulate.districts import fallback_allocate, met_share, supply_allocator
from cybersyn.simulate.params import Policy


def test_fallback_rules_by_hand() -> None:
    claims = np.array([[10.0], [20.0], [30.0]])
    supply = np.array([30.0])
    np.testing.assert_allclose(fallback_allocate(claims, supply, "proportional")[:, 0],
                               [5, 10, 15])
    np.testing.assert_allclose(fallback_allocate(claims, supply, "cea")[:, 0], [10, 10, 10])
    np.testing.assert_allclose(fallback_allocate(claims, supply, "cel")[:, 0], [0, 10, 20])
    np.testing.assert_allclose(fallback_allocate(claims, np.array([100.0]), "cea"), claims)


@pytest.mark.skipif(importlib.util.find_spec("cybersyn.supply") is None,
                    reason="supply package not installed")
@pytest.mark.parametrize("rule", ["proportional", "cea", "cel"])
def test_fallback_agrees_with_supply_core(rule: str) -> None:
    allocate = supply_allocator()
    assert allocate is not fallback_allocate
    rng = np.random.default_rng(0)
    claims = rng.uniform(0, 10, (6, 4))
    supply = claims.sum(axis=0) * np.array([0.3, 0.7, 1.0, 1.5])
    np.testing.assert_allclose(fallback_allocate(claims, supply, rule),
                               allocate(claims, supply, rule=rule), rtol=1e-6, atol=1e-9)


def test_met_share_value_weighted() -> None:
    weight = np.array([0.5, 0.5])
    value = np.array([1.0, 3.0])
    requested = np.array([10.0, 10.0])
    delivered = np.array([10.0, 5.0])      # good 1 half delivered: 3*5 of 40 hours short
    met = met_share(weight, np.zeros(2), value, requested, delivered, 0.0,
                    Policy("rationing"), fallback_allocate)
    np.testing.assert_allclose(met, [1 - 15 / 40, 1 - 15 / 40])
