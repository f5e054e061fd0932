"""Running scenarios: `run_scenario` (every variant of one scenario) and the figures a planner
reads first (`variant_summary`): output lost, shortage, worst district, recovery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from cybersyn.economy.model import Economy
from cybersyn.simulate.core import SimResult, simulate
from cybersyn.simulate.districts import supply_allocator
from cybersyn.simulate.model import SimEconomy
from cybersyn.simulate.planner import plan_solver
from cybersyn.simulate.scenario import Scenario, sim_economy

RECOVERED = 0.99


@dataclass(frozen=True)
class VariantRun:
    name: str
    result: SimResult
    summary: dict[str, float | int | None]


@dataclass(frozen=True)
class ScenarioRun:
    """All variants of one scenario on one economy, with the labels to report them."""

    scenario: Scenario
    economy: Economy
    sim: SimEconomy
    variants: tuple[VariantRun, ...]

    @property
    def dates(self) -> list[datetime]:
        return self.scenario.dates()


def run_scenario(scenario: Scenario, economy: Economy,
                 progress: Callable[[int], None] | None = None) -> ScenarioRun:
    """Simulate every variant; `progress(k)` gets the days done so far over all variants."""
    eco = sim_economy(scenario, economy)
    allocate, planner = supply_allocator(), plan_solver()
    runs = []
    for k, variant in enumerate(scenario.variants):
        res = simulate(eco, scenario.params, scenario.days, shocks=scenario.shocks,
                       policies=variant.policies, seed=scenario.seed, allocate=allocate,
                       planner=planner, progress=_offset(progress, k * scenario.days))
        runs.append(VariantRun(variant.name, res, variant_summary(scenario, eco, res)))
    return ScenarioRun(scenario, economy, eco, tuple(runs))


def _offset(progress: Callable[[int], None] | None, offset: int
            ) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda d: progress(offset + d)


def shock_window(scenario: Scenario) -> tuple[int, int]:
    """First day of the first shock and the day after the last shock ends (or (0, 0))."""
    if not scenario.shocks:
        return 0, 0
    return (min(s.start for s in scenario.shocks),
            min(scenario.days, max(s.start + s.days for s in scenario.shocks)))


def variant_summary(scenario: Scenario, eco: SimEconomy, r: SimResult
                    ) -> dict[str, float | int | None]:
    """Headline figures; labour hours are total labour values (model.labour_values)."""
    base_out = float(eco.value @ eco.steady_output)
    first, end = shock_window(scenario)
    lost = np.maximum(base_out - r.output_value, 0.0)
    unmet = np.maximum(r.household_requested_value - r.household_value, 0.0)
    met = r.household_value / np.maximum(r.household_requested_value, 1e-300)
    w = eco.district_weight
    district_met = r.met @ w
    return {
        "output_lost_hours": round(float(lost.sum()), 1),
        "output_lost_pct_of_horizon": round(100 * float(lost.sum()) / (base_out * r.met.shape[0]),
                                            3),
        "lowest_output_pct": round(100 * float(r.output_value.min()) / base_out, 2),
        "household_unmet_hours": round(float(unmet.sum()), 1),
        "lowest_household_met_pct": round(100 * float(met.min()), 2),
        "entitlements_met_pct_during_shock": _mean_pct(district_met[first:end]),
        "worst_district_met_pct": round(100 * float(r.met.min()), 2),
        "goods_spoiled_hours": round(float(eco.value @ r.losses.sum(axis=0)), 1)
        if r.losses is not None else None,
        "days_to_recover": _recovery(r.output_value, base_out, end),
        "max_stock_flow_imbalance": float(r.max_imbalance),
    }


def _mean_pct(x: np.ndarray) -> float | None:
    return round(100 * float(x.mean()), 2) if x.size else None


def _recovery(output: np.ndarray, base: float, end: int) -> int | None:
    """Days after the shocks end until output is back to 99% of the steady state."""
    after = np.flatnonzero(output[end:] >= RECOVERED * base)
    return int(after[0]) if after.size else None
