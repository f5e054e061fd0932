"""Kantorovich, harmony and multi-period plans against independent answers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from cybersyn.errors import InvalidInput
from cybersyn.plan import (
    H,
    HarmonyParams,
    MultiPeriodParams,
    PlanProblem,
    harmony_lp,
    harmony_plan,
    harmony_upper_bound,
    harmony_value,
    kantorovich_plan,
    multi_period_plan,
)
from cybersyn.plan.lp import solve_lp
from cybersyn.plan.synthetic import random_economy
from cybersyn.testing import assert_plan_feasible


def machine_tools() -> PlanProblem:
    """Kantorovich (1939) §I: parts 1 and 2 assembled in complete sets (1:1); 3 milling
    machines (10 or 20 parts a day), 3 turret lathes (20 or 30), 1 automatic turret lathe
    (30 or 80). Activities = machine-days of (machine type, part)."""
    rate = {"milling": (10, 20), "turret": (20, 30), "automatic": (30, 80)}
    machines = {"milling": 3, "turret": 3, "automatic": 1}
    acts = [(m, p) for m in rate for p in (0, 1)]
    B = np.zeros((2, 6))
    R = np.zeros((3, 6))
    for j, (m, p) in enumerate(acts):
        B[p, j] = rate[m][p]
        R[list(rate).index(m), j] = 1.0
    return PlanProblem(sp.csr_matrix((2, 6)), np.zeros(6), np.ones(2), B=sp.csr_matrix(B),
                       resources=sp.csr_matrix(R), resource_limits=np.array(
                           [machines[m] for m in rate], dtype=float),
                       product_names=("part 1", "part 2"),
                       activity_names=tuple(f"{m} on part {p + 1}" for m, p in acts),
                       resource_names=tuple(f"{m} machines" for m in rate))


def test_kantorovich_machine_tools_matches_his_intensities() -> None:
    r = kantorovich_plan(machine_tools())
    assert r.lam == pytest.approx(86 + 2 / 3, rel=1e-9)
    # milling machines split 8/3 : 1/3 machine-days, turret lathes all on part 1,
    # the automatic on part 2 (the intensities of the published solution)
    np.testing.assert_allclose(r.x, [8 / 3, 1 / 3, 3, 0, 0, 1], atol=1e-9)
    assert_plan_feasible(r)
    assert {b.name for b in r.binding} == {"milling machines", "turret machines",
                                           "automatic machines"}


def test_lp_equals_brute_force_on_a_tiny_case() -> None:
    p = machine_tools()
    best = 0.0
    grid = np.linspace(0, 1, 61)
    for f_mill, f_turr, f_auto in itertools.product(grid, grid, grid):
        part1 = 30 * f_mill + 60 * f_turr + 30 * f_auto
        part2 = 60 * (1 - f_mill) + 90 * (1 - f_turr) + 80 * (1 - f_auto)
        best = max(best, min(part1, part2))
    lam = kantorovich_plan(p).lam
    assert best <= lam + 1e-9
    assert lam - best < 1.0  # the grid's resolution


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_closed_form_equals_highs_lp(seed: int) -> None:
    eco = random_economy(150, seed=seed, inputs=(3, 10))
    rng = np.random.default_rng(seed)
    R = sp.random(2, 150, density=0.3, random_state=seed, format="csr")
    p = PlanProblem(eco.A, eco.labour, eco.final_demand * rng.uniform(0.8, 1.6),
                    labour_available=float(eco.labour @ eco.capacity) * 0.7,
                    capacity=eco.capacity, resources=R,
                    resource_limits=np.asarray(R @ eco.capacity).ravel() * 0.9)
    closed, lp = kantorovich_plan(p), kantorovich_plan(p, method="lp", solver="simplex")
    assert closed.lam == pytest.approx(lp.lam, rel=1e-7)
    assert_plan_feasible(closed)
    assert_plan_feasible(lp)
    # the LP's shadow prices value the targets at the objective (strong duality: p·t = 1)
    assert float(lp.prices @ p.targets) == pytest.approx(1.0, rel=1e-6)
    assert float(closed.prices @ p.targets) == pytest.approx(1.0, rel=1e-6)


def test_labour_shadow_price_is_the_marginal_gain() -> None:
    eco = random_economy(80, seed=9, inputs=(3, 8))
    p = PlanProblem(eco.A, eco.labour, eco.final_demand, labour_available=1e4)
    r = kantorovich_plan(p)
    more = kantorovich_plan(PlanProblem(eco.A, eco.labour, eco.final_demand,
                                        labour_available=1e4 + 1.0))
    assert more.lam - r.lam == pytest.approx(r.labour_price, rel=1e-6)
    assert r.binding[0].kind == "labour"


def test_unbounded_and_empty_plans_are_explained() -> None:
    eco = random_economy(20, seed=1, inputs=(2, 4))
    with pytest.raises(InvalidInput, match="unbounded"):
        kantorovich_plan(PlanProblem(eco.A, eco.labour, eco.final_demand))
    with pytest.raises(InvalidInput, match="unbounded"):
        kantorovich_plan(PlanProblem(eco.A, eco.labour, eco.final_demand), method="lp")
    with pytest.raises(InvalidInput, match="every target is zero"):
        kantorovich_plan(PlanProblem(eco.A, eco.labour, np.zeros(20), labour_available=1.0))


def test_non_productive_economy_is_refused_by_every_planner() -> None:
    A = np.array([[0.5, 0.6], [0.7, 0.5]])
    p = PlanProblem(A, np.ones(2), np.ones(2), labour_available=10.0,
                    product_names=("iron", "coal"))
    for solve in (kantorovich_plan, harmony_plan, multi_period_plan):
        with pytest.raises(InvalidInput, match="not productive"):
            solve(p)


def test_infeasible_lp_gets_a_sentence_not_a_trace() -> None:
    M = sp.csc_matrix(np.array([[1.0, 1.0]]))
    with pytest.raises(InvalidInput, match="infeasible: no production plan"):
        solve_lp(np.ones(2), M, np.array([5.0]), np.array([np.inf]), np.zeros(2),
                 np.ones(2))


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ValueError, match="Expected rounds"):
        HarmonyParams(rounds=0)
    with pytest.raises(ValueError, match="Expected periods"):
        MultiPeriodParams(periods=0)
    with pytest.raises(InvalidInput, match="targets has shape"):
        PlanProblem(sp.csr_matrix((3, 3)), np.ones(3), np.ones(2))
    with pytest.raises(InvalidInput, match="capacity"):
        PlanProblem(sp.csr_matrix((3, 3)), np.ones(3), np.ones(3), capacity=[1, -1, 1])


def test_harmony_function_shape() -> None:
    s = np.array([-0.5, 0.0, 0.5])
    np.testing.assert_allclose(H(s), [-0.625, 0.0, np.log(1.5)])
    assert H(np.array([-0.1]))[0] < -H(np.array([0.1]))[0]  # shortfall hurts more


def _harmony_case(seed: int, cap: bool) -> PlanProblem:
    eco = random_economy(60, seed=seed, inputs=(3, 10))
    from cybersyn.plan.leontief import leontief_output

    need = float(eco.labour @ leontief_output(eco.A, eco.final_demand))
    return PlanProblem(eco.A, eco.labour, eco.final_demand, labour_available=0.9 * need,
                       capacity=eco.capacity * 0.75 if cap else None)


@pytest.mark.parametrize(("seed", "cap"), [(0, False), (1, False), (2, True), (3, True)])
def test_harmony_is_feasible_and_near_the_lp_bound(seed: int, cap: bool) -> None:
    p = _harmony_case(seed, cap)
    ours = harmony_plan(p)
    assert_plan_feasible(ours)
    proportional = kantorovich_plan(p)
    assert ours.value >= harmony_value(p, proportional.net) - 1e-9
    bound = harmony_upper_bound(p)
    assert ours.value <= bound + 1e-6 * abs(bound)
    # labour only: exact up to bisection; tight capacities (many bind): price rounds then the
    # projected-gradient polish, measured 0.14% and 0.24% below the (loose) tangent bound
    assert (bound - ours.value) / abs(bound) < (0.01 if cap else 1e-3)
    lp = harmony_lp(p)
    assert_plan_feasible(lp)
    assert lp.value <= bound + 1e-6 * abs(bound)


def test_multi_period_plan_is_consistent() -> None:
    eco = random_economy(60, seed=4, inputs=(3, 8))
    p = PlanProblem(eco.A, eco.labour, eco.final_demand,
                    labour_available=float(eco.labour @ eco.capacity) * 0.9,
                    capacity=eco.capacity)
    params = MultiPeriodParams(periods=4, depreciation=0.1)
    r = multi_period_plan(p, params)
    tol = 1e-6 * max(1.0, float(r.x.max()))
    assert np.all(r.x <= r.capacity + tol)
    np.testing.assert_allclose(r.capacity[1:], 0.9 * r.capacity[:-1] + r.investment[:-1],
                               rtol=1e-9)
    assert np.all(r.net >= r.lam * r.targets - tol)
    assert np.all(r.labour_used <= r.labour_available * (1 + 1e-7))
    one = multi_period_plan(p, MultiPeriodParams(periods=1))
    assert one.lam == pytest.approx(kantorovich_plan(p).lam, rel=1e-6)
    assert r.lam >= 0
