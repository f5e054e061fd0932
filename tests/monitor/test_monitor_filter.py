"""The multi-process filter against independent answers and its invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cybersyn.monitor import (
    REGIMES,
    FilterParams,
    MultiProcessFilter,
    PosteriorRule,
    StepOutput,
    detect,
    new_state,
    state_from_bytes,
    state_to_bytes,
)
from cybersyn.monitor import _kernel as K


def plain_kalman(y, t, v, wl, ws, c0l, c0s):
    """Textbook Kalman filter for the linear-growth model (Harrison–Stevens W form),
    initialised at y[0]; returns forecasts, forecast variances, levels, slopes for y[1:]."""
    m = np.array([y[0], 0.0])
    C = v * np.diag([c0l, c0s])
    rows = []
    for k in range(1, len(y)):
        dt = t[k] - t[k - 1]
        G = np.array([[1.0, dt], [0.0, 1.0]])
        W = v * dt * np.array([[wl + ws, ws], [ws, ws]])
        a = G @ m
        R = G @ C @ G.T + W
        Q = R[0, 0] + v
        K_ = R[:, 0] / Q
        m = a + K_ * (y[k] - a[0])
        C = R - np.outer(K_, K_) * Q
        rows.append((a[0], Q, m[0], m[1]))
    return np.array(rows)


@pytest.mark.parametrize("irregular", [False, True])
def test_one_regime_fixed_variance_is_a_kalman_filter(irregular: bool) -> None:
    rng = np.random.default_rng(3)
    y = 50 + np.cumsum(rng.normal(0, 1, 60)) + rng.normal(0, 2, 60)
    t = np.cumsum(rng.uniform(0.5, 3.0, 60)) if irregular else np.arange(60.0)
    params = FilterParams(priors=(1.0, 0.0, 0.0, 0.0), learn_variance=False,
                          level_var=(0.3, 0, 0, 0), slope_var=(0.01, 0, 0, 0),
                          init_cv=0.05, init_level_var=2.0, init_slope_var=0.5)
    out = MultiProcessFilter(params).run(y, t)
    v = (0.05 * y[0]) ** 2
    ref = plain_kalman(y, t, v, 0.3, 0.01, 2.0, 0.5)
    np.testing.assert_allclose(out.forecast[1:], ref[:, 0], rtol=1e-10)
    np.testing.assert_allclose(out.forecast_var[1:], ref[:, 1], rtol=1e-10)
    np.testing.assert_allclose(out.level[1:], ref[:, 2], rtol=1e-10)
    np.testing.assert_allclose(out.slope[1:], ref[:, 3], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(out.p[1:, 0], 1.0)


series = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=40)


@settings(max_examples=40, deadline=None)
@given(series, st.sampled_from([1e-3, 0.5, 7.0, 1e4]))
def test_probabilities_sum_to_one_and_are_scale_invariant(ys: list[float], c: float) -> None:
    y = np.array(ys) + 1e3 + 1.0  # keep the first value non-zero
    f = MultiProcessFilter()
    a, b = f.run(y), f.run(c * y)
    for out in (a, b):
        np.testing.assert_allclose(out.p.sum(axis=1), 1.0, atol=1e-12)
        np.testing.assert_allclose(out.p_prev.sum(axis=1), 1.0, atol=1e-12)
        assert np.all((out.score >= 0) & (out.score <= 1))
    np.testing.assert_allclose(a.p, b.p, atol=1e-7)
    np.testing.assert_allclose(c * a.forecast, b.forecast, rtol=1e-7, atol=1e-9 * c)


def signals(values: np.ndarray, params: PosteriorRule | None = None) -> list[tuple[int, str]]:
    out = MultiProcessFilter().run(values)
    found = []
    for k in range(values.size):
        d = detect(StepOutput(out.raw[k : k + 1], out.count[k : k + 1]), params)
        found += [(k - 1, d.kind_name(i)) for i in range(len(d))]
    return found


def _classified(seed: int, size: float, sign: int, kind: str) -> bool:
    rng = np.random.default_rng(seed)
    y = 100 + rng.normal(0, 1, 60)
    if kind == "step":
        y[40:] += sign * size
    else:
        y[40] += sign * (size + 4)
    after = [s for s in signals(y) if s[0] >= 40]
    return bool(after) and after[0][1] == kind and after[0][0] - 40 <= 2


# Detection is statistical: at 8 sd about 5% of steps are missed at the default threshold,
# and hypothesis found a 10 sd step (seed 22942) that is missed too (docs/monitor.md). So the
# property checked is a rate over fixed draws, not every single draw.
@pytest.mark.parametrize("kind", ["step", "transient"])
def test_step_and_outlier_are_classified(kind: str) -> None:
    rng = np.random.default_rng(1976)
    cases = [(int(rng.integers(2**32)), float(rng.uniform(10, 30)), int(rng.choice([-1, 1])))
             for _ in range(120)]
    hits = sum(_classified(seed, size, sign, kind) for seed, size, sign in cases)
    assert hits >= 0.97 * len(cases)
    assert _classified(22942, 10.0, -1, "transient")  # an outlier is never a step there


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(2.0, 4.0), st.sampled_from([-1, 1]))
def test_slope_change_is_tracked(seed: int, slope: float, sign: int) -> None:
    rng = np.random.default_rng(seed)
    y = 100 + rng.normal(0, 1, 70)
    y[40:] += sign * slope * np.arange(30)
    out = MultiProcessFilter().run(y)
    assert abs(out.slope[50] - sign * slope) < 0.35 * slope


def test_steady_noise_raises_no_signal() -> None:
    rng = np.random.default_rng(11)
    found = [signals(20 + rng.normal(0, 1, 200)) for _ in range(5)]
    assert sum(len(f) for f in found) <= 1


def test_save_restore_is_bit_identical() -> None:
    rng = np.random.default_rng(5)
    y = 10 + rng.normal(0, 1, (50, 6)).cumsum(axis=0)
    f = MultiProcessFilter()
    s = new_state(6)
    for k in range(30):
        f.update(s, y[k], float(k))
    r = state_from_bytes([state_to_bytes(s, i) for i in range(6)])
    assert r.tobytes() == s.tobytes()
    for k in range(30, 50):
        a, b = f.update(s, y[k], float(k)), f.update(r, y[k], float(k))
        assert a.raw.tobytes() == b.raw.tobytes()
    assert r.tobytes() == s.tobytes()


def test_nan_never_touches_a_neighbour() -> None:
    rng = np.random.default_rng(9)
    y = 5 + rng.normal(0, 1, (40, 3))
    y[[3, 10, 11, 25], 1] = np.nan
    f = MultiProcessFilter()
    s = new_state(3)
    rows = []
    for k in range(40):
        before = s[1:2].tobytes()
        o = f.update(s, y[k], float(k))
        rows.append(o.raw.copy())
        if np.isnan(y[k, 1]):
            assert s[1:2].tobytes() == before
            assert np.all(np.isnan(o.raw[1]))
    got = np.stack(rows)
    for j in (0, 2):
        alone = f.run(y[:, j])
        assert got[:, j].tobytes() == alone.raw.tobytes()
    assert np.all(np.isfinite(got[12:, 1][~np.isnan(y[12:, 1])]))


def test_parallel_kernel_equals_serial() -> None:
    rng = np.random.default_rng(2)
    prm = FilterParams().as_array()
    states = [new_state(500), new_state(500)]
    for k in range(5):
        y = 3 + rng.normal(0, 1, 500)
        y[rng.integers(0, 500, 20)] = np.nan
        t = np.full(500, float(k))
        outs = []
        for s, kern in zip(states, (K.step_serial, K.step_parallel), strict=True):
            out = np.empty((500, K.N_OUT))
            kern(y, t, prm, *K.views(s), out, np.empty(500, dtype=np.int32))
            outs.append(out)
        assert outs[0].tobytes() == outs[1].tobytes()
        assert states[0].tobytes() == states[1].tobytes()


def test_state_is_256_bytes_per_series() -> None:
    assert new_state(10).nbytes == 2560


@pytest.mark.parametrize("kwargs, message", [
    ({"priors": (0.5, 0.5, 0.5, 0.5)}, "priors summing to 1"),
    ({"priors": (0.0, 0.5, 0.5, 0.0)}, "steady"),
    ({"obs_var": (1.0, 1.0, 1.0, 0.0)}, "obs_var > 0"),
    ({"variance_discount": 0.0}, "variance_discount"),
    ({"level_var": (1.0, 2.0)}, "4 finite numbers"),
])
def test_params_are_validated(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FilterParams(**kwargs)  # type: ignore[arg-type]


def test_detect_params_and_regime_names() -> None:
    with pytest.raises(ValueError, match="threshold"):
        PosteriorRule(threshold=1.5)
    assert REGIMES == ("steady", "step", "slope", "transient")
    with pytest.raises(ValueError, match="unknown"):
        FilterParams.from_dict({"prior": [1, 0, 0, 0]})
    assert FilterParams.from_dict({"priors": [1, 0, 0, 0]}).priors == (1, 0, 0, 0)
