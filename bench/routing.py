"""Routing benchmark: PyVRP (our default) vs OR-Tools (peer) on real instances.

Gap = 100 (cost - best known) / best known, mean over instances, one JSON line per set:
{"set", "instances", "time_limit_s", "mean_gap_pct", "peer", "peer_mean_gap_pct", ...}.

X (Uchoa et al. 2017): distances rounded to the nearest integer (the X convention), trucks
available = k + max(3, k // 10) where k is the instance's `-k` (its minimum route count),
the same for both solvers. Solomon VRPTW: Euclidean distances = travel times, scaled by
100 and rounded for the solvers; the reported cost is recomputed with exact distances and
compared with BKS.json's distance-only best-known costs (`<name>_distance`)
and, for reference, with the vehicles-first ones; 25 trucks as in the instances.

Default run (about 4 minutes): X subset DEFAULT_X, Solomon subset DEFAULT_SOLOMON, 10 s per
instance and solver. `--full`: all X with <= 300 customers at 60 s and all 56 Solomon at
60 s (hours). `--time-limit S` overrides; `--scaled` uses 2.4 n seconds (X only).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import vrplib
from rich.console import Console

from cybersyn.supply.routing import FleetProblem, RouteParams, euclidean, route, route_distance

DEFAULT_X = ("X-n101-k25", "X-n153-k22", "X-n200-k36", "X-n251-k28", "X-n294-k50")
DEFAULT_SOLOMON = ("C101", "C201", "R101", "R201", "RC101", "RC201")
SOLVERS = ("pyvrp", "ortools")
err = Console(stderr=True)


def default_data() -> Path:
    return Path(os.environ.get("CYBERSYN_DATA", "/work/shared/data")) / "vrp"


def x_problem(path: Path) -> tuple[FleetProblem, float]:
    inst = vrplib.read_instance(str(path))
    k = int(re.search(r"-k(\d+)", path.stem).group(1))  # type: ignore[union-attr]
    dist = np.round(inst["edge_weight"]).astype(np.int64)
    best = float(vrplib.read_solution(str(path.with_suffix(".sol")))["cost"])
    problem = FleetProblem(dist, np.asarray(inst["demand"], dtype=np.int64),
                           int(inst["capacity"]), k + max(3, k // 10))
    return problem, best


def solomon_problem(path: Path, bks: dict[str, dict[str, float]]
                    ) -> tuple[FleetProblem, float, float, np.ndarray]:
    """The problem (distances x 100, rounded), the two best-known costs and the exact
    float distance matrix the reported cost is computed with."""
    inst = vrplib.read_instance(str(path), instance_format="solomon")
    exact = euclidean_float(np.asarray(inst["node_coord"]))
    dist = euclidean(np.asarray(inst["node_coord"]), scale=100.0)
    tw = np.asarray(inst["time_window"], dtype=np.int64) * 100
    service = np.round(np.asarray(inst["service_time"]) * 100).astype(np.int64)
    problem = FleetProblem(dist, np.asarray(inst["demand"], dtype=np.int64),
                           int(inst["capacity"]), int(inst["vehicles"]), time_windows=tw,
                           service=service)
    name = path.stem
    return (problem, bks[f"{name}_distance"]["best_known_cost"], bks[name]["best_known_cost"],
            exact)


def euclidean_float(xy: np.ndarray) -> np.ndarray:
    diff = xy[:, None, :] - xy[None, :, :]
    return np.sqrt((diff**2).sum(-1))


def gap(cost: float, best: float) -> float:
    return 100.0 * (cost - best) / best


def run_x(folder: Path, names: list[str], limit: float | None, solvers: tuple[str, ...],
          ) -> dict[str, object]:
    gaps: dict[str, list[float]] = {s: [] for s in solvers}
    detail = []
    for name in names:
        problem, best = x_problem(folder / f"{name}.vrp")
        t = limit if limit is not None else 2.4 * (problem.size - 1)
        row: dict[str, object] = {"instance": name, "bks": best}
        for s in solvers:
            r = route(problem, RouteParams(t, s))
            g = gap(r.distance, best) if r.feasible and not r.unserved else float("nan")
            gaps[s].append(g)
            row[s] = round(g, 3)
            err.print(f"X {name} {s}: cost {r.distance} bks {best:g} gap {g:.2f}% ({t:g} s)")
        detail.append(row)
    return _line("X", names, limit, gaps, detail)


def run_solomon(folder: Path, names: list[str], limit: float, solvers: tuple[str, ...],
                ) -> dict[str, object]:
    bks = json.loads((folder / "BKS.json").read_text())
    gaps: dict[str, list[float]] = {s: [] for s in solvers}
    vgaps: dict[str, list[float]] = {s: [] for s in solvers}
    detail = []
    for name in names:
        problem, best, best_vehicles, exact = solomon_problem(folder / f"{name}.txt", bks)
        row: dict[str, object] = {"instance": name, "bks_distance": best}
        for s in solvers:
            r = route(problem, RouteParams(limit, s))
            cost = route_distance(exact, r.routes)
            ok = r.feasible and not r.unserved
            gaps[s].append(gap(cost, best) if ok else float("nan"))
            vgaps[s].append(gap(cost, best_vehicles) if ok else float("nan"))
            row[s] = round(gaps[s][-1], 3)
            row[f"{s}_trucks"] = r.trucks_used
            err.print(f"Solomon {name} {s}: cost {cost:.2f} bks {best:g} "
                      f"gap {gaps[s][-1]:.2f}% trucks {r.trucks_used}")
        detail.append(row)
    line = _line("solomon", names, limit, gaps, detail)
    line["mean_gap_vs_vehicles_first_bks_pct"] = _mean(vgaps[solvers[0]])
    return line


def _mean(v: list[float]) -> float | None:
    """Mean gap over the instances solved (feasible, every point served)."""
    a = np.asarray(v, dtype=float)
    a = a[~np.isnan(a)]
    return None if a.size == 0 else round(float(a.mean()), 3)


def _unsolved(v: list[float]) -> int:
    return int(np.isnan(np.asarray(v, dtype=float)).sum())


def _line(name: str, names: list[str], limit: float | None, gaps: dict[str, list[float]],
          detail: list[dict[str, object]]) -> dict[str, object]:
    solvers = list(gaps)
    line: dict[str, object] = {
        "set": name, "instances": len(names),
        "time_limit_s": limit if limit is not None else "2.4n",
        "solver": solvers[0], "mean_gap_pct": _mean(gaps[solvers[0]]),
        "unsolved": _unsolved(gaps[solvers[0]])}
    if len(solvers) > 1:
        line.update(peer=solvers[1], peer_mean_gap_pct=_mean(gaps[solvers[1]]),
                    peer_unsolved=_unsolved(gaps[solvers[1]]))
    line["per_instance"] = detail
    return line


def x_names(folder: Path, full: bool) -> list[str]:
    if not full:
        return list(DEFAULT_X)
    out = []
    for p in sorted(folder.glob("X-n*.vrp")):
        n = int(re.search(r"-n(\d+)", p.stem).group(1))  # type: ignore[union-attr]
        if n - 1 <= 300:
            out.append(p.stem)
    return sorted(out, key=lambda s: int(s.split("-")[1][1:]))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_data())
    ap.add_argument("--json", action="store_true", help="one JSON line per set")
    ap.add_argument("--full", action="store_true", help="all instances at 60 s (hours)")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per instance")
    ap.add_argument("--scaled", action="store_true", help="X at 2.4 n seconds")
    ap.add_argument("--sets", default="x,solomon")
    ap.add_argument("--solvers", default=",".join(SOLVERS), help="first = ours, second = peer")
    ap.add_argument("--instances", default=None, help="comma-separated names (overrides)")
    a = ap.parse_args(argv)
    if not a.data.exists():
        print(f"error: no VRP data at {a.data} (set --data or CYBERSYN_DATA)", file=sys.stderr)
        sys.exit(1)
    limit = a.time_limit if a.time_limit is not None else (60.0 if a.full else 10.0)
    solvers = tuple(a.solvers.split(","))
    chosen = a.instances.split(",") if a.instances else None
    lines = []
    if "x" in a.sets:
        names = [n for n in chosen if n.startswith("X")] if chosen else x_names(
            a.data / "cvrp-x", a.full)
        lines.append(run_x(a.data / "cvrp-x", names, None if a.scaled else limit, solvers))
    if "solomon" in a.sets:
        sol = a.data / "solomon"
        names = ([n for n in chosen if not n.startswith("X")] if chosen else
                 sorted(p.stem for p in sol.glob("*.txt")) if a.full else list(DEFAULT_SOLOMON))
        lines.append(run_solomon(sol, names, limit, solvers))
    for line in lines:
        if a.json:
            print(json.dumps(line), flush=True)
        else:
            print({k: v for k, v in line.items() if k != "per_instance"})


if __name__ == "__main__":
    main()
