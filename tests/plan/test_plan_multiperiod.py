"""The five-year plan by row generation against the one big LP (independent: HiGHS on the
full x, z, λ model) on small random economies, and every plan checked feasible."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cybersyn.errors import InvalidInput
from cybersyn.plan import MultiPeriodParams, MultiPeriodResult, PlanProblem, multi_period_plan
from cybersyn.plan.leontief import Leontief, leontief_output
from cybersyn.plan.multiperiod import default_capital, max_violation
from cybersyn.plan.problem import PlanResult
from cybersyn.plan.synthetic import random_economy
from cybersyn.testing import assert_plan_feasible


def assert_multi_period_feasible(r: MultiPeriodResult, params: MultiPeriodParams,
                                 Bk: sp.spmatrix, rtol: float = 1e-6) -> None:
    """Every year is a feasible one-period plan (assert_plan_feasible on x ≤ Kₜ,
    l·x ≤ Lₜ, (I − A)x ≥ λtₜ), capacity follows Kₜ₊₁ = (1 − δ)Kₜ + zₜ from the problem's
    capacity, investment is ≥ 0 and only where capacity is limited, and what is left for
    final use after investment, (I − A)xₜ − Bk zₜ, is ≥ λtₜ."""
    p = r.problem
    assert p.capacity is not None
    scale = max(1.0, float(np.abs(r.x).max()))
    np.testing.assert_allclose(r.capacity[0], p.capacity, rtol=1e-12)
    for t in range(1, r.periods):
        np.testing.assert_allclose(
            r.capacity[t], (1 - params.depreciation) * r.capacity[t - 1] + r.investment[t - 1],
            rtol=1e-9, atol=1e-9 * scale)
    assert np.all(r.investment >= 0)
    assert np.all(r.investment[:, ~np.isfinite(p.capacity)] == 0)
    for t in range(r.periods):
        year = PlanProblem(p.A, p.labour, r.targets[t], labour_available=r.labour_available[t],
                           capacity=r.capacity[t])
        gross_net = year.net_output(r.x[t])
        assert_plan_feasible(PlanResult(year, r.x[t], gross_net, "kantorovich", r.lam, r.lam,
                                        r.prices[t], 0.0, np.zeros(p.n), np.zeros(0), (),
                                        r.method), rtol=rtol)
        final = gross_net - Bk @ r.investment[t]
        np.testing.assert_allclose(r.net[t], final, rtol=1e-9, atol=1e-9 * scale)
        tscale = np.maximum(r.targets[t], 1.0)
        short = final - r.lam * r.targets[t]
        assert np.all(short >= -rtol * np.maximum(scale, tscale)), \
            f"year {t}: final use below λ·target by {-short.min()}"


def _economy(n: int, seed: int, *, slack: float, cap: float, uncapped: float = 0.0,
             labour: bool = True) -> PlanProblem:
    eco = random_economy(n, seed=seed, inputs=(3, min(12, n - 1)))
    need = float(eco.labour @ leontief_output(eco.A, eco.final_demand))
    capacity = eco.capacity * cap
    if uncapped:
        rng = np.random.default_rng(seed)
        capacity[rng.random(n) < uncapped] = np.inf
    return PlanProblem(eco.A, eco.labour, eco.final_demand,
                       labour_available=slack * need if labour else np.inf, capacity=capacity)


def _both(p: PlanProblem, params: MultiPeriodParams, **kw: object
          ) -> tuple[MultiPeriodResult, MultiPeriodResult]:
    ours = multi_period_plan(p, params, method="rows", **kw)  # type: ignore[arg-type]
    lp = multi_period_plan(p, params, method="lp", **kw)  # type: ignore[arg-type]
    return ours, lp


CASES = [  # n, seed, labour slack, capacity scale, share uncapped, labour limited, params
    (50, 0, 1.0, 1.0, 0.0, True, MultiPeriodParams()),
    (120, 1, 0.9, 0.8, 0.0, True, MultiPeriodParams(depreciation=0.1, capital_ratio=3.0)),
    (200, 2, 1.2, 1.0, 0.3, True, MultiPeriodParams(periods=4, labour_growth=0.0)),
    (300, 3, 1.0, 1.0, 0.0, True, MultiPeriodParams()),
    (150, 4, 1.0, 0.9, 0.1, False, MultiPeriodParams(periods=3, target_growth=0.1)),
    (80, 5, 0.8, 1.5, 0.0, True, MultiPeriodParams(periods=1)),
    (100, 6, 1.1, 1.0, 0.0, True, MultiPeriodParams(periods=6, depreciation=0.0)),
]


@pytest.mark.parametrize(("n", "seed", "slack", "cap", "uncapped", "labour", "params"), CASES)
def test_rows_equal_the_one_lp(n: int, seed: int, slack: float, cap: float, uncapped: float,
                               labour: bool, params: MultiPeriodParams) -> None:
    p = _economy(n, seed, slack=slack, cap=cap, uncapped=uncapped, labour=labour)
    ours, lp = _both(p, params)
    assert ours.lam == pytest.approx(lp.lam, rel=1e-6)
    # the certificate brackets the independent LP's optimum
    assert ours.gap <= 1e-7
    assert lp.lam <= ours.lam / (1 - ours.gap) * (1 + 1e-7)
    assert ours.method.startswith("HiGHS row generation")
    Bk = default_capital(p.A, params.capital_ratio)
    assert_multi_period_feasible(ours, params, Bk)
    assert_multi_period_feasible(lp, params, Bk)
    assert max_violation(ours) <= 1e-8


def test_given_targets_and_capital_matrix() -> None:
    p = _economy(90, 7, slack=1.0, cap=1.0)
    params = MultiPeriodParams(periods=4)
    rng = np.random.default_rng(7)
    targets = np.abs(rng.normal(1.0, 0.3, (4, 90))) * p.targets[None, :]
    targets[2, :10] = 0.0
    Bk = sp.random(90, 90, density=0.05, random_state=7, format="csr") * 0.5
    ours, lp = _both(p, params, targets=targets, capital=Bk)
    assert ours.lam == pytest.approx(lp.lam, rel=1e-6)
    assert_multi_period_feasible(ours, params, Bk)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), slack=st.floats(0.6, 1.4), cap=st.floats(0.6, 1.6),
       dep=st.floats(0.0, 0.3), ratio=st.floats(0.5, 4.0), periods=st.integers(1, 5))
def test_rows_equal_the_one_lp_on_random_economies(seed: int, slack: float, cap: float,
                                                   dep: float, ratio: float,
                                                   periods: int) -> None:
    p = _economy(40, seed, slack=slack, cap=cap)
    params = MultiPeriodParams(periods=periods, depreciation=dep, capital_ratio=ratio)
    ours, lp = _both(p, params)
    assert ours.lam == pytest.approx(lp.lam, rel=1e-6)
    assert_multi_period_feasible(ours, params, default_capital(p.A, ratio))


def test_shadow_prices_price_the_binding_limits() -> None:
    """Strong duality with the reported shadow prices: λ equals Σₜ wₜLₜ + Σ rₜⱼ(1 − δ)ᵗK₀ⱼ,
    the first-year capacity (depreciated) and each year's labour valued at their prices."""
    p = _economy(120, 8, slack=1.0, cap=1.0)
    params = MultiPeriodParams()
    r = multi_period_plan(p, params)
    assert p.capacity is not None
    keep = 1 - params.depreciation
    index = {name: j for j, name in enumerate(p.activity_names)}
    value = 0.0
    for t, year in enumerate(r.binding):
        for b in year:
            if b.kind == "labour":
                value += b.shadow_price * b.limit
            else:
                value += b.shadow_price * keep ** t * p.capacity[index[b.name]]
    assert value == pytest.approx(r.lam, rel=1e-6)
    assert any(b.kind == "capacity" for b in r.binding[-1])
    assert any(b.kind == "labour" for year in r.binding for b in year)


def test_unbounded_plan_is_still_explained() -> None:
    eco = random_economy(30, seed=9, inputs=(2, 5))
    p = PlanProblem(eco.A, eco.labour, eco.final_demand)
    with pytest.raises(InvalidInput, match="unbounded"):
        multi_period_plan(p, MultiPeriodParams(periods=3))
    with pytest.raises(InvalidInput, match="method must be"):
        multi_period_plan(p, MultiPeriodParams(periods=3), method="magic")
    for gap in (-1e-6, 1.0, float("nan")):
        with pytest.raises(InvalidInput, match="gap must be"):
            multi_period_plan(p, MultiPeriodParams(periods=3), gap=gap)
    for seconds in (0.0, -5.0, float("nan")):
        with pytest.raises(InvalidInput, match="time_limit must be"):
            multi_period_plan(p, MultiPeriodParams(periods=3), time_limit=seconds)


def test_out_of_time_returns_a_feasible_plan_with_valid_bounds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """When HiGHS runs out of time after the first round, the plan returned is feasible and
    its certified bounds still bracket the true optimum (the one LP's λ)."""
    import cybersyn.plan.multiperiod_rows as rows

    p = _economy(150, 10, slack=1.0, cap=1.0)
    params = MultiPeriodParams()
    exact = multi_period_plan(p, params, method="lp")
    solve = rows._Master.solve
    calls = {"n": 0}

    def first_only(self: rows._Master, seconds: float) -> tuple[float, np.ndarray] | None:
        calls["n"] += 1
        return solve(self, seconds) if calls["n"] == 1 else None

    monkeypatch.setattr(rows._Master, "solve", first_only)
    r = multi_period_plan(p, params)
    assert calls["n"] == 2   # the first master overloads rows outside it: a second round
    upper = r.lam / (1 - r.gap)
    assert r.lam <= exact.lam * (1 + 1e-9)
    assert exact.lam <= upper * (1 + 1e-9)
    assert r.gap > 0
    assert_multi_period_feasible(r, params, default_capital(p.A, params.capital_ratio))


def test_max_violation_sees_an_overloaded_plan() -> None:
    from dataclasses import replace

    p = _economy(60, 11, slack=1.0, cap=1.0)
    r = multi_period_plan(p, MultiPeriodParams(periods=3))
    assert max_violation(r) <= 1e-8
    assert max_violation(replace(r, x=r.x * 1.01)) >= 0.005   # a binding capacity exceeded
    assert max_violation(replace(r, lam=r.lam * 1.01)) >= 0.009   # final use short



def test_each_round_gets_its_own_time_on_the_highs_clock(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """HiGHS's time_limit is compared with the instance's run clock, which accumulates over
    the rounds: every round's limit must lie beyond the clock already used (a fake clock
    here: no test reads time)."""
    import cybersyn.plan.multiperiod_rows as rows

    highs_clock = 100.0   # a fake reading of HiGHS's run clock: arithmetic, not timing
    assert rows.round_time_limit(highs_clock, 5.0) == 105.0
    assert rows.round_time_limit(highs_clock, 0.2) == 101.0   # at least one second
    seen: list[tuple[float, float]] = []   # (seconds left, the time_limit option set)
    solve = rows._Master.solve

    def spy(self: rows._Master, seconds: float) -> tuple[float, np.ndarray] | None:
        monkeypatch.setattr(self.h, "getRunTime", lambda: highs_clock)
        out = solve(self, seconds)
        seen.append((seconds, float(self.h.getOptionValue("time_limit")[1])))
        return out

    monkeypatch.setattr(rows._Master, "solve", spy)
    multi_period_plan(_economy(120, 1, slack=0.9, cap=0.8),
                      MultiPeriodParams(depreciation=0.1, capital_ratio=3.0), time_limit=5.0)
    assert len(seen) >= 2
    for seconds, option in seen:
        assert option == rows.round_time_limit(highs_clock, seconds) > highs_clock


@pytest.mark.parametrize("solver", ["hipo", "ipx", "simplex"])
def test_every_master_solver_gives_the_one_lp(monkeypatch: pytest.MonkeyPatch,
                                              solver: str) -> None:
    """HiPO (the default), IPX and the dual simplex as the master's solver all end at the
    one LP's λ with a certified gap."""
    import cybersyn.plan.multiperiod_rows as rows

    monkeypatch.setattr(rows, "MASTER_SOLVER", solver)
    p = _economy(120, 1, slack=0.9, cap=0.8)
    params = MultiPeriodParams(depreciation=0.1, capital_ratio=3.0)
    ours, lp = _both(p, params)
    assert ours.lam == pytest.approx(lp.lam, rel=1e-6)
    assert ours.gap <= 1e-7
    assert_multi_period_feasible(ours, params, default_capital(p.A, params.capital_ratio))


def test_lambda_is_split_into_copies_of_a_few_rows_each(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No column of the master is dense: λ sits in the labour rows and its copies' rows
    λ − λ_b ≤ 0, each copy in at most LAM_BLOCK capacity rows; the copies equal λ at the
    end up to the master's tolerance, and λ is the one LP's."""
    import cybersyn.plan.multiperiod_rows as rows

    monkeypatch.setattr(rows, "LAM_BLOCK", 7)
    masters: list[rows._Master] = []
    init = rows._Master.__init__

    def keep(self: rows._Master, *a: object, **k: object) -> None:
        init(self, *a, **k)  # type: ignore[arg-type]
        masters.append(self)

    monkeypatch.setattr(rows._Master, "__init__", keep)
    p = _economy(150, 4, slack=1.0, cap=0.9)
    params = MultiPeriodParams()
    ours, lp = _both(p, params)
    assert ours.lam == pytest.approx(lp.lam, rel=1e-6)
    (m,) = masters
    lpm = m.h.getLp()
    A = sp.csc_matrix((np.array(lpm.a_matrix_.value_), np.array(lpm.a_matrix_.index_),
                       np.array(lpm.a_matrix_.start_)), shape=(lpm.num_row_, lpm.num_col_))
    capacity_rows = int(sum(a.size for a in m.rows_of))
    labour_rows = int(np.sum(m.labour_row >= 0))
    col = np.asarray(m.h.getSolution().col_value)
    link = np.flatnonzero(A[:, 0].toarray().ravel() == 1.0)
    link = link[~np.isin(link, m.labour_row)]
    assert A[:, 0].nnz == labour_rows + link.size
    # at least one copy per 7 capacity rows (more when purged rows left room in copies)
    assert link.size >= -(-capacity_rows // 7) > 1
    for row in link:
        b = np.flatnonzero(A.getrow(row).toarray().ravel() == -1.0)
        assert b.size == 1 and 1 <= A[:, b[0]].nnz <= 7 + 1
        assert col[b[0]] >= col[0] - 1e-9


def test_rows_are_found_loosely_and_the_last_master_is_tight(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Masters run at ROUND_TOL while rows are still being added; once none is violated the
    master is re-solved at the full tolerance, so the certificate is as tight as before."""
    import cybersyn.plan.multiperiod_rows as rows

    seen: list[float] = []
    solve = rows._Master.solve

    def spy(self: rows._Master, seconds: float) -> tuple[float, np.ndarray] | None:
        seen.append(float(self.h.getOptionValue("ipm_optimality_tolerance")[1]))
        return solve(self, seconds)

    monkeypatch.setattr(rows._Master, "solve", spy)
    p = _economy(300, 3, slack=1.0, cap=1.0)
    ours, lp = _both(p, MultiPeriodParams())
    assert seen[0] == rows.ROUND_TOL > 1e-10
    assert seen[-1] == 1e-10
    assert ours.lam == pytest.approx(lp.lam, rel=1e-6)
    assert ours.gap <= 1e-7


def test_out_of_time_salvage_beats_every_uniform_scaling(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The salvage's per-year scales (an LP in λ and α) certify at least the λ of any one
    scale α·z for all years (α on a grid, each checked on its exact plan here)."""
    import cybersyn.plan.multiperiod_rows as rows

    p = _economy(150, 10, slack=1.0, cap=1.0)
    params = MultiPeriodParams()
    solve = rows._Master.solve
    calls = {"n": 0}

    def first_only(self: rows._Master, seconds: float) -> tuple[float, np.ndarray] | None:
        calls["n"] += 1
        return solve(self, seconds) if calls["n"] == 1 else None

    seen: list[tuple[Leontief, rows.DynamicLp, np.ndarray, float, np.ndarray]] = []
    best = rows._best_scaled

    def spy(lt: Leontief, d: rows.DynamicLp, xhat: np.ndarray, lam: float, z: np.ndarray,
            lower: float) -> tuple[float, np.ndarray]:
        seen.append((lt, d, xhat, lam, z))
        return best(lt, d, xhat, lam, z, lower)

    monkeypatch.setattr(rows._Master, "solve", first_only)
    monkeypatch.setattr(rows, "_best_scaled", spy)
    r = multi_period_plan(p, params)
    ((lt, d, xhat, lam, z),) = seen
    uniform = max(rows._lower(d, xhat, lam, a * z, rows._plan(lt, d, xhat, lam, a * z))
                  for a in np.linspace(0.0, 1.0, 21))
    assert r.lam >= uniform * (1 - 1e-9)
    assert_multi_period_feasible(r, params, default_capital(p.A, params.capital_ratio))


@pytest.mark.parametrize(("n", "seed", "slack", "cap", "uncapped", "labour", "params"),
                         [CASES[1], CASES[3], CASES[4]])
def test_a_first_order_seed_ends_at_the_one_lp(
        monkeypatch: pytest.MonkeyPatch, n: int, seed: int, slack: float, cap: float,
        uncapped: float, labour: bool, params: MultiPeriodParams) -> None:
    """Started from PDLP's rows and investments (`first_order_seed`), the master still ends
    at the one LP's λ with a certified gap, and it started from the seed's rows."""
    import cybersyn.plan.multiperiod as mp
    import cybersyn.plan.multiperiod_rows as rows

    seeds: list[object] = []
    first = mp.first_order_seed

    def spy(*a: object, **k: object) -> object:
        out = first(*a, **k)  # type: ignore[arg-type]
        seeds.append(out[0])
        return out

    monkeypatch.setattr(mp, "first_order_seed", spy)
    p = _economy(n, seed, slack=slack, cap=cap, uncapped=uncapped, labour=labour)
    ours, lp = _both(p, params, seed=True)
    (start,) = seeds
    assert isinstance(start, rows.Seed)
    assert sum(a.size for a in start.rows) > 0
    assert ours.lam == pytest.approx(lp.lam, rel=1e-6)
    assert ours.gap <= 1e-7
    assert_multi_period_feasible(ours, params, default_capital(p.A, params.capital_ratio))


def test_reduced_costs_match_a_dense_inverse() -> None:
    """`_reduced_costs` (iterative Leontief solves) against the investment columns written
    out with a dense (I − A)⁻¹: column z_{s,j} has wₛ(Bkᵀv)ⱼ in year s's labour row,
    G[i, j] in each capacity row (s, i) and −(1 − δ)^(t−1−s) in the rows (t, j), t > s."""
    import cybersyn.plan.multiperiod_rows as rows

    p = _economy(40, 12, slack=1.0, cap=1.0)
    assert p.capacity is not None
    T, n, keep = 4, 40, 0.93
    rng = np.random.default_rng(12)
    Bk = default_capital(p.A, 2.0)
    d = rows.DynamicLp(sp.csr_matrix(p.A), p.labour, np.ones((T, n)), Bk, p.capacity, keep,
                       np.full(T, 1e3))
    w, r = rng.random(T), rng.random((T, n)) * (rng.random((T, n)) < 0.3)
    L = np.linalg.inv(np.eye(n) - p.A.toarray())
    G, v = L @ Bk.toarray(), L.T @ p.labour
    _, cost, worth = rows._reduced_costs(Leontief(d.A, tol=1e-14), d, v, w, r)
    for s in range(T - 1):
        dense_cost = w[s] * (Bk.T @ v) + G.T @ r[s]
        dense_worth = sum(keep ** (t - 1 - s) * r[t] for t in range(s + 1, T))
        np.testing.assert_allclose(cost[s], dense_cost, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(worth[s], dense_worth, rtol=1e-12, atol=1e-15)


def test_the_deadline_is_read_on_the_callers_clock() -> None:
    """A clock that passes the deadline during the first master stops the loop after that
    round, and the bounds returned still bracket the one LP's λ (a fake clock: no timing)."""
    import cybersyn.plan.multiperiod_rows as rows

    p = _economy(150, 10, slack=1.0, cap=1.0)
    assert p.capacity is not None
    params = MultiPeriodParams()
    exact = multi_period_plan(p, params, method="lp")
    T = params.periods
    Bk = default_capital(p.A, params.capital_ratio)
    d = rows.DynamicLp(sp.csr_matrix(p.A), p.labour, p.targets * 1.05 ** np.arange(T)[:, None],
                       Bk, p.capacity, 1 - params.depreciation,
                       p.labour_available * 1.02 ** np.arange(T))
    readings = iter([0.0, 0.0])   # the deadline is set, the first round starts; then late

    def clock() -> float:
        return next(readings, 1e9)

    rs = rows.solve_by_rows(d, time_limit=10.0, clock=clock)
    assert rs is not None and rs.rounds == 1
    assert rs.lower <= exact.lam * (1 + 1e-9)
    assert exact.lam <= rs.upper * (1 + 1e-9)
    assert rs.upper > rs.lower   # one round is not enough here: the gap is honest


def _row_setup(p: PlanProblem, params: MultiPeriodParams) -> tuple[Any, Leontief, np.ndarray,
                                                                   np.ndarray, float]:
    """(DynamicLp, Leontief, x̂ (T, n), labour values v (n,), U) as `solve_by_rows` makes
    them, for tests that drive a master by hand."""
    import cybersyn.plan.multiperiod_rows as rows

    assert p.capacity is not None
    T = params.periods
    d = rows.DynamicLp(sp.csr_matrix(p.A), p.labour,
                       p.targets * (1 + params.target_growth) ** np.arange(T)[:, None],
                       default_capital(p.A, params.capital_ratio), p.capacity,
                       1 - params.depreciation,
                       p.labour_available * (1 + params.labour_growth) ** np.arange(T))
    lt = Leontief(d.A, tol=1e-13)
    xhat = np.stack([lt.solve(d.tt[t]) for t in range(T)])
    v = lt.solve(d.l, transpose=True)
    return d, lt, xhat, v, rows.upper_bound_at_zero(d, xhat, v)


def test_a_purged_master_is_the_master_built_without_those_rows() -> None:
    """Deleting capacity rows from a solved master leaves HiGHS's LP with each remaining
    row where the master's ids say (its limit is that product's capacity of that year) and
    the same optimum as a master built from the remaining rows alone."""
    import cybersyn.plan.multiperiod_rows as rows

    d, lt, xhat, v, U = _row_setup(_economy(120, 21, slack=1.0, cap=0.9), MultiPeriodParams())
    T, n = d.T, d.n
    rng = np.random.default_rng(21)
    all_rows = [np.sort(rng.choice(n, 30, replace=False)) for _ in range(T)]
    cols = [np.arange(n)] * (T - 1)
    gone = [np.sort(rng.choice(a, 10, replace=False)) for a in all_rows]
    kept = [np.setdiff1d(a, g) for a, g in zip(all_rows, gone, strict=True)]

    def master(rows_in: list[np.ndarray]) -> rows._Master:
        m = rows._Master(d, xhat, v, U, rows._Rows(lt, d.Bk), 1e-9)
        for s in range(T - 1):
            m.add_cols(s, cols[s])
        m.add_rows(rows_in)
        m.tighten()
        return m

    purged = master(all_rows)
    assert purged.solve(60.0) is not None
    purged.purge(gone)
    assert [list(a) for a in purged.rows_of] == [list(a) for a in kept]
    lp = purged.h.getLp()
    assert lp.num_row_ == purged.nrow == purged.div.size
    hi = np.asarray(lp.row_upper_) * purged.div
    for t in range(T):
        np.testing.assert_allclose(hi[purged.row_id[t]], d.keep ** t * d.K0[kept[t]],
                                   rtol=1e-12)
    fresh = master(kept)
    a, b = purged.solve(60.0), fresh.solve(60.0)
    assert a is not None and b is not None
    assert a[0] == pytest.approx(b[0], rel=1e-7)
    np.testing.assert_allclose(purged.duals()[1], fresh.duals()[1], rtol=1e-4, atol=1e-6)


def test_purged_rows_still_end_at_the_one_lp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows that a master leaves far from binding are deleted (never the same row twice),
    and the loop still ends at the one LP's λ with its certificate."""
    import cybersyn.plan.multiperiod_rows as rows

    deleted: list[list[np.ndarray]] = []
    purge = rows._Master.purge

    def spy(self: rows._Master, out: list[np.ndarray]) -> None:
        deleted.append([a.copy() for a in out])
        purge(self, out)

    monkeypatch.setattr(rows._Master, "purge", spy)
    monkeypatch.setattr(rows, "PURGE_SLACK", 1e-4)
    p = _economy(300, 3, slack=1.0, cap=1.0)
    params = MultiPeriodParams()
    ours, lp = _both(p, params)
    per_year = [np.concatenate([out[t] for out in deleted]) for t in range(params.periods)]
    assert sum(a.size for a in per_year) > 0
    assert all(np.unique(a).size == a.size for a in per_year)
    assert per_year[-1].size == 0   # the last year's rows are sparse: kept
    assert ours.lam == pytest.approx(lp.lam, rel=1e-6)
    assert ours.gap <= 1e-7
    assert_multi_period_feasible(ours, params, default_capital(p.A, params.capital_ratio))


def test_repaired_investments_leave_no_row_overloaded_after_the_first_year() -> None:
    """A first master (no capacity rows of years before the last) overloads rows; the
    repair invests each year's shortfall a year earlier, so no capacity row of years 1..
    is overloaded on the exact plan, and what it certifies is checked there (`_lower`)."""
    import cybersyn.plan.multiperiod_rows as rows

    d, lt, xhat, v, U = _row_setup(_economy(200, 22, slack=1.0, cap=1.0), MultiPeriodParams())
    T, n = d.T, d.n
    m = rows._Master(d, xhat, v, U, rows._Rows(lt, d.Bk), 1e-9)
    for s in range(T - 1):
        m.add_cols(s, np.arange(n))
    m.add_rows([np.zeros(0, np.int64)] * (T - 1) + [np.arange(n)])
    out = m.solve(60.0)
    assert out is not None
    lam, z = out
    x = rows._plan(lt, d, xhat, lam, z)
    K = d.capacity(z)
    assert np.any(x[1:] > K[1:] * (1 + 1e-9))   # the master did overload later years
    z_r = rows._repaired(lt, d, xhat, lam, z)
    assert np.all(z_r >= z) and np.all(z_r[-1] == 0)
    x_r, K_r = rows._plan(lt, d, xhat, lam, z_r), d.capacity(z_r)
    assert np.all(x_r[1:] <= K_r[1:] * (1 + 1e-9))
    low, z_c = rows._certified(lt, d, xhat, lam, z, x)
    assert low >= rows._lower(d, xhat, lam, z, x)
    assert low == rows._lower(d, xhat, lam, z_c, rows._plan(lt, d, xhat, lam, z_c))


def test_a_master_the_solver_fails_on_keeps_the_best_certified_plan(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A master that HiGHS ends with a status other than Optimal (here the second, made to
    report "Unknown") stops the loop with a warning and the best plan certified so far,
    whose bounds still bracket the one LP's λ; it is not an input error."""
    import logging

    import cybersyn.plan.multiperiod_rows as rows

    solve = rows._Master.solve
    calls = {"n": 0}

    def second_fails(self: rows._Master, seconds: float) -> tuple[float, np.ndarray] | None:
        calls["n"] += 1
        if calls["n"] == 2:
            monkeypatch.setattr(self.h, "modelStatusToString", lambda status: "Unknown")
        return solve(self, seconds)

    monkeypatch.setattr(rows._Master, "solve", second_fails)
    p = _economy(150, 10, slack=1.0, cap=1.0)
    params = MultiPeriodParams()
    with caplog.at_level(logging.WARNING, logger="cybersyn.plan.multiperiod_rows"):
        r = multi_period_plan(p, params)
    exact = multi_period_plan(p, params, method="lp")
    assert calls["n"] == 2
    assert "Unknown" in caplog.text
    assert r.gap > 0 and r.lam <= exact.lam * (1 + 1e-9)
    assert exact.lam <= r.lam / (1 - r.gap) * (1 + 1e-9)
    assert_multi_period_feasible(r, params, default_capital(p.A, params.capital_ratio))
