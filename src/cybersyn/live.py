"""The loop while serving: observations that arrive (HTTP, CSV, MQTT) go through the
monitor, its signals become alerts, and unheeded alerts escalate.

`LiveLoop.tick()` is called by the server every few seconds (and can be called by cron or
tests): it filters every observation time newer than the monitor's state, in order, raises
alerts from the signals, and runs escalation with the injected clock. A tick that finds
nothing new only escalates, so it is safe to run as often as wanted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from cybersyn import plugins
from cybersyn.loop import DemoContext
from cybersyn.store import Store
from cybersyn.store.schema import observations

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


class LiveLoop:
    """Monitor → alerts → escalation over what the store receives; `clock` gives 'now'."""

    def __init__(self, store: Store, clock: Clock = wall_clock, max_times: int = 31) -> None:
        self.store, self.clock, self.max_times = store, clock, max_times
        self._ctx: DemoContext | None = None
        self._last: datetime | None = None
        self._last_known = False
        self._stages = dict(plugins.find("demo_stage", ("monitor",)))
        self._alerts = dict(plugins.find("service", ("alerts",)))

    def _context(self) -> DemoContext:
        if self._ctx is None:
            self._ctx = DemoContext(self.store, self.store.load_economy())
        return self._ctx

    def _last_filtered(self, ctx: DemoContext) -> datetime | None:
        """The newest time the monitor has filtered: read from its stored state once, then
        kept as this loop advances it."""
        if self._last_known:
            return self._last
        from cybersyn.monitor.service import Tracker, from_days

        tracker = Tracker(ctx.economy.indicators)
        with self.store.read() as conn:
            tracker.load_state(conn)
        last = np.nanmax(tracker.state["t_last"], initial=-np.inf)
        self._last = from_days(float(last)) if np.isfinite(last) else None
        self._last_known = True
        return self._last

    def _new_times(self, after: datetime | None) -> list[datetime]:
        q = sa.select(observations.c.observed_at).distinct().order_by(observations.c.observed_at)
        if after is not None:
            q = q.where(observations.c.observed_at > after)
        with self.store.read() as conn:
            return list(conn.execute(q.limit(self.max_times)).scalars())

    def _readings(self, when: datetime) -> list[tuple[str, datetime, float]]:
        q = sa.select(observations.c.indicator_id, observations.c.value).where(
            observations.c.observed_at == when)
        with self.store.read() as conn:
            return [(i, when, float(v)) for i, v in conn.execute(q)]

    def tick(self) -> dict[str, Any]:
        """Filter what is new, raise alerts, escalate; returns what it did."""
        done: dict[str, Any] = {"times": 0, "signals": 0, "escalated": 0}
        monitor, alerts = self._stages.get("monitor"), self._alerts.get("alerts")
        if monitor is not None:
            ctx = self._context()
            for when in self._new_times(self._last_filtered(ctx)):
                monitor.on_day(ctx, when, self._readings(when))
                signals = ctx.state.get("signals_today", [])
                if alerts is not None and signals:
                    alerts.raise_from_signals(self.store, signals, when)
                done["times"] += 1
                self._last = when
                done["signals"] += len(signals)
            if done["times"]:
                monitor.finish(ctx)
        if alerts is not None:
            done["escalated"] = len(alerts.escalate(self.store, self.clock()))
        return done


def data_clock(store: Store) -> Clock:
    """'Now' = the newest observation time: for a replayed or simulated economy (the demo),
    where the wall clock is decades after the data."""
    def now() -> datetime:
        with store.read() as conn:
            latest = conn.execute(sa.select(sa.func.max(observations.c.observed_at))).scalar()
        return latest or wall_clock()
    return now
