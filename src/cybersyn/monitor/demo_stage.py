"""Demo stage: every indicator (and triple index) of chile-1972 through the filter, daily."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from cybersyn.monitor.service import Tracker, insert_outputs, insert_signals
from cybersyn.signals import Signal

TITLE = "Monitor (Cyberstride)"


def _tracker(ctx: Any) -> Tracker:
    tr = ctx.state.get("monitor_tracker")
    if tr is None:
        tr = Tracker(ctx.economy.indicators)
        with ctx.store.read() as conn:
            tr.load_state(conn)
        ctx.state["monitor_tracker"] = tr
        ctx.state["monitor_stats"] = {"updates": 0, "signals": Counter(), "strike": Counter(),
                                      "triple_signals": 0}
    return tr  # type: ignore[no-any-return]


def on_day(ctx: Any, when: datetime, readings: list[tuple[str, datetime, float]]) -> None:
    """Advance the filter one day, persist outputs and signals, hand today's signals on."""
    tr = _tracker(ctx)
    y = tr.values(readings)
    out, dets, prev_t = tr.step(y, when)
    found = tr.signals(dets, prev_t, when)
    base = set(tr.ids[: len(tr.indicators)])
    today = [s for s in found if s.indicator_id in base]
    with ctx.store.write() as conn:
        insert_outputs(conn, tr.output_rows(y, out, when))
        insert_signals(conn, found)
    ctx.state["signals_today"] = today
    ctx.state["triple_signals_today"] = [s for s in found if s.indicator_id not in base]
    ctx.state["monitor_stats"]["last"] = when
    _count(ctx.state["monitor_stats"], y, today, len(found) - len(today))


def _count(stats: dict[str, Any], y: Any, today: list[Signal], triple: int) -> None:
    stats["updates"] += int((y == y).sum())
    stats["triple_signals"] += triple
    for s in today:
        direction = "down" if s.direction < 0 else "up"
        stats["signals"][f"{s.kind} {direction}"] += 1
        if s.start.month == 10 and 8 <= s.start.day <= 11 and s.start.year == 1972:
            stats["strike"][f"{s.kind} {direction}"] += 1


def finish(ctx: Any) -> None:
    """Persist the filter state and summarise."""
    tr = ctx.state.get("monitor_tracker")
    if tr is None:
        return
    stats = ctx.state["monitor_stats"]
    with ctx.store.write() as conn:
        tr.save_state(conn, stats.get("last", ctx.start))
    ctx.summary[TITLE] = {
        "series filtered": len(tr.ids),
        "of which triple-index series": len(tr.ids) - len(tr.indicators),
        "filter updates": stats["updates"],
        "signals by kind": dict(sorted(stats["signals"].items())),
        "signals starting at the strike (1972-10-09 ±1 day)": dict(sorted(stats["strike"].items())),
        "triple-index signals": stats["triple_signals"],
    }
