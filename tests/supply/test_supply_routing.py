"""Routing core: optimal on tiny instances (brute force), constraints respected, strike
scenario leaves points out rather than breaking capacity or hours."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from cybersyn.supply import FleetProblem, RouteParams, check_routes, euclidean, route
from cybersyn.supply.plot import save_route_plot

SOLVERS = ["pyvrp", "ortools"]


def _tsp_brute(d: np.ndarray) -> int:
    n = d.shape[0]
    best = None
    for perm in itertools.permutations(range(1, n)):
        path = [0, *perm, 0]
        cost = sum(int(d[a, b]) for a, b in itertools.pairwise(path))
        best = cost if best is None else min(best, cost)
    assert best is not None
    return best


@pytest.mark.parametrize("solver", SOLVERS)
def test_single_truck_matches_brute_force(solver: str) -> None:
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 100, (8, 2))
    d = euclidean(xy, 10)
    p = FleetProblem(d, np.r_[0, np.ones(7, dtype=int)], 100, 1)
    r = route(p, RouteParams(0.5, solver))
    assert check_routes(p, r) == []
    assert r.distance == _tsp_brute(d)


@pytest.mark.parametrize("solver", SOLVERS)
def test_capacity_and_time_windows_respected(solver: str) -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 50, (15, 2))
    d = euclidean(xy)
    tw = np.tile([0, 600], (15, 1))
    tw[1:6] = [0, 120]  # five points must be served in the first two hours
    p = FleetProblem(d, np.r_[0, rng.integers(1, 5, 14)], 10, 6, time_windows=tw,
                     service=np.r_[0, np.full(14, 10)], shift_duration=480)
    r = route(p, RouteParams(0.5, solver))
    assert r.unserved == ()
    assert check_routes(p, r) == []
    assert all(load <= 10 for load in r.loads)


@pytest.mark.parametrize("solver", SOLVERS)
def test_strike_fleet_leaves_points_unserved_not_overloaded(solver: str) -> None:
    rng = np.random.default_rng(9)
    xy = rng.uniform(0, 50, (21, 2))
    p = FleetProblem(euclidean(xy), np.r_[0, np.full(20, 5)], 20, 2, required=False)
    r = route(p, RouteParams(0.5, solver))
    assert check_routes(p, r) == []
    assert len(r.unserved) == 20 - 2 * 4  # two trucks of 4 drops each
    assert r.trucks_used == 2


def test_params_validated() -> None:
    with pytest.raises(ValueError, match="Expected solver"):
        RouteParams(1.0, "vroom")
    with pytest.raises(ValueError, match="Expected every demand"):
        FleetProblem(np.zeros((2, 2), dtype=int), np.array([0, 9]), 5, 1)


def test_route_plot_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 10, (6, 2))
    p = FleetProblem(euclidean(xy, 100), np.r_[0, np.full(5, 3)], 6, 1, required=False)
    r = route(p, RouteParams(0.2))
    out = save_route_plot(xy, r, tmp_path / "routes.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("solver", SOLVERS)
def test_cpu_time_limit_solves_and_reports_cpu(solver: str) -> None:
    """With cpu_time the budget is the process's CPU seconds; routes stay optimal on a
    brute-forceable instance and the CPU seconds spent are reported."""
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 100, (7, 2))
    d = euclidean(xy, 10)
    p = FleetProblem(d, np.r_[0, np.ones(6, dtype=int)], 100, 1)
    r = route(p, RouteParams(0.3, solver, cpu_time=True))
    assert check_routes(p, r) == []
    assert r.distance == _tsp_brute(d)
    assert r.cpu_s > 0.0
    assert r.wall_s > 0.0


def test_max_cpu_time_counts_process_time_from_first_call(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from cybersyn.supply import _pyvrp

    clock = iter([10.0, 10.4, 10.6])
    monkeypatch.setattr("cybersyn.supply._pyvrp.time.process_time", lambda: next(clock))
    stop = _pyvrp.MaxCpuTime(0.5)
    assert [stop(1.0), stop(1.0), stop(1.0)] == [False, False, True]
    with pytest.raises(ValueError, match="limit_s"):
        _pyvrp.MaxCpuTime(-1.0)


def test_wall_backstop_validated() -> None:
    with pytest.raises(ValueError, match="wall_backstop"):
        RouteParams(1.0, cpu_time=True, wall_backstop=0.5)
