"""What shocks and policies mean on one day: `Conditions`, a pure function of the day index."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cybersyn.simulate.params import Policy, Shock


@dataclass(frozen=True)
class Conditions:
    """The state of the world on one day (n products).

    transport : float, share of the steady transport capacity available (before reroute).
    capacity : ndarray of shape (n,), multiplier on each product's capacity.
    absenteeism : ndarray of shape (n,), share of workers absent at each producer.
    imports : ndarray of shape (n,), multiplier on each product's imports.
    priority : ndarray of bool, shape (n,), or None: goods whose deliveries go first.
    rationing : the active rationing policy or None.
    replan : bool, recompute targets today.
    """

    transport: float
    capacity: np.ndarray
    absenteeism: np.ndarray
    imports: np.ndarray
    priority: np.ndarray | None
    rationing: Policy | None
    replan: bool


def conditions(day: int, n: int, base_absenteeism: float, essential: np.ndarray,
               shocks: tuple[Shock, ...], policies: tuple[Policy, ...]) -> Conditions:
    """Combine the shocks and policies active on `day` (0-based) for n products."""
    on = [s for s in shocks if s.active(day)]
    act = [p for p in policies if p.active(day)]
    capacity = np.ones(n)
    absent = np.full(n, base_absenteeism)
    imports = np.ones(n)
    for s in on:
        idx = list(s.products)
        if s.kind == "harvest_failure":
            capacity[idx] *= 1.0 - s.size
        elif s.kind == "import_blockade":
            imports[idx] *= 1.0 - s.size
        elif s.kind == "absenteeism":
            target = idx if idx else slice(None)
            absent[target] = np.maximum(absent[target], s.size)
        elif s.kind == "lockout":
            capacity[idx] *= 1.0 - s.size * (1.0 - _restarted(day, s, act))
    return Conditions(
        transport=_transport(on, act), capacity=capacity, absenteeism=absent, imports=imports,
        priority=_priority(act, n, essential), rationing=_first(act, "rationing"),
        replan=any(p.kind == "replan" and (day - p.start) % p.every_days == 0 for p in act))


def _transport(on: list[Shock], act: list[Policy]) -> float:
    cut = min(1.0, sum(s.size for s in on if s.kind == "transport_cut"))
    restored = min(1.0, sum(p.size for p in act if p.kind == "requisition"))
    efficiency = sum(p.size for p in act if p.kind == "reroute")
    return (1.0 - cut + cut * restored) * (1.0 + efficiency)


def _restarted(day: int, lockout: Shock, act: list[Policy]) -> float:
    """Share of a lockout undone by workers restarting the plants (the cordones)."""
    share = [p.size for p in act
             if p.kind == "cordones" and day >= lockout.start + p.after_days]
    return min(1.0, max(share, default=0.0))


def _priority(act: list[Policy], n: int, essential: np.ndarray) -> np.ndarray | None:
    reroutes = [p for p in act if p.kind == "reroute"]
    if not reroutes:
        return None
    mask = np.zeros(n, bool)
    for p in reroutes:
        if p.products:
            mask[list(p.products)] = True
        else:
            mask |= essential
    return mask


def _first(act: list[Policy], kind: str) -> Policy | None:
    return next((p for p in act if p.kind == kind), None)
