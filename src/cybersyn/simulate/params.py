"""Validated parameters of the simulator: `SimParams`, `Shock` and `Policy` (frozen dataclasses).

Shocks and policies are data: a kind, a first day (index from the start of the run), a
duration in days and a few numbers. `cybersyn.simulate.scenario` builds them from TOML, where
dates are calendar dates; the core only ever sees day indices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

SHOCK_KINDS = ("transport_cut", "import_blockade", "lockout", "absenteeism", "harvest_failure")
POLICY_KINDS = ("requisition", "reroute", "rationing", "replan", "cordones")
RULES = ("proportional", "cea", "cel")


def _unit_interval(name: str, value: float) -> None:
    if not (0.0 <= value <= 1.0):
        raise ValueError(f"Expected {name} in [0, 1], got {value}.")


def _non_negative(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"Expected {name} >= 0, got {value}.")


@dataclass(frozen=True)
class SimParams:
    """Behaviour of producers, transport and households in the daily model.

    finished_cover_days: finished-goods stock each producer keeps, in days of planned output.
    input_cover_days: stock of each input a producer keeps, in days of planned use.
    adjust_days: days over which a stock gap is closed (order/production correction).
    transport_headroom: transport capacity / transport needed in the steady state (>= 1).
    absenteeism: share of workers absent on a normal day.
    degrade_per_day: capacity health lost per day at a full shortfall of spare parts.
    repair_per_day: share of lost health regained per day when spare parts are available.
    investment_growth_per_day: capacity growth per day when investment is fully delivered.
    hoarding: extra claim, relative to entitlement, of the most affluent district on a scarce
        good when there is no rationing (queues and the black market favour the well-off).
    demand_noise: relative standard deviation of daily household demand (seeded).
    """

    finished_cover_days: float = 5.0
    input_cover_days: float = 10.0
    adjust_days: float = 5.0
    transport_headroom: float = 1.10
    absenteeism: float = 0.06
    degrade_per_day: float = 0.01
    repair_per_day: float = 0.05
    investment_growth_per_day: float = 0.0
    hoarding: float = 0.6
    demand_noise: float = 0.0

    def __post_init__(self) -> None:
        for name in ("finished_cover_days", "input_cover_days", "degrade_per_day",
                     "repair_per_day", "investment_growth_per_day", "hoarding",
                     "demand_noise"):
            _non_negative(name, getattr(self, name))
        if not (math.isfinite(self.adjust_days) and self.adjust_days >= 1.0):
            raise ValueError(f"Expected adjust_days >= 1, got {self.adjust_days}.")
        if not (math.isfinite(self.transport_headroom) and self.transport_headroom >= 1.0):
            raise ValueError(
                f"Expected transport_headroom >= 1, got {self.transport_headroom}.")
        if not (0.0 <= self.absenteeism < 1.0):
            raise ValueError(f"Expected absenteeism in [0, 1), got {self.absenteeism}.")
        _unit_interval("degrade_per_day", self.degrade_per_day)
        _unit_interval("repair_per_day", self.repair_per_day)
        if self.demand_noise > 0.5:
            raise ValueError(f"Expected demand_noise in [0, 0.5], got {self.demand_noise}.")


@dataclass(frozen=True)
class Shock:
    """Something that happens to the economy from day `start` for `days` days.

    transport_cut: national transport capacity falls by `size` (a share, 0.6 = -60%).
    import_blockade: imports of `products` fall by `size`.
    lockout: owners stop a share `size` of the capacity of `products`.
    absenteeism: absenteeism rises to `size` at the producers of `products` (all if empty).
    harvest_failure: capacity of `products` falls by `size`.
    `products` are integer product indices (the scenario loader maps codes to indices).
    """

    kind: str
    start: int
    days: int
    size: float
    products: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in SHOCK_KINDS:
            raise ValueError(f"Expected shock kind in {SHOCK_KINDS}, got {self.kind!r}.")
        _window(self.start, self.days)
        _unit_interval(f"{self.kind} size", self.size)
        if self.kind in ("import_blockade", "lockout", "harvest_failure") and not self.products:
            raise ValueError(f"Expected products for a {self.kind} shock.")

    def active(self, day: int) -> bool:
        return self.start <= day < self.start + self.days


@dataclass(frozen=True)
class Policy:
    """A response from day `start` for `days` days.

    requisition: a share `size` of the transport capacity lost to shocks is restored
        (requisitioned trucks, volunteer drivers, state transport).
    reroute: deliveries are coordinated (the telex network of October 1972): transport
        capacity is used `size` more efficiently and `products` (essential goods) go first.
    rationing: household goods are shared among districts by entitlement (supply committees)
        with the claims rule `rule`, instead of by who can queue or pay.
    replan: every `every_days` days targets are recomputed for the capacities that remain.
    cordones: `after_days` after a lockout starts, workers restart a share `size` of what the
        owners stopped.
    """

    kind: str
    start: int = 0
    days: int = 1_000_000
    size: float = 0.0
    products: tuple[int, ...] = ()
    rule: str = "proportional"
    every_days: int = 7
    after_days: int = 3

    def __post_init__(self) -> None:
        if self.kind not in POLICY_KINDS:
            raise ValueError(f"Expected policy kind in {POLICY_KINDS}, got {self.kind!r}.")
        _window(self.start, self.days)
        if self.kind == "reroute":
            _non_negative("reroute size", self.size)
        else:
            _unit_interval(f"{self.kind} size", self.size)
        if self.rule not in RULES:
            raise ValueError(f"Expected rationing rule in {RULES}, got {self.rule!r}.")
        if self.every_days < 1 or self.after_days < 0:
            raise ValueError("Expected every_days >= 1 and after_days >= 0.")

    def active(self, day: int) -> bool:
        return self.start <= day < self.start + self.days


def _window(start: int, days: int) -> None:
    if start < 0 or days < 1:
        raise ValueError(f"Expected start >= 0 and days >= 1, got start={start}, days={days}.")


@dataclass(frozen=True)
class Variant:
    """One arm of a scenario: a name and the policies applied (shocks are shared)."""

    name: str
    policies: tuple[Policy, ...] = field(default_factory=tuple)
