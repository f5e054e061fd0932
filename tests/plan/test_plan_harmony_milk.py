"""The simulate engineer's report: chile-1972 with milk capacity halved, harmony planned zero
milk and zero fuel. The harmony plan must stay feasible, plan milk and fuel, never be worse
than the proportional plan, and sit within 1% of the tangent-LP upper bound."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cybersyn.economy import demo_economy
from cybersyn.plan import (
    PlanProblem,
    harmony_lp,
    harmony_plan,
    harmony_upper_bound,
    harmony_value,
    kantorovich_plan,
    problem_from_economy,
)
from cybersyn.plan.harmony_pg import PgParams, _project
from cybersyn.plan.leontief import leontief_output
from cybersyn.testing import assert_plan_feasible


def _milk_halved(daily_unit_weights: bool) -> PlanProblem:
    eco = demo_economy()
    io = eco.io
    milk = io.index["milk"]
    if not daily_unit_weights:  # the planning office's problem, value weights
        p = problem_from_economy(eco)
        cap = p.capacity.copy()  # type: ignore[union-attr]
        cap[milk] *= 0.5
        return replace(p, capacity=cap)
    # the simulation's re-plan: daily flows, unit weights, labour at the steady state
    y, cap = io.final_demand / 365, io.capacity / 365
    cap[milk] *= 0.5
    hours = float(io.labour @ leontief_output(io.A, y))
    return PlanProblem(io.A, io.labour, y, labour_available=hours, capacity=cap,
                       product_names=io.product_codes)


@pytest.mark.parametrize("daily_unit_weights", [False, True])
def test_harmony_with_milk_halved_plans_milk_and_fuel(daily_unit_weights: bool) -> None:
    p = _milk_halved(daily_unit_weights)
    ours = harmony_plan(p)
    assert_plan_feasible(ours)
    names = list(p.product_names)
    for good in ("milk", "fuel"):
        assert ours.net[names.index(good)] > 0.5 * p.targets[names.index(good)]
    proportional = harmony_value(p, kantorovich_plan(p).net)
    assert ours.value >= proportional
    bound = harmony_upper_bound(p)
    assert ours.value <= bound + 1e-9 * abs(bound)
    assert (bound - ours.value) / abs(bound) < 0.01
    # the LP's own plan (evaluated with the true H) is no better than ours, within 0.01%
    lp = harmony_lp(p)
    assert ours.value >= lp.value - 1e-4 * abs(lp.value)
    # milk is capped: the plan uses all of its capacity
    milk = names.index("milk")
    assert ours.x[milk] == pytest.approx(p.capacity[milk], rel=1e-3)  # type: ignore[index]


def test_projection_onto_box_and_labour_matches_a_qp() -> None:
    """_project against scipy's bounded least squares with one inequality (SLSQP)."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(3)
    v, ub, a = rng.normal(1, 1, 8), rng.uniform(0.5, 2, 8), rng.uniform(0.1, 1, 8)
    b = 0.5 * float(a @ np.clip(v, 0, ub))
    ours = _project(v, ub, a, b)
    ref = minimize(lambda u: 0.5 * np.sum((u - v) ** 2), np.zeros(8), jac=lambda u: u - v,
                   bounds=list(zip(np.zeros(8), ub, strict=True)), method="SLSQP",
                   constraints=[{"type": "ineq", "fun": lambda u: b - a @ u,
                                 "jac": lambda u: -a}], options={"ftol": 1e-12})
    np.testing.assert_allclose(ours, ref.x, atol=1e-6)
    assert float(a @ ours) <= b * (1 + 1e-9)


def test_polish_parameters_are_named() -> None:
    with pytest.raises(ValueError, match="Expected iterations"):
        PgParams(iterations=0)


def test_polish_never_loses_and_improves_the_proportional_plan() -> None:
    """The projected-gradient polish keeps every iterate within capacity and labour; from the
    proportional plan of a capacity-bound random economy it must find a better plan with
    net output >= 0 (it runs after the dual prices when their certified gap is still large)."""
    from cybersyn.plan.harmony_pg import pg_polish
    from cybersyn.plan.synthetic import random_economy

    eco = random_economy(300, seed=5, inputs=(3, 10))
    need = float(eco.labour @ leontief_output(eco.A, eco.final_demand))
    p = PlanProblem(eco.A, eco.labour, eco.final_demand, labour_available=0.9 * need,
                    capacity=eco.capacity * 0.7)
    prop = kantorovich_plan(p)
    x, steps = pg_polish(p, prop.x, prop.x / prop.lam, 4.0, PgParams(100))
    assert steps >= 1
    assert np.all(x >= 0) and np.all(x <= p.capacity * (1 + 1e-12))  # type: ignore[operator]
    assert float(p.labour @ x) <= p.labour_available * (1 + 1e-9)
    net = p.net_output(x)
    assert np.all(net >= -1e-9 * np.maximum(p.targets, 1.0))
    assert harmony_value(p, net) > harmony_value(p, prop.net) + 1.0
