"""The alerts stage of `cybersyn demo`: each simulated day, raise alerts from the monitor's
signals (`ctx.state["signals_today"]`), let units act on some of them, then escalate with
the clock set to that day.

Units act by a seeded rule (deterministic for a seed): each day, the holder of an open
alert acknowledges it with a probability that grows with its level (a plant is busiest,
the nation is left to the people running the demo: alerts that climb that far stay open on
the Opsroom's algedonic board for the planning office); an acknowledged alert is resolved
`RESOLVE_AFTER` days later.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from cybersyn.alerts.service import acknowledge, escalate, raise_from_signals, resolve
from cybersyn.alerts.tables import alert_events, alerts
from cybersyn.auth import Principal
from cybersyn.store import audit

ACK_CHANCE = {"plant": 0.3, "enterprise": 0.4, "sector": 0.5, "nation": 0.0}
RESOLVE_AFTER = timedelta(days=3)
NOTES = {"plant": "shift supervisor checking the line", "enterprise": "council reassigning "
         "trucks and crews", "sector": "sector committee moving stock between enterprises",
         "nation": "planning office intervening"}


def on_day(ctx: Any, when: datetime, readings: list[Any]) -> None:
    store = ctx.store
    raise_from_signals(store, ctx.state.get("signals_today", []), when)
    _units_act(ctx, when)
    escalate(store, when)


def _units_act(ctx: Any, when: datetime) -> None:
    with ctx.store.read() as conn:
        live = conn.execute(sa.select(alerts.c.id, alerts.c.unit_id, alerts.c.level,
                                      alerts.c.status, alerts.c.updated_at)
                            .where(alerts.c.status != "resolved")).all()
    for a in live:
        who = Principal(kind="operator", id=f"demo:{a.unit_id}", units=frozenset({a.unit_id}))
        if a.status == "acknowledged" and when - a.updated_at >= RESOLVE_AFTER:
            resolve(ctx.store, a.id, who, "back to normal", when)
        elif a.status == "open" and _coin(ctx.seed, a.id, when) < ACK_CHANCE.get(a.level, 0.4):
            acknowledge(ctx.store, a.id, who, NOTES.get(a.level, "acting"), when)


def _coin(seed: int, alert_id: int, when: datetime) -> float:
    return random.Random(f"{seed}:{alert_id}:{when.date().isoformat()}").random()


def finish(ctx: Any) -> None:
    with ctx.store.read() as conn:
        actions = Counter(dict(conn.execute(
            sa.select(alert_events.c.action, sa.func.count())
            .group_by(alert_events.c.action)).all()))
        levels = Counter(dict(conn.execute(
            sa.select(alerts.c.level, sa.func.count()).where(alerts.c.status == "open")
            .group_by(alerts.c.level)).all()))
        climbed = _escalations_by_level(conn)
        intact = not audit.verify(conn)
    ctx.summary["Algedonic alerts"] = {
        "raised": actions["raised"], "signals aggregated into open alerts":
        actions["aggregated"], "acknowledged": actions["acknowledged"],
        "resolved": actions["resolved"], "escalations (to level)": dict(climbed),
        "still open at nation level": levels.get("nation", 0),
        "still open (all levels)": sum(levels.values()), "audit log intact": intact}


def _escalations_by_level(conn: sa.Connection) -> Counter[str]:
    from cybersyn.store.schema import units

    rows = conn.execute(sa.select(units.c.level, sa.func.count())
                        .select_from(alert_events.join(units,
                                                       units.c.id == alert_events.c.to_unit))
                        .where(alert_events.c.action == "escalated")
                        .group_by(units.c.level)).all()
    return Counter(dict(rows))
