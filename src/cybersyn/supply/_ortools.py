"""FleetProblem -> OR-Tools routing (guided local search) -> Routes."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from cybersyn.supply.routing import FleetProblem, RouteParams, Routes


def solve_ortools_safe(p: FleetProblem, params: RouteParams) -> Routes:
    """Entry point in the worker process (OR-Tools is imported only there)."""
    return solve_ortools(p, params)


def _model(p: FleetProblem) -> tuple[Any, Any]:
    from ortools.constraint_solver import pywrapcp

    manager = pywrapcp.RoutingIndexManager(p.size, p.n_vehicles, 0)
    model = pywrapcp.RoutingModel(manager)
    dist = np.asarray(p.distance, dtype=np.int64).tolist()
    demand = [int(d) for d in p.demand]

    def arc(i: int, j: int) -> int:
        return dist[manager.IndexToNode(i)][manager.IndexToNode(j)]  # type: ignore[no-any-return]

    def load(i: int) -> int:
        return demand[int(manager.IndexToNode(i))]

    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitCallback(arc))
    model.AddDimension(model.RegisterUnaryTransitCallback(load), 0, int(p.capacity), True,
                       "load")
    if p.time_windows is not None or p.shift_duration is not None:
        _time_dimension(p, manager, model)
    if not p.required:
        for node in range(1, p.size):
            model.AddDisjunction([manager.NodeToIndex(node)], p.point_penalty())
    return manager, model


def _time_dimension(p: FleetProblem, manager: Any, model: Any) -> None:
    dur = np.asarray(p.durations(), dtype=np.int64).tolist()
    service = [0] * p.size if p.service is None else [int(s) for s in p.service]

    def travel(i: int, j: int) -> int:
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return dur[a][b] + service[a]  # type: ignore[no-any-return]

    tw = p.time_windows
    horizon = int(tw[0, 1]) if tw is not None else 10**9
    model.AddDimension(model.RegisterTransitCallback(travel), horizon, horizon, False, "time")
    time = model.GetDimensionOrDie("time")
    if tw is not None:
        for node in range(1, p.size):
            time.CumulVar(manager.NodeToIndex(node)).SetRange(int(tw[node, 0]), int(tw[node, 1]))
        for v in range(p.n_vehicles):
            time.CumulVar(model.Start(v)).SetRange(int(tw[0, 0]), int(tw[0, 1]))
            time.CumulVar(model.End(v)).SetRange(int(tw[0, 0]), int(tw[0, 1]))
    if p.shift_duration is not None:
        for v in range(p.n_vehicles):
            model.solver().Add(time.CumulVar(model.End(v)) - time.CumulVar(model.Start(v))
                               <= int(p.shift_duration))
    for v in range(p.n_vehicles):
        model.AddVariableMinimizedByFinalizer(time.CumulVar(model.Start(v)))
        model.AddVariableMinimizedByFinalizer(time.CumulVar(model.End(v)))


def solve_ortools(p: FleetProblem, params: RouteParams) -> Routes:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    manager, model = _model(p)
    search = pywrapcp.DefaultRoutingSearchParameters()
    first = routing_enums_pb2.FirstSolutionStrategy
    # insertion copes with tight time windows where the greedy arc heuristic dead-ends
    search.first_solution_strategy = (first.PARALLEL_CHEAPEST_INSERTION
                                      if p.time_windows is not None else first.PATH_CHEAPEST_ARC)
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    wall_limit = params.time_limit_s * (params.wall_backstop if params.cpu_time else 1.0)
    search.time_limit.FromMilliseconds(int(wall_limit * 1000))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if params.cpu_time:
        _stop_on_cpu_time(model, cpu0 + params.time_limit_s)
    solution = model.SolveWithParameters(search)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if solution is None:
        return Routes((), 0, tuple(range(1, p.size)), False, "ortools", (), cpu, wall)
    routes = []
    for v in range(p.n_vehicles):
        i, r = model.Start(v), []
        while not model.IsEnd(i):
            node = manager.IndexToNode(i)
            if node:
                r.append(node)
            i = solution.Value(model.NextVar(i))
        if r:
            routes.append(tuple(r))
    served = {v for r in routes for v in r}
    dist = np.asarray(p.distance)
    total = sum(int(dist[a, b]) for r in routes
                for a, b in zip([0, *r], [*r, 0], strict=True))
    loads = tuple(int(np.asarray(p.demand)[list(r)].sum()) for r in routes)
    unserved = tuple(i for i in range(1, p.size) if i not in served)
    return Routes(tuple(routes), total, unserved, True, "ortools", loads, cpu, wall)


def _stop_on_cpu_time(model: Any, deadline: float) -> None:
    """Finish the search at the first accepted solution after the process's CPU clock
    (time.process_time) passes `deadline`; the search keeps its best solution. Guided
    local search accepts a solution every few moves, so the overshoot is small; the wall
    time limit remains as a backstop when no solution comes."""

    def check() -> None:
        if time.process_time() > deadline:
            model.solver().FinishCurrentSearch()

    model.AddAtSolutionCallback(check)
