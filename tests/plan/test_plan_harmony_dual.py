"""The harmony plan's Lagrangian dual: the closed-form conjugate against a grid search, the
bound above every feasible plan (hypothesis), the bound equal to the optimum at optimal
prices (bracketed by a dense tangent LP in HiGHS), plans feasible and certified."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cybersyn.plan import (
    HarmonyParams,
    PlanProblem,
    harmony_lp,
    harmony_plan,
    harmony_upper_bound,
    harmony_value,
    kantorovich_plan,
)
from cybersyn.plan.harmony import harmony_certificate
from cybersyn.plan.harmony_dual import (
    DualParams,
    KrylovLeontief,
    dual_bound,
    dual_plan,
    recover_plan,
)
from cybersyn.plan.harmony_objective import H, conjugate
from cybersyn.plan.leontief import leontief_output
from cybersyn.plan.synthetic import harmony_economy, random_economy
from cybersyn.testing import assert_plan_feasible


def _problem(n: int, seed: int, *, cap_scale: float = 0.8, labour: float = 0.9,
             inputs: tuple[int, int] = (3, 8)) -> PlanProblem:
    eco = random_economy(n, seed=seed, inputs=inputs)
    need = float(eco.labour @ leontief_output(eco.A, eco.final_demand))
    return PlanProblem(eco.A, eco.labour, eco.final_demand, labour_available=labour * need,
                       capacity=eco.capacity * cap_scale)


def test_conjugate_matches_a_grid_search() -> None:
    """sup_{y>=0} w H(min(y/t - 1, s_max)) - p y in closed form equals the best of 400,001
    grid points (and the reported maximiser attains the closed-form value)."""
    s_max = 4.0
    t, w = np.array([2.0]), np.array([1.5])
    y = np.linspace(0.0, 2.0 * (1 + s_max) * 1.2, 400_001)
    hy = w[0] * H(np.minimum(y / t[0] - 1.0, s_max))
    # r = p t / w in every regime: 0, < 1/(1+s_max), (1/5, 1), [1, 2), >= 2
    for r in (0.0, 0.1, 0.19, 0.2, 0.5, 0.99, 1.0, 1.5, 1.99, 2.0, 3.0):
        p = np.array([r * w[0] / t[0]])
        value, arg = conjugate(p, t, w, s_max)
        grid = float(np.max(hy - p[0] * y))
        assert value == pytest.approx(grid, abs=1e-6)
        attained = float(w[0] * H(np.minimum(arg / t - 1.0, s_max))[0] - p[0] * arg[0])
        assert attained == pytest.approx(value, abs=1e-12)


def test_conjugate_ignores_products_without_target_or_weight() -> None:
    value, y = conjugate(np.array([0.5, 0.5, 0.0]), np.array([0.0, 1.0, 0.0]),
                         np.array([1.0, 0.0, 1.0]), 4.0)
    assert value == 0.0
    np.testing.assert_array_equal(y, 0.0)


def _feasible_plans(p: PlanProblem, rng: np.random.Generator, k: int) -> list[np.ndarray]:
    """k random feasible plans: x = (I − A)⁻¹y for random y ≥ 0, shrunk into every limit
    (net output stays y·f ≥ 0)."""
    assert p.capacity is not None
    out = []
    for _ in range(k):
        y = p.targets * rng.uniform(0.0, 2.5, p.n) * (rng.random(p.n) < 0.9)
        x = leontief_output(p.A, y)
        f = min(1.0, float(p.labour_available) / float(p.labour @ x),
                float(np.min(p.capacity / np.maximum(x, 1e-300))))
        out.append(x * f)
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), price_scale=st.floats(0.0, 5.0),
       labour_price=st.floats(0.0, 2.0), cap_scale=st.floats(0.5, 1.5))
def test_bound_is_above_every_feasible_plan(seed: int, price_scale: float,
                                            labour_price: float, cap_scale: float) -> None:
    """Weak duality: g(p, μ) ≥ harmony of any feasible plan, for arbitrary prices."""
    p = _problem(12, seed, cap_scale=cap_scale)
    rng = np.random.default_rng(seed)
    prices = price_scale * rng.exponential(1.0, p.n) / p.targets
    mu = labour_price * float(p.weights.sum()) / float(p.labour_available)  # type: ignore[union-attr]
    bound = dual_bound(p, prices, mu)
    plans = [kantorovich_plan(p).x, *_feasible_plans(p, rng, 20)]
    for x in plans:
        assert bound >= harmony_value(p, p.net_output(x)) - 1e-9 * max(1.0, abs(bound))


def test_bound_of_the_lp_prices_is_above_the_lp_plan() -> None:
    """Any prices certify: the tangent LP's own duals give a bound above its plan's value."""
    p = _problem(40, 7)
    lp = harmony_lp(p)
    assert harmony_certificate(lp) >= lp.value - 1e-9


@pytest.mark.parametrize(("seed", "cap_scale"), [(1, 0.75), (2, 1.0), (3, 0.6)])
def test_dual_meets_the_optimum_bracketed_by_a_dense_tangent_lp(seed: int,
                                                                cap_scale: float) -> None:
    """At optimal prices the dual bound equals the optimum. The optimum lies between the
    tangent LP's plan value (feasible, true H) and its objective (H replaced by 600 tangents,
    an outer approximation): our bound must lie in that bracket, our plan just below it."""
    p = _problem(40, seed, cap_scale=cap_scale)
    ours = dual_plan(p, kantorovich_plan(p).x, params=DualParams(gap=1e-9, iterations=2000))
    tangents = (*np.linspace(-0.999, 0.0, 300).tolist(), *np.linspace(0.005, 4.0, 300).tolist())
    dense = HarmonyParams(tangents=tangents)
    lp, lp_bound = harmony_lp(p, dense), harmony_upper_bound(p, dense)
    assert lp.value - 1e-9 <= ours.bound <= lp_bound + 1e-7 * abs(lp_bound)
    assert ours.value <= ours.bound + 1e-12
    assert ours.bound - ours.value <= 1e-6 * abs(ours.bound)
    assert ours.value >= lp.value - 1e-7 * abs(lp.value)
    # the reported bound is the dual function at the reported prices
    assert dual_bound(p, ours.prices, ours.labour_price) == pytest.approx(ours.bound, rel=1e-12)


def test_labour_only_with_value_weights_is_the_proportional_plan() -> None:
    """With wᵢ ∝ vᵢtᵢ and labour the only limit, every sᵢ is equal at the optimum, so the
    proportional plan is optimal: the dual bound must certify it at once."""
    eco = random_economy(50, seed=4, inputs=(3, 8))
    x = leontief_output(eco.A, eco.final_demand)
    v = leontief_output(eco.A.T, eco.labour)
    p = PlanProblem(eco.A, eco.labour, eco.final_demand, weights=v * eco.final_demand,
                    labour_available=0.8 * float(eco.labour @ x))
    prop = kantorovich_plan(p)
    ours = harmony_plan(p)
    assert ours.value == pytest.approx(harmony_value(p, prop.net), rel=1e-9)
    assert (harmony_certificate(ours) - ours.value) <= 1e-8 * abs(ours.value)


def test_harmony_plan_on_the_krylov_path_is_feasible_and_certified() -> None:
    """n = 3,000 (above the direct-solve limit): the bench's harmony economy."""
    eco = harmony_economy(3000, seed=2)
    need = float(eco.labour @ leontief_output(eco.A, eco.final_demand))
    p = PlanProblem(eco.A, eco.labour, eco.final_demand, labour_available=0.9 * need,
                    capacity=eco.capacity)
    ours = harmony_plan(p)
    assert_plan_feasible(ours)
    prop = harmony_value(p, kantorovich_plan(p).net)
    assert ours.value > prop + 0.1 * abs(prop)  # the instance is one where harmony matters
    bound = harmony_certificate(ours)  # recomputed from the result's prices alone
    assert ours.value <= bound
    assert (bound - ours.value) / abs(bound) < 1e-3
    assert ours.gap == pytest.approx((bound - ours.value) / abs(bound), rel=1e-6, abs=1e-12)


def test_harmony_economy_is_seeded_and_labour_bound_in_proportion() -> None:
    a, b = harmony_economy(400, seed=3), harmony_economy(400, seed=3)
    np.testing.assert_array_equal(a.capacity, b.capacity)
    xhat = leontief_output(a.A, a.final_demand)
    slack = a.capacity / xhat
    assert 0.15 < np.mean(slack < 1.0) < 0.35 and slack.min() >= 0.92 - 1e-12
    need = float(a.labour @ xhat)
    p = PlanProblem(a.A, a.labour, a.final_demand, labour_available=0.9 * need,
                    capacity=a.capacity)
    prop = kantorovich_plan(p)
    assert prop.lam == pytest.approx(0.9)
    assert prop.binding[0].kind == "labour"


def test_krylov_solves_match_a_direct_solve() -> None:
    eco = random_economy(2500, seed=8)
    A = eco.A
    lu = KrylovLeontief(A, tol=1e-12)
    M = (sp.identity(A.shape[0], format="csc") - A).tocsc()
    b = eco.final_demand
    np.testing.assert_allclose(lu.solve(b), spla.spsolve(M, b), rtol=1e-9)
    np.testing.assert_allclose(lu.solve(eco.labour, transpose=True),
                               spla.spsolve(M.T.tocsc(), eco.labour), rtol=1e-9)
    warm = lu.solve(b * 1.01, x0=lu.solve(b))
    np.testing.assert_allclose(warm, spla.spsolve(M, b * 1.01), rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), over=st.floats(0.0, 1.0))
def test_recovered_plans_are_feasible(seed: int, over: float) -> None:
    """Any non-negative gross outputs (here up to (1 + over)× a random plan) come back as a
    plan within capacity and labour with net output ≥ 0."""
    p = _problem(30, seed, cap_scale=0.9)
    rng = np.random.default_rng(seed)
    x = leontief_output(p.A, p.targets * rng.uniform(0, 2, p.n)) * rng.uniform(1, 1 + over, p.n)
    out = recover_plan(p, x, kantorovich_plan(p).x)
    assert np.all(out >= 0) and np.all(out <= p.capacity * (1 + 1e-12))  # type: ignore[operator]
    assert float(p.labour @ out) <= p.labour_available * (1 + 1e-12)
    assert np.all(p.net_output(out) >= -1e-9 * np.maximum(out, 1.0))


def test_blas_threads_are_restored() -> None:
    from cybersyn.plan._blas import _openblas, blas_threads

    libs = _openblas()
    before = [get() for get, _ in libs]
    with blas_threads(1):
        assert all(get() == 1 for get, _ in libs)
    assert [get() for get, _ in libs] == before


def test_dual_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="Expected gap"):
        DualParams(gap=0.0)
    with pytest.raises(ValueError, match="Expected iterations"):
        DualParams(iterations=0)
