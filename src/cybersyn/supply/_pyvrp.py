"""FleetProblem -> PyVRP ProblemData -> Routes (PyVRP >= 0.14 API)."""

from __future__ import annotations

import time

import numpy as np
import pyvrp
from pyvrp.stop import MaxRuntime

from cybersyn.supply.routing import BIG, FleetProblem, RouteParams, Routes


def problem_data(p: FleetProblem) -> pyvrp.ProblemData:
    n = p.size
    tw = p.time_windows
    service = np.zeros(n, dtype=np.int64) if p.service is None else np.asarray(p.service)
    prize = p.point_penalty()
    locations = [pyvrp.Location(0, 0) for _ in range(n)]
    depot = pyvrp.Depot(0, tw_early=0 if tw is None else int(tw[0, 0]),
                        tw_late=BIG if tw is None else int(tw[0, 1]))
    clients = [pyvrp.Client(i, delivery=[int(p.demand[i])], service_duration=int(service[i]),
                            tw_early=0 if tw is None else int(tw[i, 0]),
                            tw_late=BIG if tw is None else int(tw[i, 1]),
                            prize=0 if p.required else prize, required=p.required)
               for i in range(1, n)]
    vehicle = pyvrp.VehicleType(
        p.n_vehicles, capacity=[int(p.capacity)],
        tw_early=0 if tw is None else int(tw[0, 0]),
        tw_late=BIG if tw is None else int(tw[0, 1]),
        shift_duration=BIG if p.shift_duration is None else int(p.shift_duration))
    dist = np.ascontiguousarray(p.distance, dtype=np.int64)
    dur = np.ascontiguousarray(p.durations(), dtype=np.int64)
    return pyvrp.ProblemData(locations, clients, [depot], [vehicle], [dist],  # type: ignore[list-item]
                             [dur])  # type: ignore[list-item]


class MaxCpuTime:
    """PyVRP stopping criterion: stop once the process has used `limit_s` CPU seconds
    (time.process_time) since the first call. The search is single-threaded, so this is
    the search's own CPU time, whatever else runs on the machine."""

    def __init__(self, limit_s: float) -> None:
        if limit_s < 0:
            raise ValueError("Expected limit_s >= 0.")
        self.limit_s = limit_s
        self._start: float | None = None

    def __call__(self, best_cost: float) -> bool:
        now = time.process_time()
        if self._start is None:
            self._start = now
        return now - self._start > self.limit_s


def solve_pyvrp(p: FleetProblem, params: RouteParams) -> Routes:
    data = problem_data(p)
    stop = MaxCpuTime(params.time_limit_s) if params.cpu_time else MaxRuntime(
        params.time_limit_s)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = pyvrp.solve(data, stop=stop, seed=params.seed, display=False)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    best = result.best
    # client k of ProblemData is location k + 1 (the depot is location 0)
    routes = tuple(tuple(int(a.idx) + 1 for a in r if a.is_client()) for r in best.routes())
    routes = tuple(r for r in routes if r)
    served = {v for r in routes for v in r}
    unserved = tuple(i for i in range(1, p.size) if i not in served)
    loads = tuple(int(np.asarray(p.demand)[list(r)].sum()) for r in routes)
    return Routes(routes, int(best.distance()), unserved, bool(best.is_feasible()), "pyvrp",
                  loads, cpu, wall)
