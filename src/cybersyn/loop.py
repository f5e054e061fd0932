"""The demo loop: readings each day → store → each package's demo stage; then summaries.

A stage module (`cybersyn.<pkg>.demo_stage`) may define
    on_day(ctx: DemoContext, when: datetime, readings: list[Reading]) -> None
    finish(ctx: DemoContext) -> None
and writes what a newcomer should see into `ctx.summary[<title>]`.
Where `cybersyn.simulate.demo_stage` defines `readings(ctx)`, the simulator feeds the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from cybersyn import plugins, synthetic
from cybersyn.economy.model import Economy
from cybersyn.store import Store
from cybersyn.store.schema import observations

DEMO_START = datetime(1972, 8, 1, tzinfo=UTC)
DEMO_DAYS = 120


@dataclass
class DemoContext:
    store: Store
    economy: Economy
    start: datetime = DEMO_START
    days: int = DEMO_DAYS
    seed: int = 1972
    summary: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


def store_readings(store: Store, readings: list[synthetic.Reading], source: str) -> int:
    """Insert readings not yet stored (same indicator and time = same reading); returns count."""
    if not readings:
        return 0
    now = datetime.now(UTC)
    with store.write() as conn:
        times = {r[1] for r in readings}
        existing = {(r.indicator_id, r.observed_at) for r in conn.execute(
            sa.select(observations.c.indicator_id, observations.c.observed_at)
            .where(observations.c.observed_at.in_(times)))}
        rows = [{"indicator_id": i, "observed_at": w, "value": v, "received_at": now,
                 "source": source} for i, w, v in readings if (i, w) not in existing]
        if rows:
            conn.execute(observations.insert(), rows)
    return len(rows)


def _source(ctx: DemoContext) -> Iterator[tuple[datetime, list[synthetic.Reading]]]:
    for _pkg, mod in plugins.find("demo_stage", ("simulate",)):
        if hasattr(mod, "readings"):
            return mod.readings(ctx)  # type: ignore[no-any-return]
    return synthetic.daily_readings(ctx.economy, ctx.start, ctx.days, ctx.seed)


def run_demo(ctx: DemoContext, progress: Callable[[int], None] | None = None) -> DemoContext:
    """Run the loop over `ctx.days` days; `progress(k)` is called after each day."""
    stages = plugins.find("demo_stage", plugins.DEMO_ORDER)
    stored = 0
    for k, (when, readings) in enumerate(_source(ctx)):
        stored += store_readings(ctx.store, readings, "demo")
        for _pkg, mod in stages:
            if hasattr(mod, "on_day"):
                mod.on_day(ctx, when, readings)
        if progress:
            progress(k + 1)
    ctx.summary.setdefault("Observations", {})["stored"] = stored
    for _pkg, mod in stages:
        if hasattr(mod, "finish"):
            mod.finish(ctx)
    return ctx
