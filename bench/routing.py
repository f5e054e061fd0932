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

Time limits are CPU seconds of the solving process by default (time.process_time; both
searches are single-threaded), so a loaded shared machine does not shorten the search;
`--wall-time` restores wall-clock limits. OR-Tools stops at its first accepted solution past
the CPU limit (wall backstop 4x). `--peer-every K` runs the peer on every K-th instance
(sorted by size) only; the summary then gives our mean gap on that same subset beside the
peer's. Instances run in stride order (names[0::K], names[1::K], ...), so the peer's
subset comes first and any prefix of a cut-off run spreads over the sizes.

With `--json`, one line per instance and solver is printed as it finishes (a cut-off run
is still evidence), then one summary line per set ({"summary": true, ...}) with load
average (os.getloadavg) and CPU / wall seconds per solver. `--summarize FILE` rebuilds the
summary lines from such a file (a run cut short: over the instances finished).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import vrplib
from rich.console import Console

from cybersyn.supply.routing import (
    FleetProblem,
    RouteParams,
    Routes,
    euclidean,
    route,
    route_distance,
)

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
    out: np.ndarray = np.sqrt((diff**2).sum(-1))
    return out


def gap(cost: float, best: float) -> float:
    return 100.0 * (cost - best) / best


def peer_subset(names: list[str], every: int) -> list[str]:
    """Every `every`-th name from the first (evenly spaced over the sorted list)."""
    return names[::every]


def stride_order(names: list[str], every: int) -> list[str]:
    """names[0::k] + names[1::k] + ... : the peer's subset first, and every prefix of the
    run an evenly spread sample of sizes (a run cut short is not biased to small ones)."""
    return [n for i in range(every) for n in names[i::every]]


class SetRun:
    """Gaps of one instance set, one JSON line per instance and solver as it goes (so a
    cut-off run is still evidence), the summary line at the end."""

    def __init__(self, name: str, limit: float | None, solvers: tuple[str, ...], cpu: bool,
                 peer_names: list[str], emit: bool) -> None:
        self.name, self.limit, self.solvers, self.cpu = name, limit, solvers, cpu
        self.peer_names, self.emit = set(peer_names), emit
        self.gaps: dict[str, dict[str, float]] = {s: {} for s in solvers}
        self.vgaps: dict[str, float] = {}
        self.cpu_s = dict.fromkeys(solvers, 0.0)
        self.wall_s = dict.fromkeys(solvers, 0.0)
        self.loads: list[float] = []
        self.names: list[str] = []

    def solve(self, name: str, problem: FleetProblem, t: float) -> Iterator[tuple[str, Routes]]:
        """(solver, routes) for ours, then for the peer when `name` is in its subset; a
        generator, so each result is recorded before the next solver starts."""
        self.names.append(name)
        for k, s in enumerate(self.solvers):
            if k > 0 and name not in self.peer_names:
                continue
            load = os.getloadavg()[0]
            r = route(problem, RouteParams(t, s, cpu_time=self.cpu))
            self.loads.append(load)
            self.cpu_s[s] += r.cpu_s
            self.wall_s[s] += r.wall_s
            yield s, r

    def record(self, name: str, solver: str, r: Routes, cost: float, best: float,
               extra: dict[str, object] | None = None) -> None:
        ok = r.feasible and not r.unserved
        g = gap(cost, best) if ok else float("nan")
        self.gaps[solver][name] = g
        line = {"set": self.name, "instance": name, "solver": solver, "cost": round(cost, 2),
                "bks": best, "gap_pct": None if not ok else round(g, 3),
                "trucks": r.trucks_used, "limit_s": self.limit, "clock": self.clock,
                "cpu_s": round(r.cpu_s, 2), "wall_s": round(r.wall_s, 2),
                "load1": round(os.getloadavg()[0], 2), **(extra or {})}
        if self.emit:
            print(json.dumps(line), flush=True)
        err.print(f"{self.name} {name} {solver}: cost {cost:.2f} bks {best:g} gap {g:.3f}% "
                  f"cpu {r.cpu_s:.1f} s wall {r.wall_s:.1f} s load {line['load1']}")

    @property
    def clock(self) -> str:
        return "cpu" if self.cpu else "wall"

    def summary(self) -> dict[str, object]:
        ours = self.solvers[0]
        line: dict[str, object] = {
            "set": self.name, "instances": len(self.names),
            "time_limit_s": self.limit if self.limit is not None else "2.4n",
            "clock": self.clock, "solver": ours,
            "mean_gap_pct": _mean(list(self.gaps[ours].values())),
            "unsolved": _unsolved(list(self.gaps[ours].values()))}
        if len(self.solvers) > 1:
            peer = self.solvers[1]
            subset = [n for n in self.names if n in self.gaps[peer]]
            line.update(
                peer=peer, peer_instances=len(subset),
                peer_subset=subset if len(subset) < len(self.names) else "all",
                peer_mean_gap_pct=_mean([self.gaps[peer][n] for n in subset]),
                peer_unsolved=_unsolved([self.gaps[peer][n] for n in subset]),
                mean_gap_pct_on_peer_subset=_mean([self.gaps[ours][n] for n in subset]))
        if self.vgaps:
            line["mean_gap_vs_vehicles_first_bks_pct"] = _mean(list(self.vgaps.values()))
        line.update(
            cpu_s={s: round(v, 1) for s, v in self.cpu_s.items()},
            wall_s={s: round(v, 1) for s, v in self.wall_s.items()},
            load1_mean=round(float(np.mean(self.loads)), 2) if self.loads else None,
            load1_max=round(max(self.loads), 2) if self.loads else None,
            per_instance=[{"instance": n, **{s: (None if np.isnan(self.gaps[s][n])
                                                 else round(self.gaps[s][n], 3))
                                             for s in self.solvers if n in self.gaps[s]}}
                          for n in self.names])
        return line


def run_x(folder: Path, names: list[str], limit: float | None, solvers: tuple[str, ...],
          cpu: bool = True, peer_every: int = 1, emit: bool = False) -> dict[str, object]:
    run = SetRun("X", limit, solvers, cpu, peer_subset(names, peer_every), emit)
    for name in stride_order(names, peer_every):
        problem, best = x_problem(folder / f"{name}.vrp")
        t = limit if limit is not None else 2.4 * (problem.size - 1)
        for s, r in run.solve(name, problem, t):
            run.record(name, s, r, float(r.distance), best, {"limit_s": t})
    return run.summary()


def run_solomon(folder: Path, names: list[str], limit: float, solvers: tuple[str, ...],
                cpu: bool = True, peer_every: int = 1, emit: bool = False,
                ) -> dict[str, object]:
    bks = json.loads((folder / "BKS.json").read_text())
    run = SetRun("solomon", limit, solvers, cpu, peer_subset(names, peer_every), emit)
    for name in stride_order(names, peer_every):
        problem, best, best_vehicles, exact = solomon_problem(folder / f"{name}.txt", bks)
        for s, r in run.solve(name, problem, limit):
            cost = route_distance(exact, r.routes)
            if s == solvers[0] and r.feasible and not r.unserved:
                run.vgaps[name] = gap(cost, best_vehicles)
            run.record(name, s, r, cost, best, {"bks_vehicles_first": best_vehicles})
    return run.summary()


def summarize(lines: list[dict[str, Any]], solvers: tuple[str, ...]) -> list[dict[str, object]]:
    """Summary lines rebuilt from per-instance lines (e.g. of a run cut short): one per
    set, over the instances our solver finished; the peer's subset is where it finished."""
    out = []
    for name in dict.fromkeys(ln["set"] for ln in lines if "summary" not in ln):
        mine = [ln for ln in lines if ln.get("set") == name and "summary" not in ln]
        limits = {ln["limit_s"] for ln in mine}
        peer_names = [ln["instance"] for ln in mine if ln["solver"] == solvers[-1]]
        run = SetRun(name, limits.pop() if len(limits) == 1 else None, solvers,
                     mine[0]["clock"] == "cpu", peer_names, False)
        for ln in mine:
            s = ln["solver"]
            if s == solvers[0]:
                run.names.append(ln["instance"])
            run.gaps[s][ln["instance"]] = (float("nan") if ln["gap_pct"] is None
                                           else float(ln["gap_pct"]))
            run.cpu_s[s] += ln["cpu_s"]
            run.wall_s[s] += ln["wall_s"]
            run.loads.append(ln["load1"])
            if "bks_vehicles_first" in ln and s == solvers[0] and ln["gap_pct"] is not None:
                run.vgaps[ln["instance"]] = gap(ln["cost"], ln["bks_vehicles_first"])
        run.names = [n for n in run.names if n in run.gaps[solvers[0]]]
        for s in solvers[1:]:  # a peer result without ours (cut between the two) is left out
            run.gaps[s] = {n: g for n, g in run.gaps[s].items() if n in run.names}
        line = run.summary()
        line["rebuilt_from_instance_lines"] = True
        out.append(line)
    return out


def _mean(v: list[float]) -> float | None:
    """Mean gap over the instances solved (feasible, every point served)."""
    a = np.asarray(v, dtype=float)
    a = a[~np.isnan(a)]
    return None if a.size == 0 else round(float(a.mean()), 3)


def _unsolved(v: list[float]) -> int:
    return int(np.isnan(np.asarray(v, dtype=float)).sum())


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
    ap.add_argument("--wall-time", action="store_true",
                    help="limits in wall-clock seconds (default: CPU seconds of the solver)")
    ap.add_argument("--summarize", type=Path, default=None,
                    help="print the summary lines of a saved --json output (no solving)")
    ap.add_argument("--peer-every", type=int, default=1,
                    help="run the peer on every k-th instance only (an evenly spaced subset)")
    a = ap.parse_args(argv)
    if a.summarize is not None:
        saved = [json.loads(ln) for ln in a.summarize.read_text().splitlines() if ln.strip()]
        for line in summarize(saved, tuple(a.solvers.split(","))):
            print(json.dumps(line), flush=True)
        return
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
        lines.append(run_x(a.data / "cvrp-x", names, None if a.scaled else limit, solvers,
                           not a.wall_time, a.peer_every, a.json))
    if "solomon" in a.sets:
        sol = a.data / "solomon"
        names = ([n for n in chosen if not n.startswith("X")] if chosen else
                 sorted(p.stem for p in sol.glob("*.txt")) if a.full else list(DEFAULT_SOLOMON))
        lines.append(run_solomon(sol, names, limit, solvers, not a.wall_time, a.peer_every,
                                 a.json))
    for line in lines:
        if a.json:
            print(json.dumps({"summary": True, **line}), flush=True)
        else:
            print({k: v for k, v in line.items() if k != "per_instance"})


if __name__ == "__main__":
    main()
