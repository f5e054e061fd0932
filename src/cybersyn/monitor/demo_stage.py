"""Demo stage: every indicator (and triple index) of chile-1972 through the filter, daily."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import numpy as np

from cybersyn.monitor.service import (
    OutputBuffer,
    Tracker,
    delete_from,
    insert_signals,
    to_days,
)
from cybersyn.signals import Signal

TITLE = "Monitor (Cyberstride)"


FLUSH_ROWS = 50_000
"""Outputs are written in batches of about this many rows (and at `finish`), each batch in
one transaction with the filter state and the signals so far: a checkpoint."""


def _tracker(ctx: Any, when: datetime) -> Tracker:
    tr = ctx.state.get("monitor_tracker")
    if tr is None:
        tr = Tracker(ctx.economy.indicators)
        with ctx.store.read() as conn:
            tr.load_state(conn)
        if np.nanmax(tr.state["t_last"], initial=-np.inf) >= to_days(when):
            tr = _replay(ctx, when)
        ctx.state["monitor_tracker"] = tr
        ctx.state["monitor_buffer"] = OutputBuffer(tr.ids)
        ctx.state["monitor_pending"] = []
        ctx.state["monitor_stats"] = {"updates": 0, "signals": Counter(), "strike": Counter(),
                                      "triple_signals": 0}
    return tr  # type: ignore[no-any-return]


def _replay(ctx: Any, when: datetime) -> Tracker:
    """The stored state is already past `when` (the demo runs again over the same days):
    start the filter afresh and forget what it wrote from `when` on."""
    tr = Tracker(ctx.economy.indicators)
    with ctx.store.write() as conn:
        delete_from(conn, tr.ids, when)
    return tr


def on_day(ctx: Any, when: datetime, readings: list[tuple[str, datetime, float]]) -> None:
    """Advance the filter one day, buffer outputs and signals, hand today's signals on."""
    tr = _tracker(ctx, when)
    y = tr.values(readings)
    out, dets, prev_t = tr.step(y, when)
    found = tr.signals(dets, prev_t, when)
    base = set(tr.ids[: len(tr.indicators)])
    today = [s for s in found if s.indicator_id in base]
    buf: OutputBuffer = ctx.state["monitor_buffer"]
    buf.add(when, *tr.output_block(y, out))
    ctx.state["monitor_pending"] += found
    ctx.state["signals_today"] = today
    ctx.state["triple_signals_today"] = [s for s in found if s.indicator_id not in base]
    ctx.state["monitor_stats"]["last"] = when
    _count(ctx.state["monitor_stats"], y, today, len(found) - len(today))
    if buf.rows >= FLUSH_ROWS:
        _checkpoint(ctx, tr, when)


def _checkpoint(ctx: Any, tr: Tracker, when: datetime) -> None:
    """Outputs, signals and filter state in one transaction."""
    with ctx.store.write() as conn:
        ctx.state["monitor_buffer"].flush(conn)
        insert_signals(conn, ctx.state["monitor_pending"])
        tr.save_state(conn, when)
    ctx.state["monitor_pending"] = []


def _count(stats: dict[str, Any], y: Any, today: list[Signal], triple: int) -> None:
    stats["updates"] += int((y == y).sum())
    stats["triple_signals"] += triple
    for s in today:
        direction = "down" if s.direction < 0 else "up"
        stats["signals"][f"{s.kind} {direction}"] += 1
        if s.start.month == 10 and 8 <= s.start.day <= 11 and s.start.year == 1972:
            stats["strike"][f"{s.kind} {direction}"] += 1


def finish(ctx: Any) -> None:
    """Write what is buffered, persist the filter state and summarise."""
    tr = ctx.state.get("monitor_tracker")
    if tr is None:
        return
    stats = ctx.state["monitor_stats"]
    _checkpoint(ctx, tr, stats.get("last", ctx.start))
    ctx.summary[TITLE] = {
        "series filtered": len(tr.ids),
        "of which triple-index series": len(tr.ids) - len(tr.indicators),
        "filter updates": stats["updates"],
        "signals by kind": dict(sorted(stats["signals"].items())),
        "signals starting at the strike (1972-10-09 ±1 day)": dict(sorted(stats["strike"].items())),
        "triple-index signals": stats["triple_signals"],
    }
