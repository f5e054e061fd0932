from __future__ import annotations

import numpy as np
import pytest

from cybersyn.councils._synthetic import synthetic_io
from cybersyn.councils.central import central_plan, gap_pct, solve_labour_lp
from cybersyn.councils.participatory import (
    ParticipatoryParams,
    labour_values,
    run_rounds,
    solve_leontief,
)
from cybersyn.economy import Economy


def test_labour_values_and_leontief_against_dense_solves(demo: Economy) -> None:
    io = demo.io
    A = io.A.toarray()
    dense_v = np.linalg.solve((np.eye(io.n) - A).T, io.labour)
    np.testing.assert_allclose(labour_values(io), dense_v, rtol=1e-10)
    big = synthetic_io(2500, seed=3)          # above DIRECT_MAX_N: GMRES path
    y = big.final_demand
    x = solve_leontief(big.A, y)
    np.testing.assert_allclose(x - big.A @ x, y, rtol=1e-8)


def test_rounds_converge_on_demo_and_respect_the_rules(demo: Economy) -> None:
    params = ParticipatoryParams()
    shares = np.full(4, 0.25)
    result = run_rounds(demo.io, shares, params)
    assert result.converged and result.final.max_excess <= params.tolerance
    io = demo.io
    for prev, r in zip(result.rounds, result.rounds[1:], strict=False):
        # excess demand recomputed independently: inputs + households - outputs
        z = io.A.toarray() @ r.outputs + r.household_demand - r.outputs
        np.testing.assert_allclose(r.excess, z, rtol=1e-9, atol=1e-6)
        assert np.all(r.outputs <= io.capacity * (1 + 1e-12))
        if r.number >= params.cap_from:
            ratio = r.outputs / prev.outputs
            assert np.all(np.abs(ratio - 1) <= params.move_cap + 1e-12)
    assert result.rounds[0].number == 1
    np.testing.assert_allclose(result.rounds[0].prices, result.labour_values)


def test_round_limit_reports_no_convergence(demo: Economy) -> None:
    result = run_rounds(demo.io, None, ParticipatoryParams(max_rounds=2, tolerance=1e-6))
    assert not result.converged and len(result.rounds) == 2


def test_central_plan_is_the_leontief_solution(demo: Economy) -> None:
    io = demo.io
    xhat = np.linalg.solve(np.eye(io.n) - io.A.toarray(), io.final_demand)
    np.testing.assert_allclose(solve_labour_lp(io), xhat, rtol=1e-7)
    np.testing.assert_allclose(central_plan(io), xhat, rtol=1e-7)
    assert gap_pct(xhat, xhat) == 0.0
    assert gap_pct(2 * xhat, xhat) == pytest.approx(100.0)


def test_synthetic_economy_converges_close_to_the_optimum() -> None:
    io = synthetic_io(600, seed=1)
    result = run_rounds(io, np.full(10, 0.1))
    assert result.converged
    assert gap_pct(result.final.outputs, central_plan(io)) < 10.0


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="tolerance"):
        ParticipatoryParams(tolerance=0)
    with pytest.raises(ValueError, match="cap_from"):
        ParticipatoryParams(cap_from=1)
    with pytest.raises(ValueError, match="district_shares"):
        run_rounds(synthetic_io(5), np.array([0.5, 0.6]))
