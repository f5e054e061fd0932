"""`assert_plan_feasible`: every limit and balance of a plan holds, within a tolerance."""

from __future__ import annotations

import numpy as np

from cybersyn.plan.problem import PlanProblem, PlanResult


def assert_plan_feasible(result: PlanResult, *, rtol: float = 1e-6,
                         problem: PlanProblem | None = None) -> None:
    """Raise AssertionError naming the first violated constraint of `result`:
    x ≥ 0, x ≤ capacity, labour·x ≤ L, R x ≤ limits, net = (B − A) x ≥ 0, and for
    Kantorovich plans net ≥ λ·targets."""
    p = problem or result.problem
    x = np.asarray(result.x)
    scale = max(1.0, float(np.abs(x).max(initial=0.0)))
    assert x.shape == (p.m,), f"x has shape {x.shape}, expected ({p.m},)"
    assert np.all(np.isfinite(x)), "x has NaN or inf"
    neg = np.flatnonzero(x < -rtol * scale)
    assert not neg.size, f"activity {p.activity_names[neg[0]]} runs at {x[neg[0]]} < 0"
    assert p.capacity is not None and p.resources is not None
    over = np.flatnonzero(x > p.capacity * (1 + rtol) + rtol)
    assert not over.size, (f"capacity of {p.activity_names[over[0]]} exceeded: "
                           f"{x[over[0]]} > {p.capacity[over[0]]}")
    used = float(p.labour @ x)
    assert used <= p.labour_available * (1 + rtol) + rtol, (
        f"labour used {used} exceeds labour available {p.labour_available}")
    if p.resources.shape[0]:
        use = p.resources @ x
        bad = np.flatnonzero(use > p.resource_limits * (1 + rtol) + rtol)  # type: ignore[operator]
        assert not bad.size, f"{p.resource_names[bad[0]]} used beyond its limit"
    net = p.net_output(x)
    assert np.allclose(net, result.net, rtol=rtol, atol=rtol * scale), \
        "reported net output differs from (B − A) x"
    tscale = np.maximum(p.targets, 1.0)
    short = np.flatnonzero(net < -rtol * np.maximum(scale, tscale))
    assert not short.size, f"net output of {p.product_names[short[0]]} is negative: {net[short[0]]}"
    if result.objective == "kantorovich":
        gap = np.flatnonzero(net < result.lam * p.targets - rtol * np.maximum(scale, tscale))
        assert not gap.size, (f"net output of {p.product_names[gap[0]]} below λ·target: "
                              f"{net[gap[0]]} < {result.lam * p.targets[gap[0]]}")
