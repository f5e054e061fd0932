"""Delivery routing from one depot to distribution points with a limited fleet.

A capacitated vehicle routing problem with time windows (CVRPTW; Toth & Vigo, *Vehicle
Routing*, 2nd ed., 2014): trucks of one capacity leave the depot, serve points within their
time windows and return within the working day. When the fleet is too small (the October
1972 strike), points may be left out: each carries a penalty (`FleetProblem.required=False`)
and the solver serves as much as the trucks allow.

Two solvers behind one call: PyVRP's hybrid genetic search (Wouda, Lan & Kool, "PyVRP: a
high-performance VRP solver package", INFORMS J. Computing 2024) and OR-Tools routing with
guided local search. bench/routing.py measures both on the X (Uchoa et al. 2017) and
Solomon (1987) instances; PyVRP is the default (docs/supply.md has the figures).

Distances and times are integers (scale real values before calling, e.g. metres, minutes).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

SOLVERS = ("pyvrp", "ortools")
BIG = 2**40


@dataclass(frozen=True)
class FleetProblem:
    """Location 0 is the depot, locations 1..n the points.

    distance : int ndarray (n+1, n+1), e.g. metres. duration : int ndarray (n+1, n+1),
    e.g. minutes (defaults to distance). demand : int ndarray (n+1,), demand[0] == 0.
    time_windows : int ndarray (n+1, 2) [earliest, latest] start of service; row 0 is the
    depot's opening hours (the working day). service : int ndarray (n+1,) minutes at each.
    shift_duration : maximum duty time per truck. penalty : cost of leaving a point out
    when `required` is False (default: 10 x the largest round trip).
    """

    distance: np.ndarray
    demand: np.ndarray
    capacity: int
    n_vehicles: int
    duration: np.ndarray | None = None
    time_windows: np.ndarray | None = None
    service: np.ndarray | None = None
    shift_duration: int | None = None
    required: bool = True
    penalty: int | None = None

    def __post_init__(self) -> None:
        n = np.shape(self.distance)[0]
        if np.shape(self.distance) != (n, n) or n < 2:
            raise ValueError("Expected distance of shape (n+1, n+1) with n >= 1.")
        if np.shape(self.demand) != (n,) or np.any(np.asarray(self.demand) < 0):
            raise ValueError("Expected demand of shape (n+1,) with values >= 0.")
        if self.capacity <= 0 or self.n_vehicles <= 0:
            raise ValueError("Expected capacity > 0 and n_vehicles > 0.")
        if self.time_windows is not None and np.shape(self.time_windows) != (n, 2):
            raise ValueError("Expected time_windows of shape (n+1, 2).")
        if self.required and np.any(np.asarray(self.demand) > self.capacity):
            raise ValueError("Expected every demand <= capacity (split the delivery).")

    @property
    def size(self) -> int:
        return int(np.shape(self.distance)[0])

    def durations(self) -> np.ndarray:
        return np.asarray(self.distance if self.duration is None else self.duration)

    def point_penalty(self) -> int:
        if self.penalty is not None:
            return int(self.penalty)
        d = np.asarray(self.distance)
        return int(10 * (d[0].max() + d[:, 0].max()) + 1)


@dataclass(frozen=True)
class RouteParams:
    """time_limit_s: budget of the search in seconds; solver: 'pyvrp' or 'ortools'.

    cpu_time: False (default) -> time_limit_s is wall-clock time; True -> it is CPU time
    of the solving process (time.process_time; both searches are single-threaded), which
    is fair on a shared, loaded machine. OR-Tools checks CPU time at each solution it
    accepts and keeps a wall-clock backstop of `wall_backstop` x time_limit_s.
    """

    time_limit_s: float = 5.0
    solver: str = "pyvrp"
    seed: int = 0
    cpu_time: bool = False
    wall_backstop: float = 4.0

    def __post_init__(self) -> None:
        if not self.time_limit_s > 0:
            raise ValueError("Expected time_limit_s > 0.")
        if not self.wall_backstop >= 1.0:
            raise ValueError("Expected wall_backstop >= 1.")
        if self.solver not in SOLVERS:
            raise ValueError(f"Expected solver in {SOLVERS}, got {self.solver!r}.")


@dataclass(frozen=True)
class Routes:
    """routes: one tuple of point indices (1..n, depot excluded) per truck used.
    distance: total distance of the routes; unserved: points left out; feasible: every
    capacity, time window and shift respected. cpu_s / wall_s: CPU and wall seconds the
    search took in the solving process (0.0 when not measured)."""

    routes: tuple[tuple[int, ...], ...]
    distance: int
    unserved: tuple[int, ...]
    feasible: bool
    solver: str
    loads: tuple[int, ...] = field(default=())
    cpu_s: float = 0.0
    wall_s: float = 0.0

    @property
    def trucks_used(self) -> int:
        return len(self.routes)


def euclidean(xy: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Integer matrix round(scale * |xy_i - xy_j|), shape (n, n) from xy of shape (n, 2)."""
    diff = np.asarray(xy, dtype=float)[:, None, :] - np.asarray(xy, dtype=float)[None, :, :]
    out: np.ndarray = np.round(scale * np.sqrt((diff**2).sum(-1))).astype(np.int64)
    return out


def route(problem: FleetProblem, params: RouteParams | None = None) -> Routes:
    """Solve `problem` within `params.time_limit_s` seconds (wall or, with
    params.cpu_time, CPU seconds); the best routes found."""
    params = params or RouteParams()
    if params.solver == "pyvrp":
        from cybersyn.supply._pyvrp import solve_pyvrp

        return solve_pyvrp(problem, params)
    return _ortools_apart(problem, params)


def _ortools_apart(problem: FleetProblem, params: RouteParams) -> Routes:
    """OR-Tools in a fresh process: its bundled HiGHS clashes with highspy's (whichever is
    loaded second fails with an undefined symbol), and the plan package uses highspy."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from cybersyn.supply._ortools import solve_ortools_safe

    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(solve_ortools_safe, problem, params).result()


def route_distance(distance: np.ndarray, routes: tuple[tuple[int, ...], ...]) -> float:
    """Total length of depot -> route -> depot tours under `distance` (any float matrix)."""
    total = 0.0
    for r in routes:
        path = [0, *r, 0]
        total += float(sum(distance[a, b] for a, b in itertools.pairwise(path)))
    return total


def check_routes(problem: FleetProblem, routes: Routes) -> list[str]:
    """Every violated constraint, as sentences; empty when the routes are feasible."""
    problems: list[str] = []
    seen = [p for r in routes.routes for p in r]
    if len(seen) != len(set(seen)):
        problems.append("a point is visited twice")
    if len(routes.routes) > problem.n_vehicles:
        problems.append(f"{len(routes.routes)} trucks used, {problem.n_vehicles} available")
    missing = set(range(1, problem.size)) - set(seen)
    if problem.required and missing:
        problems.append(f"points not served: {sorted(missing)[:10]}")
    for k, r in enumerate(routes.routes):
        load = int(np.asarray(problem.demand)[list(r)].sum())
        if load > problem.capacity:
            problems.append(f"truck {k}: load {load} exceeds capacity {problem.capacity}")
        problems += _check_times(problem, k, r)
    return problems


def _check_times(problem: FleetProblem, k: int, r: tuple[int, ...]) -> list[str]:
    tw, dur = problem.time_windows, problem.durations()
    service = np.zeros(problem.size) if problem.service is None else problem.service
    start = 0 if tw is None else int(tw[0, 0])
    if r and tw is not None:  # leave the depot as late as the first window allows
        start = max(start, int(tw[r[0], 0]) - int(dur[0, r[0]]))
    t, prev = start, 0
    out = []
    for p in [*r, 0]:
        t += int(dur[prev, p])
        if tw is not None:
            t = max(t, int(tw[p, 0]))
            if t > int(tw[p, 1]):
                out.append(f"truck {k}: arrives at {p} at {t}, after {int(tw[p, 1])}")
        t += int(service[p]) if p else 0
        prev = p
    if problem.shift_duration is not None and t - start > problem.shift_duration:
        out.append(f"truck {k}: duty {t - start} exceeds shift {problem.shift_duration}")
    return out
