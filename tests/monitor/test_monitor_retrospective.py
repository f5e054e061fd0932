"""Retrospective change points (forward vs backward filter) on synthetic series."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cybersyn.monitor.retrospective import (
    RetroParams,
    change_points,
    disagreement,
    filter_change_points,
    local_maxima,
)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(6.0, 12.0), st.sampled_from([-1, 1]),
       st.integers(30, 90))
def test_a_step_is_found_where_it_is(seed: int, size: float, sign: int, at: int) -> None:
    rng = np.random.default_rng(seed)
    y = 10 + rng.normal(0, 1, 120)
    y[at:] += sign * size
    cps = filter_change_points(y)
    assert any(abs(c - at) <= 2 for c in cps)


def test_an_outlier_is_not_a_change_point_and_noise_has_few() -> None:
    rng = np.random.default_rng(2)
    found = 0
    for _ in range(20):
        y = 5 + rng.normal(0, 1, 150)
        y[75] += 12
        cps = filter_change_points(y)
        assert not any(abs(c - 75) <= 1 for c in cps)
        found += len(cps)
    assert found <= 20


def test_two_steps_give_two_change_points_at_least_min_segment_apart() -> None:
    rng = np.random.default_rng(8)
    y = rng.normal(0, 1, 200)
    y[60:] += 8
    y[130:] -= 8
    cps = filter_change_points(y, params=RetroParams(min_segment=10))
    assert [c for c in cps if abs(c - 60) <= 2] and [c for c in cps if abs(c - 130) <= 2]
    assert all(b - a >= 10 for a, b in itertools.pairwise(cps))


def test_local_maxima_match_a_brute_force() -> None:
    rng = np.random.default_rng(4)
    for _ in range(30):
        s = rng.exponential(1.0, 60)
        got = local_maxima(s, 1.5, 7)
        # brute force: take the largest remaining eligible score until none is left
        want: list[int] = []
        left = {i for i in range(60) if s[i] >= 1.5}
        while left:
            best = max(left, key=lambda i: (s[i], -i))
            want.append(best)
            left = {i for i in left if abs(i - best) >= 7}
        assert got == sorted(want)


def test_missing_values_do_not_break_the_statistic() -> None:
    rng = np.random.default_rng(6)
    y = rng.normal(0, 1, 100)
    y[50:] += 9
    y[[10, 49, 70]] = np.nan
    score = disagreement(y)
    assert np.isfinite(score).all()
    assert any(abs(c - 50) <= 2 for c in filter_change_points(y))


def test_retro_params_are_validated() -> None:
    with pytest.raises(ValueError, match="threshold"):
        RetroParams(threshold=0.0)
    with pytest.raises(ValueError, match="min_segment"):
        RetroParams(min_segment=0)


def test_change_points_are_the_bayesian_segmentation() -> None:
    from cybersyn.monitor import segment

    rng = np.random.default_rng(9)
    y = rng.normal(0, 1, 150)
    y[70:] += 5
    assert change_points(y) == segment.change_points(y)
    assert any(abs(c - 70) <= 2 for c in change_points(y))
