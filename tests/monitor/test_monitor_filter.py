"""The multi-process filter against independent answers and its invariants."""

from __future__ import annotations

import numba as nb
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
from cybersyn.monitor import _reference as R


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


# -- the vectorised kernel against the plain per-series Python filter -------------------


def _reference_run(y: np.ndarray, t: np.ndarray, params: FilterParams) -> np.ndarray:
    """(T, N, 15) outputs of `_reference.step`, one series at a time."""
    prm = [float(x) for x in params.as_array()]
    states = [R.RefState() for _ in range(y.shape[1])]
    return np.array([[R.step(states[j], float(y[k, j]), float(t[k, j]), prm)
                      for j in range(y.shape[1])] for k in range(y.shape[0])])


@pytest.mark.parametrize("params", [FilterParams(), FilterParams(
    priors=(0.7, 0.1, 0.1, 0.1), variance_discount=1.0, level_var=(0.1, 30.0, 0.1, 0.1)),
    FilterParams(learn_variance=False)])
def test_kernel_equals_the_per_series_python_filter(params: FilterParams) -> None:
    rng = np.random.default_rng(17)
    n, steps = 75, 40  # two full tiles of 32 and a part tile of 11
    y = 100 + rng.normal(0, 1, (steps, n)).cumsum(axis=0) * 0.3 + rng.normal(0, 1, (steps, n))
    y[20:, :15] += 12.0
    y[25, 30:40] -= 40.0
    y *= rng.choice([1e-3, 1.0, 1e4], n)
    y[rng.random((steps, n)) < 0.08] = np.nan
    t = np.cumsum(rng.uniform(0.2, 3.0, (steps, n)), axis=0)
    f = MultiProcessFilter(params)
    s = new_state(n)
    got = np.stack([f.update(s, y[k], t[k]).raw.copy() for k in range(steps)])
    ref = _reference_run(y, t, params)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    ok = ~np.isnan(ref)
    scale = np.abs(y[~np.isnan(y)]).max()
    prob = np.zeros(K.N_OUT, dtype=bool)
    prob[K.OUT_P : K.OUT_PPREV + 4] = True
    prob[K.OUT_SCORE] = True
    for c in range(K.N_OUT):  # probabilities absolutely, the rest relative to the data
        a, b = got[:, :, c][ok[:, :, c]], ref[:, :, c][ok[:, :, c]]
        if prob[c]:
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-10, err_msg=f"column {c}")
        else:
            mag = scale**2 if c == K.OUT_FVAR else scale
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * mag, err_msg=f"column {c}")
    for j in range(n):  # and the records agree: the state is the same state
        rec = R.from_record(s[j])
        ref_state = R.RefState()
        for k in range(steps):
            R.step(ref_state, float(y[k, j]), float(t[k, j]),
                   [float(x) for x in params.as_array()])
        assert rec.count == ref_state.count
        np.testing.assert_allclose(rec.p, ref_state.p, atol=1e-10)
        np.testing.assert_allclose(rec.m, ref_state.m, rtol=1e-9, atol=1e-9 * scale)


def test_own_exp_and_log1p_match_the_c_library() -> None:
    @nb.njit(fastmath={"contract"})  # as in the kernel
    def both(x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        e = np.empty_like(x)
        g = np.empty_like(z)
        for i in range(x.size):
            e[i] = K._exp(x[i])
            g[i] = K._log1p(z[i])
        return e, g

    rng = np.random.default_rng(4)
    x = np.concatenate([-np.abs(rng.normal(0, 1, 3000)) * 10.0 ** rng.uniform(-12, 2.8, 3000),
                        [0.0, -1e-300, -0.34657359, -0.34657360, -700.0, -708.3, -708.4,
                         -1e4, -np.inf]])
    z = np.concatenate([10.0 ** rng.uniform(-18, 300, 3000),
                        [0.0, 1e-300, 2**-53, 0.4142135, 0.4142136, 1.0, 1e308, np.inf]])
    e, g = both(x, z)
    ref_e = np.exp(np.where(x < K._EXP_MIN, -np.inf, x))  # below -708.39 we return 0
    ref_g = np.log1p(z)
    np.testing.assert_allclose(e, ref_e, rtol=4e-16, atol=0)
    np.testing.assert_allclose(g, ref_g, rtol=4e-16, atol=0)
    assert both(np.array([0.0]), np.array([0.0]))[0][0] == 1.0  # a lone branch weighs 1
    assert np.isnan(both(np.array([np.nan]), np.array([np.nan]))[0][0])


def test_a_series_gives_the_same_bits_wherever_it_sits() -> None:
    # A series alone (narrow tile), among others in a wide tile, at a tile's last column,
    # and in a part tile of the parallel kernel: always the same bits.
    rng = np.random.default_rng(8)
    steps = 25
    mine = 50 + rng.normal(0, 1, steps).cumsum()
    mine[[4, 9]] = np.nan
    alone = MultiProcessFilter().run(mine)
    for n, pos in ((3, 1), (40, 31), (40, 39), (100, 64), (25_000, 24_999), (25_000, 777)):
        y = 50 + rng.normal(0, 1, (steps, n)).cumsum(axis=0)
        y[:, pos] = mine
        f = MultiProcessFilter()
        s = new_state(n)
        rows = [f.update(s, y[k], float(k)).raw[pos].copy() for k in range(steps)]
        assert np.stack(rows).tobytes() == alone.raw.tobytes(), (n, pos)
