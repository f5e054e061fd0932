"""Sharing household goods among districts, and the share of entitlements met.

With rationing the supply committees share a scarce good by entitlement through the supply
package's claims rules (`cybersyn.supply.allocate`, O'Neill 1982 / Thomson 2003 bankruptcy
rules), falling back to `fallback_allocate` while that package is absent. Without rationing
the well-off districts claim more than their entitlement of a scarce good (queues, the
black market, hoarding) and the good goes proportionally to claims.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

import numpy as np

from cybersyn.simulate.params import Policy

Allocator = Callable[..., np.ndarray]


def supply_allocator() -> Allocator:
    """`cybersyn.supply.allocate` when the supply package is installed, else the fallback."""
    if importlib.util.find_spec("cybersyn.supply") is not None:
        supply = importlib.import_module("cybersyn.supply")
        if hasattr(supply, "allocate"):
            return supply.allocate  # type: ignore[no-any-return]
    return fallback_allocate


def fallback_allocate(claims: np.ndarray, supply: np.ndarray, rule: str = "proportional",
                      priority: np.ndarray | None = None, integer: bool = False) -> np.ndarray:
    """Claims rules on claims of shape (h, g) and supply of shape (g,); returns (h, g).

    proportional: each gets claim * min(1, supply / total claims).
    cea (constrained equal awards): each gets min(claim, λ) with Σ = supply.
    cel (constrained equal losses): each gets max(0, claim - λ) with Σ = supply.
    λ per good by bisection (60 halvings). `priority` and `integer` are not supported here.
    """
    total = claims.sum(axis=0)
    if rule == "proportional":
        scale = np.divide(supply, total, out=np.ones_like(supply), where=total > 0)
        return np.asarray(claims * np.minimum(scale, 1.0))
    short = supply < total
    lo, hi = np.zeros_like(supply), claims.max(axis=0, initial=0.0)

    def give(lam: np.ndarray) -> np.ndarray:
        if rule == "cea":
            return np.asarray(np.minimum(claims, lam))
        return np.asarray(np.maximum(claims - lam, 0.0))

    for _ in range(60):
        mid = (lo + hi) / 2
        over = give(mid).sum(axis=0) > supply
        lo, hi = (np.where(over, lo, mid), np.where(over, mid, hi)) if rule == "cea" else (
            np.where(over, mid, lo), np.where(over, hi, mid))
    lam = (lo + hi) / 2
    out = give(lam)
    out = out * np.divide(supply, out.sum(axis=0), out=np.ones_like(supply),
                          where=out.sum(axis=0) > 0)
    return np.asarray(np.where(short[None, :], out, claims))


def met_share(weight: np.ndarray, affluence: np.ndarray, value: np.ndarray,
              requested: np.ndarray, delivered: np.ndarray, hoarding: float,
              rationing: Policy | None, allocate: Allocator) -> np.ndarray:
    """Share of each district's entitlement met, weighted by labour value; shape (d,).

    weight, affluence : shape (d,). value, requested, delivered : shape (n,), household
    goods requested and delivered nationally (units/day). Entitlement E[d, i] = w_d req_i.
    """
    total = float(value @ requested)
    short = np.flatnonzero(delivered < requested * (1 - 1e-12))
    if total <= 0 or short.size == 0:
        return np.ones(weight.size)
    E = weight[:, None] * requested[None, short]
    got = _share_out(E, delivered[short], weight, affluence, hoarding, rationing, allocate)
    lost = (np.maximum(E - got, 0.0) * value[None, short]).sum(axis=1)
    return np.asarray(np.clip(1.0 - lost / (weight * total), 0.0, 1.0))


def _share_out(E: np.ndarray, supply: np.ndarray, weight: np.ndarray, affluence: np.ndarray,
               hoarding: float, rationing: Policy | None, allocate: Allocator) -> np.ndarray:
    if rationing is not None:
        got = np.asarray(allocate(E, supply, rule=rationing.rule), dtype=float)
        if got.shape != E.shape:
            raise ValueError(f"Expected an allocation of shape {E.shape}, got {got.shape}.")
        return got
    claims = E * (1.0 + hoarding * affluence)[:, None]
    return fallback_allocate(claims, supply, "proportional")
