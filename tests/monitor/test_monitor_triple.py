from __future__ import annotations

import numpy as np
import pytest

from cybersyn.monitor import triple_index


def test_triple_index_by_hand() -> None:
    ti = triple_index(np.array([80.0, 120.0, np.nan]), 100.0, 200.0)
    np.testing.assert_allclose(ti.productivity, [0.8, 1.0, np.nan])
    np.testing.assert_allclose(ti.latency, [0.5, 0.5, 0.5])
    np.testing.assert_allclose(ti.performance, [0.4, 0.6, np.nan])


def test_performance_is_productivity_times_latency() -> None:
    rng = np.random.default_rng(0)
    c = rng.uniform(1, 10, 50)
    p = c + rng.uniform(0, 10, 50)
    a = rng.uniform(0, 1, 50) * c
    ti = triple_index(a, c, p)
    np.testing.assert_allclose(ti.performance, ti.productivity * ti.latency)


def test_capability_above_potentiality_is_rejected() -> None:
    with pytest.raises(ValueError, match="capability <= potentiality"):
        triple_index(1.0, 5.0, 4.0)
