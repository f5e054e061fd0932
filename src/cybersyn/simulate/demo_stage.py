"""The simulator feeds `cybersyn demo`: daily readings of every indicator from the simulated
economy under the bundled `october-1972` scenario (the historical path: the strike and the
full response), and a summary comparing it with no response."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import numpy as np

from cybersyn.errors import InvalidInput
from cybersyn.simulate.core import Flows, State, simulate
from cybersyn.simulate.districts import supply_allocator
from cybersyn.simulate.indicators import energy_row, indicator_map, measured, true_values
from cybersyn.simulate.run import run_scenario
from cybersyn.simulate.scenario import BUNDLED, Scenario, parse_scenario, sim_economy

SCENARIO = "october-1972"
HISTORICAL = "full response"
TITLE = "Simulation (CHECO)"

Reading = tuple[str, datetime, float]


def demo_scenario(ctx: Any) -> Scenario:
    """The bundled scenario moved to the demo's start, length and seed. On an economy without
    the demo's products, the setup is dropped and only the transport strike is kept."""
    text = (resources.files(BUNDLED) / f"{SCENARIO}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data.update(start=ctx.start.date(), days=ctx.days, seed=ctx.seed)
    try:
        return parse_scenario(data, ctx.economy, SCENARIO)
    except InvalidInput:
        data.pop("setup", None)
        data["shocks"] = [s for s in data["shocks"] if s["kind"] == "transport_cut"]
        data["variants"] = [v for v in data["variants"] if v["name"] == HISTORICAL]
        for v in data["variants"]:
            v["policies"] = [p for p in v["policies"] if not p.get("products")]
        if data["shocks"] and data["shocks"][0]["start"] < ctx.start.date():
            data["shocks"] = []
        return parse_scenario(data, ctx.economy, SCENARIO)


def readings(ctx: Any) -> Iterator[tuple[datetime, list[Reading]]]:
    """Yield (day, [(indicator id, day, value)]) for ctx.days days from ctx.start."""
    scenario = demo_scenario(ctx)
    eco = sim_economy(scenario, ctx.economy)
    variant = next((v for v in scenario.variants if v.name == HISTORICAL),
                   scenario.variants[-1])
    rng = np.random.default_rng(ctx.seed)
    imap = indicator_map(ctx.economy, rng)
    erow = energy_row(ctx.economy, eco)
    values = np.zeros((ctx.days, len(imap.ids)))

    def record(day: int, st: State, f: Flows) -> None:
        values[day] = true_values(imap, eco, scenario.params, erow, st, f)

    result = simulate(eco, scenario.params, ctx.days, shocks=scenario.shocks,
                      policies=variant.policies, seed=ctx.seed, allocate=supply_allocator(),
                      on_day=record)
    ctx.state["simulate"] = {"scenario": scenario, "variant": variant.name,
                             "result": result}
    drift = np.zeros(len(imap.ids))
    for d in range(ctx.days):
        when = ctx.start + timedelta(days=d)
        noisy, drift = measured(values[d], drift, rng)
        yield when, [(i, when, round(float(v), 3))
                     for i, v in zip(imap.ids, noisy, strict=True)]


def finish(ctx: Any) -> None:
    """Summary: the strike's impact with the response the demo ran, and without it."""
    scenario = ctx.state.get("simulate", {}).get("scenario") or demo_scenario(ctx)
    run = run_scenario(scenario, ctx.economy)
    by_name = {v.name: v.summary for v in run.variants}
    hist = by_name.get(HISTORICAL) or run.variants[-1].summary
    body: dict[str, Any] = {
        "scenario": f"{scenario.name}: {len(scenario.shocks)} shocks, "
                    f"demo readings follow '{HISTORICAL}'",
    }
    for key, label in (("output_lost_pct_of_horizon", "output lost % of run"),
                       ("entitlements_met_pct_during_shock", "entitlements met % in strike"),
                       ("worst_district_met_pct", "worst district met %"),
                       ("days_to_recover", "days to recover after strike")):
        body[label] = {name: s.get(key) for name, s in by_name.items()}
    none = by_name.get("no response")
    if none is not None and none["output_lost_hours"]:
        saved = 1 - float(hist["output_lost_hours"] or 0) / float(none["output_lost_hours"])
        body["output loss avoided by the response"] = f"{100 * saved:.0f}%"
    ctx.summary[TITLE] = body
