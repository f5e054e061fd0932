"""The October 1972 strike scenario on the demo economy (pure: arrays in, arrays out).

Modelling choices (docs/supply.md): the Santiago districts' distribution points are served
from one depot (Lo Valledor) by the state fleet in a morning round (drops 06:00-13:00, 10 h
shifts, 10-tonne trucks, 25 km/h in town, 20 min per drop). A district receives the share
of its normal supply whose drops the fleet still reaches; districts outside Santiago get
the Santiago average (their depots are not routed here). Households are drawn per district
so that their members and children add up to the district's registered counts; monthly
entitlements follow the JAP ration card: a half-litre of milk a day (15 L a month) for each
child and pregnant or nursing woman, served first, then the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cybersyn.economy.model import District, Economy
from cybersyn.supply.allocation import allocate_tiered
from cybersyn.supply.routing import FleetProblem

GOODS = ("milk", "flour", "sugar", "meat")
UNITS = {"milk": "litre", "flour": "kg", "sugar": "kg", "meat": "kg"}
# units per unit of the economy's product (thousand litres, tonnes)
PER_PRODUCT_UNIT = {"milk": 1000.0, "flour": 1000.0, "sugar": 1000.0, "meat": 1000.0}
# official prices, escudos cents per ration unit (1972 price lists, rounded)
PRICES_CENTS = {"milk": 180, "flour": 220, "sugar": 300, "meat": 2400}
# monthly entitlement per basis: (good, basis, quantity, priority tier)
RULES = (("milk", "child", 15, 0), ("milk", "pregnant_or_nursing", 15, 0),
         ("milk", "person", 2, 1), ("flour", "person", 4, 1), ("sugar", "person", 1, 1),
         ("meat", "person", 2, 1))
SANTIAGO = 26  # the first 26 demo districts are the communes of Santiago


@dataclass(frozen=True)
class Network:
    """xy (n+1, 2) km, depot first; district (n+1,) index (-1 for the depot);
    demand_kg (n+1,)."""

    ids: list[str]
    xy: np.ndarray
    district: np.ndarray
    demand_kg: np.ndarray


def santiago_network(districts: tuple[District, ...], rng: np.random.Generator,
                     households_per_point: int = 16_000, round_tonnes: float = 320.0
                     ) -> Network:
    """Distribution points of the Santiago districts around the Lo Valledor depot (one per
    `households_per_point` households, at least two per district)."""
    ids, xy, dist, hh = ["DEPOT"], [[0.0, 0.0]], [-1], [0.0]
    for k, d in enumerate(districts[:SANTIAGO]):
        points_per_district = max(2, -(-d.households // households_per_point))
        angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(3, 18)
        centre = radius * np.array([np.cos(angle), np.sin(angle)])
        for j in range(points_per_district):
            ids.append(f"{d.id}-P{j + 1}")
            xy.append(list(centre + rng.uniform(-2, 2, 2)))
            dist.append(k)
            hh.append(d.households / points_per_district)
    share = np.asarray(hh) / np.sum(hh)
    return Network(ids, np.asarray(xy), np.asarray(dist),
                   np.round(share * round_tonnes * 1000.0))


def fleet_problem(net: Network, trucks: int, capacity_kg: int = 10_000) -> FleetProblem:
    """Distances in metres, times in minutes after midnight; points may go unserved."""
    diff = net.xy[:, None, :] - net.xy[None, :, :]
    km = np.sqrt((diff**2).sum(-1)) * 1.3  # street detour factor
    n = len(net.ids)
    tw = np.tile([360, 780], (n, 1))
    tw[0] = [300, 1020]
    return FleetProblem(np.round(km * 1000).astype(np.int64),
                        net.demand_kg.astype(np.int64), capacity_kg, trucks,
                        duration=np.round(km / 25.0 * 60).astype(np.int64), time_windows=tw,
                        service=np.r_[0, np.full(n - 1, 20)], shift_duration=600,
                        required=False)


def delivered_share(net: Network, unserved: tuple[int, ...]) -> float:
    """Share of the round's tonnage that the fleet delivers. Routes are re-planned every
    day with yesterday's unserved points first, so over a month each point receives about
    this share of its normal deliveries."""
    lost = float(net.demand_kg[list(unserved)].sum()) if unserved else 0.0
    return 1.0 - lost / float(net.demand_kg.sum())


@dataclass(frozen=True)
class Households:
    """Arrays of shape (n_households,): district index, members, children, pregnant."""

    district: np.ndarray
    members: np.ndarray
    children: np.ndarray
    pregnant: np.ndarray


def households(districts: tuple[District, ...], rng: np.random.Generator) -> Households:
    """Households per district, contiguous, whose members, children and pregnant or nursing
    women add up to the district's counts (each person drawn into a random household)."""
    parts: list[tuple[np.ndarray, ...]] = []
    for k, d in enumerate(districts):
        h = d.households
        adults = np.bincount(rng.integers(0, h, d.people - d.children - h), minlength=h) + 1
        kids = np.bincount(rng.integers(0, h, d.children), minlength=h)
        preg = np.minimum(np.bincount(rng.integers(0, h, d.pregnant_or_nursing), minlength=h),
                          adults)
        parts.append((np.full(h, k, dtype=np.int32), adults + kids, kids, preg))
    return Households(*(np.concatenate([p[i] for p in parts]) for i in range(4)))


def claims(h: Households) -> tuple[np.ndarray, np.ndarray]:
    """(tier 0, tier 1) monthly claims, each (n_households, len(GOODS)) in ration units."""
    basis = {"child": h.children, "pregnant_or_nursing": h.pregnant, "person": h.members}
    tiers = [np.zeros((h.members.size, len(GOODS))) for _ in range(2)]
    for good, b, qty, tier in RULES:
        tiers[tier][:, GOODS.index(good)] += qty * basis[b]
    return tiers[0], tiers[1]


def monthly_supply(economy: Economy) -> np.ndarray:
    """National supply of each good for households in a normal month, shape (4,)."""
    io = economy.io
    return np.array([io.final_demand[io.index[g]] / 12.0 * PER_PRODUCT_UNIT[g]
                     for g in GOODS])


@dataclass(frozen=True)
class Rationing:
    """Awards and claims per household and tier, each (n_households, n_goods), and the
    district awards (n_districts, n_goods) per tier."""

    award0: np.ndarray
    award1: np.ndarray
    claim0: np.ndarray
    claim1: np.ndarray
    district0: np.ndarray
    district1: np.ndarray


def ration(h: Households, available: np.ndarray, rule: str = "proportional") -> Rationing:
    """Two levels, children's milk first at each: the goods that arrive (available, shape
    (n_goods,)) are shared among districts by their households' claims, then within each
    district among its households in whole units. `h.district` must be sorted."""
    c0, c1 = claims(h)
    starts = np.flatnonzero(np.r_[True, h.district[1:] != h.district[:-1]])
    d0, d1 = np.add.reduceat(c0, starts, axis=0), np.add.reduceat(c1, starts, axis=0)
    g0, g1 = allocate_tiered([d0, d1], available, rule)
    a0, a1 = np.zeros_like(c0), np.zeros_like(c1)
    bounds = [*starts, h.district.size]
    for k in range(starts.size):
        s = slice(bounds[k], bounds[k + 1])
        a0[s], a1[s] = allocate_tiered([c0[s], c1[s]], g0[k] + g1[k], rule, integer=True)
    return Rationing(a0, a1, c0, c1, g0, g1)
