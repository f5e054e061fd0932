"""Read an indicator's filtered series back (shared by the API and `monitor plot`)."""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa

from cybersyn.errors import NotFound
from cybersyn.monitor.tables import monitor_outputs
from cybersyn.store.schema import indicators

Z95 = 1.959964


def indicator_info(conn: sa.Connection, series_id: str) -> dict[str, Any]:
    """The indicator row as a dict; '<id>:<index>' names a triple index of indicator <id>."""
    base, _, index = series_id.partition(":")
    row = conn.execute(sa.select(indicators).where(indicators.c.id == base)).mappings().first()
    if row is None:
        raise NotFound(f"indicator {base!r} not found")
    info = {k: row[k] for k in ("id", "unit_id", "name", "unit_of_measure", "capability",
                                "potentiality", "higher_is_better")}
    if index:
        if index not in ("productivity", "performance") or row["capability"] is None:
            raise NotFound(f"indicator {base!r} has no triple index {index!r}")
        info.update(series_id=series_id, name=f"{info['name']}: {index}",
                    unit_of_measure="ratio")
    else:
        info["series_id"] = series_id
    return info


def series_points(conn: sa.Connection, series_id: str,
                  limit: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(indicator info, the last `limit` points oldest first) with a 95% forecast band."""
    info = indicator_info(conn, series_id)
    o = monitor_outputs.c
    rows = conn.execute(sa.select(monitor_outputs).where(o.series_id == series_id)
                        .order_by(o.observed_at.desc()).limit(limit)).mappings().all()
    points = []
    for r in reversed(rows):
        half = Z95 * math.sqrt(max(r["forecast_var"], 0.0))
        points.append({
            "time": r["observed_at"].isoformat(), "value": r["value"],
            "forecast": r["forecast"], "lower": r["forecast"] - half,
            "upper": r["forecast"] + half, "p_steady": r["p_steady"], "p_step": r["p_step"],
            "p_slope": r["p_slope"], "p_transient": r["p_transient"], "score": r["score"]})
    return info, points
