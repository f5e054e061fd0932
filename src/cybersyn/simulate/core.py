"""The daily dynamic input-output model: `initial_state`, `step` and `simulate` (pure).

Each day (a discrete-time dynamic Leontief model with inventories and capacity limits, in
the spirit of Leontief 1970 "The dynamic inverse" and the inventory-driven IO models of
Hallegatte 2008, *Risk Analysis* 28(3), and Pichler et al. 2022, *JEDC* 144):

1. Producers set an output target: the plan plus a correction of their finished stock.
   They order each input: planned use plus a correction of their input stock.
2. Production x_j = min(target_j, capacity_j · health_j · labour present_j,
   min_i stock_ij / A_ij) (Leontief technology; spare parts are not a hard limit but
   wear capacity down when short). Inputs used: A_ij x_j.
3. Imports arrive; each product's finished stock is shared among its requests (producers'
   orders, households, investment, exports) in proportion when short, then by transport:
   load τ_i · shipment_i must fit the day's transport capacity (essential goods first
   when deliveries are rerouted).
4. Perishable stock above its target spoils (a declared loss).

Stock-flow consistency: for each product, Δ(finished stock + stocks held as inputs) =
output + imports - intermediate use - households - investment - exports - losses, every
day (`Flows.balance`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from cybersyn.simulate.conditions import Conditions, conditions
from cybersyn.simulate.districts import Allocator, fallback_allocate, met_share
from cybersyn.simulate.model import SimEconomy
from cybersyn.simulate.params import Policy, Shock, SimParams

Planner = Callable[[SimEconomy, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class State:
    """Stocks at the start of a day.

    finished : ndarray of shape (n,), finished goods at each product's producers (units).
    inputs : ndarray of shape (nnz,), stock of input rows[k] held by producer cols[k].
    health : ndarray of shape (n,), share of capacity in working order (1 = all).
    capacity : ndarray of shape (n,), units/day before health, labour and shocks.
    plan_output, plan_final : ndarray of shape (n,), the plan's gross output and final
        demand (units/day); the steady state unless re-planned.
    """

    finished: np.ndarray
    inputs: np.ndarray
    health: np.ndarray
    capacity: np.ndarray
    plan_output: np.ndarray
    plan_final: np.ndarray

    def stock(self, rows: np.ndarray) -> np.ndarray:
        """Total stock of each product (finished + held as inputs), shape (n,)."""
        n = self.finished.size
        return self.finished + np.bincount(rows, self.inputs, minlength=n)


@dataclass(frozen=True)
class Flows:
    """What happened on one day; arrays of shape (n,) in units/day unless said."""

    output: np.ndarray
    imports: np.ndarray
    used: np.ndarray
    household: np.ndarray
    household_requested: np.ndarray
    investment: np.ndarray
    exports: np.ndarray
    losses: np.ndarray
    shipped: np.ndarray
    """all deliveries out of each product's finished stock (to producers and final users)."""
    met: np.ndarray
    """shape (d,): share of each district's entitlement met (labour-value weighted)."""
    labour_present: np.ndarray
    transport_capacity: float
    transport_used: float

    def balance(self) -> np.ndarray:
        """Net change of total stock each product must show, shape (n,)."""
        return np.asarray(self.output + self.imports - self.used - self.household
                          - self.investment - self.exports - self.losses)


def initial_state(eco: SimEconomy, p: SimParams) -> State:
    """The steady state: stocks at their targets, full health, the Leontief plan."""
    x = eco.steady_output
    return State(finished=p.finished_cover_days * x,
                 inputs=p.input_cover_days * eco.A.data * x[eco.cols],
                 health=np.ones(eco.n), capacity=eco.capacity.copy(),
                 plan_output=x.copy(), plan_final=eco.final_demand.copy())


def steady_transport(eco: SimEconomy, p: SimParams) -> float:
    """Transport capacity (transport units/day): headroom × the steady state's load."""
    x = eco.steady_output
    return p.transport_headroom * float(eco.transport_intensity @ (eco.A @ x
                                                                   + eco.final_demand))


def _input_limit(eco: SimEconomy, inputs: np.ndarray) -> np.ndarray:
    """Most each producer can make from its input stocks (spare parts excluded), (n,)."""
    ratio = np.divide(inputs, eco.A.data, out=np.full(inputs.size, np.inf),
                      where=eco.A.data > 0)
    if eco.spare_parts >= 0:
        ratio[eco.rows == eco.spare_parts] = np.inf
    limit = np.full(eco.n, np.inf)
    starts = eco.A.indptr[:-1]
    has = np.diff(eco.A.indptr) > 0
    if ratio.size:
        limit[has] = np.minimum.reduceat(ratio, starts[has])
    return limit


def _transport_share(load: np.ndarray, capacity: float,
                     priority: np.ndarray | None) -> np.ndarray:
    """Share r_i of each product's wanted shipments that transport can carry, shape (n,)."""
    total = float(load.sum())
    if total <= capacity:
        return np.ones(load.size)
    if priority is None:
        r = np.full(load.size, capacity / total)
    else:
        first = float(load[priority].sum())
        if first >= capacity:
            r = np.where(priority, capacity / first, 0.0)
        else:
            r = np.where(priority, 1.0, (capacity - first) / (total - first))
    r[load <= 0] = 1.0
    return r


def step(eco: SimEconomy, p: SimParams, st: State, cond: Conditions, transport0: float,
         household_noise: np.ndarray, allocate: Allocator = fallback_allocate
         ) -> tuple[State, Flows]:
    """One day from state `st` under `cond`; returns the next state and the day's flows.

    household_noise : ndarray of shape (n,), multiplier on household demand (1 = none).
    """
    a, rows, cols, n = eco.A.data, eco.rows, eco.cols, eco.n
    xs, xs_cols = st.plan_output, st.plan_output[cols]
    target = np.maximum(xs + (p.finished_cover_days * xs - st.finished) / p.adjust_days, 0.0)
    want = np.maximum(a * target[cols] + (p.input_cover_days * a * xs_cols - st.inputs)
                      / p.adjust_days, 0.0)
    labour = (1.0 - cond.absenteeism) / (1.0 - p.absenteeism)
    x = np.minimum(np.minimum(target, st.capacity * st.health * cond.capacity * labour),
                   _input_limit(eco, st.inputs))
    need = a * x[cols]
    use = np.minimum(need, st.inputs)
    inputs = st.inputs - use
    imports = eco.imports * cond.imports * np.divide(
        st.plan_output, eco.steady_output, out=np.ones(n), where=eco.steady_output > 0)
    finished = st.finished + x + imports
    scale = np.divide(st.plan_final, eco.final_demand, out=np.ones(n),
                      where=eco.final_demand > 0)
    hh = eco.final_demand * eco.household_share * household_noise * scale
    inv = eco.final_demand * eco.investment_share * scale
    ex = eco.final_demand * eco.export_share * scale
    request = np.bincount(rows, want, minlength=n) + hh + inv + ex
    s = np.minimum(np.divide(finished, request, out=np.ones(n), where=request > 0), 1.0)
    load = eco.transport_intensity * s * request
    cap_t = transport0 * cond.transport
    g = s * _transport_share(load, cap_t, cond.priority)
    inputs = inputs + want * g[rows]
    finished = np.maximum(finished - g * request, 0.0)
    losses = eco.spoilage * np.maximum(finished - p.finished_cover_days * xs, 0.0)
    finished = finished - losses
    flows = Flows(
        output=x, imports=imports, used=np.bincount(rows, use, minlength=n),
        household=hh * g, household_requested=hh, investment=inv * g, exports=ex * g,
        losses=losses, shipped=g * request,
        met=met_share(eco.district_weight, eco.affluence, eco.value, hh, hh * g, p.hoarding,
                      cond.rationing, allocate),
        labour_present=1.0 - cond.absenteeism, transport_capacity=cap_t,
        transport_used=float(eco.transport_intensity @ (g * request)))
    health, capacity = _wear(eco, p, st, need, use, inv, g)
    return replace(st, finished=finished, inputs=inputs, health=health,
                   capacity=capacity), flows


def _wear(eco: SimEconomy, p: SimParams, st: State, need: np.ndarray, use: np.ndarray,
          inv: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Capacity health falls with missing spare parts, recovers when they come; investment
    delivered grows capacity."""
    health = st.health
    if eco.spare_parts >= 0:
        k = np.flatnonzero(eco.rows == eco.spare_parts)
        short = np.zeros(eco.n)
        short[eco.cols[k]] = 1.0 - np.divide(use[k], need[k], out=np.ones(k.size),
                                             where=need[k] > 0)
        health = np.where(short > 1e-9, health * (1.0 - p.degrade_per_day * short),
                          health + p.repair_per_day * (1.0 - health))
    capacity = st.capacity
    if p.investment_growth_per_day > 0:
        met = float(g @ inv) / max(float(inv.sum()), 1e-300)
        capacity = capacity * (1.0 + p.investment_growth_per_day * met)
    return health, capacity


@dataclass(frozen=True)
class SimResult:
    """A run of `days` days (n products, d districts).

    output, stock, household, household_requested, losses : ndarray (days, n) or None
        when products were not recorded; units/day (stock: units at the end of the day).
    met : ndarray (days, d), share of each district's entitlement met.
    output_value, household_value, household_requested_value : ndarray (days,), labour
        hours of the day's output and of household goods delivered/requested.
    labour_present : ndarray (days,), output-weighted share of workers present.
    transport_capacity, transport_used : ndarray (days,), transport units/day.
    max_imbalance : float, largest |Δ stock - balance| over all days and products.
    """

    output: np.ndarray | None
    stock: np.ndarray | None
    household: np.ndarray | None
    household_requested: np.ndarray | None
    losses: np.ndarray | None
    met: np.ndarray
    output_value: np.ndarray
    household_value: np.ndarray
    household_requested_value: np.ndarray
    labour_present: np.ndarray
    transport_capacity: np.ndarray
    transport_used: np.ndarray
    max_imbalance: float
    final: State


def simulate(eco: SimEconomy, p: SimParams, days: int, *, shocks: tuple[Shock, ...] = (),
             policies: tuple[Policy, ...] = (), seed: int = 0, record_products: bool = True,
             allocate: Allocator = fallback_allocate, planner: Planner | None = None,
             progress: Callable[[int], None] | None = None,
             on_day: Callable[[int, State, Flows], None] | None = None) -> SimResult:
    """Run `days` days from the steady state; same arguments and seed, same result."""
    if days < 1:
        raise ValueError(f"Expected days >= 1, got {days}.")
    rng = np.random.default_rng(seed)
    st, t0 = initial_state(eco, p), steady_transport(eco, p)
    rec = _Recorder(eco, days, record_products)
    for day in range(days):
        cond = conditions(day, eco.n, p.absenteeism, eco.essential, shocks, policies)
        if cond.replan and planner is not None:
            cap = st.capacity * st.health * cond.capacity * (1 - cond.absenteeism) / (
                1 - p.absenteeism)
            plan_x, plan_y = planner(eco, cap)
            st = replace(st, plan_output=plan_x, plan_final=plan_y)
        noise = _noise(rng, eco.n, p.demand_noise)
        before = st.stock(eco.rows)
        st, flows = step(eco, p, st, cond, t0, noise, allocate)
        rec.add(day, flows, st.stock(eco.rows), before)
        if on_day is not None:
            on_day(day, st, flows)
        if progress is not None:
            progress(day + 1)
    return rec.result(st)


def _noise(rng: np.random.Generator, n: int, sd: float) -> np.ndarray:
    if sd <= 0:
        return np.ones(n)
    return np.maximum(1.0 + rng.normal(0.0, sd, n), 0.0)


class _Recorder:
    def __init__(self, eco: SimEconomy, days: int, products: bool) -> None:
        self.eco, n = eco, (eco.n if products else 0)
        self.products = products
        self.arrays = {k: np.zeros((days, n)) for k in
                       ("output", "stock", "household", "household_requested", "losses")}
        self.met = np.zeros((days, eco.n_districts))
        self.series = {k: np.zeros(days) for k in
                       ("output_value", "household_value", "household_requested_value",
                        "labour_present", "transport_capacity", "transport_used")}
        self.imbalance = 0.0

    def add(self, day: int, f: Flows, stock: np.ndarray, before: np.ndarray) -> None:
        v = self.eco.value
        err = np.abs(stock - before - f.balance()) / np.maximum(1.0, np.abs(before))
        self.imbalance = max(self.imbalance, float(err.max(initial=0.0)))
        if self.products:
            for k, arr in (("output", f.output), ("stock", stock), ("household", f.household),
                           ("household_requested", f.household_requested),
                           ("losses", f.losses)):
                self.arrays[k][day] = arr
        self.met[day] = f.met
        s = self.series
        s["output_value"][day] = v @ f.output
        s["household_value"][day] = v @ f.household
        s["household_requested_value"][day] = v @ f.household_requested
        s["labour_present"][day] = _weighted(f.labour_present, self.eco.steady_output)
        s["transport_capacity"][day] = f.transport_capacity
        s["transport_used"][day] = f.transport_used

    def result(self, final: State) -> SimResult:
        a = {k: (v if self.products else None) for k, v in self.arrays.items()}
        return SimResult(met=self.met, max_imbalance=self.imbalance, final=final,
                         **a, **self.series)  # type: ignore[arg-type]


def _weighted(values: np.ndarray, weights: np.ndarray) -> float:
    total = float(weights.sum())
    return float(values @ weights) / total if total > 0 else 1.0
