"""The loop while serving: stored observations → monitor → alerts → escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from cybersyn.alerts.tables import alerts
from cybersyn.economy import Economy
from cybersyn.live import LiveLoop, data_clock
from cybersyn.loop import store_readings
from cybersyn.monitor.tables import monitor_outputs
from cybersyn.store import Store
from cybersyn.synthetic import daily_readings

START = datetime(1972, 8, 1, tzinfo=UTC)


def _store_days(store: Store, economy: Economy, days: int, step_from: int | None,
                target: str) -> None:
    for k, (_when, readings) in enumerate(daily_readings(economy, START, days, seed=3)):
        if step_from is not None and k >= step_from:
            readings = [(i, w, v * 0.3 if i == target else v) for i, w, v in readings]
        store_readings(store, readings, "test")


def test_tick_filters_new_times_raises_alerts_and_is_idempotent(demo_store: Store,
                                                                demo: Economy) -> None:
    target = demo.indicators[0].id
    _store_days(demo_store, demo, 40, step_from=30, target=target)
    live = LiveLoop(demo_store, data_clock(demo_store))
    first = live.tick()
    assert first["times"] == 31  # at most max_times per tick
    second = live.tick()
    assert second["times"] == 9
    assert live.tick()["times"] == 0  # nothing new: nothing filtered again
    with demo_store.read() as conn:
        times = conn.execute(sa.select(sa.func.count(sa.distinct(
            monitor_outputs.c.observed_at)))).scalar_one()
        raised = conn.execute(sa.select(alerts.c.indicator_id)).scalars().all()
    assert times == 40
    assert target in raised  # the 70% drop was seen and became an alert


def test_new_observations_after_a_restart_continue_the_filter(demo_store: Store,
                                                              demo: Economy) -> None:
    _store_days(demo_store, demo, 12, step_from=None, target="")
    LiveLoop(demo_store, data_clock(demo_store)).tick()
    more = [(i.id, START + timedelta(days=12), 1.0) for i in demo.indicators[:5]]
    store_readings(demo_store, more, "test")
    done = LiveLoop(demo_store, data_clock(demo_store)).tick()  # a new process
    assert done["times"] == 1
    with demo_store.read() as conn:
        filtered = set(conn.execute(sa.select(monitor_outputs.c.series_id).where(
            monitor_outputs.c.observed_at == START + timedelta(days=12))).scalars())
    # the five indicators, plus the triple index of those that have one
    assert {i.split(":")[0] for i in filtered} == {i for i, _, _ in more}
