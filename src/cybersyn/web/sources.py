"""What the Opsroom reads from the other packages, each behind one small function.

Every function answers something sensible (an empty list, None) when its package has not
been installed or migrated yet, so a page never fails because a neighbour is missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cybersyn.store import Store
from cybersyn.store.schema import observations


def has(module: str) -> bool:
    """Is `cybersyn.<module>` importable (e.g. 'monitor.api')?"""
    try:
        return importlib.util.find_spec(f"cybersyn.{module}") is not None
    except ModuleNotFoundError:
        return False


def _table(module: str, name: str) -> sa.Table | None:
    if not has(module):
        return None
    table = getattr(importlib.import_module(f"cybersyn.{module}"), name, None)
    return table if isinstance(table, sa.Table) else None


def open_alerts(store: Store, unit_ids: set[str] | None = None) -> list[dict[str, Any]]:
    """Open alerts as the alerts API shows them (see `alert_json`), most urgent first."""
    table = _table("alerts.tables", "alerts")
    if table is None:
        return []
    query = sa.select(table).where(table.c.status != "resolved")
    if unit_ids is not None:
        query = query.where(sa.or_(table.c.unit_id.in_(unit_ids),
                                   table.c.origin_unit_id.in_(unit_ids)))
    try:
        with store.read() as conn:
            rows = conn.execute(query).mappings().all()
    except sa.exc.DatabaseError:
        return []
    alerts = [alert_json(dict(r)) for r in rows]
    return sorted(alerts, key=lambda a: (a["deadline"] or "9999", a["opened_at"] or ""))


def alert_json(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
    path = out.get("path")
    if isinstance(path, str):
        try:
            out["path"] = json.loads(path)
        except ValueError:
            out["path"] = [p for p in path.split(">") if p]
    out.setdefault("deadline", None)
    out.setdefault("opened_at", None)
    return out


def recent_observations(store: Store, indicator_ids: list[str],
                        limit: int = 120) -> dict[str, list[tuple[str, float]]]:
    """{indicator id: [(ISO time, value)] oldest first}, the last `limit` of each."""
    if not indicator_ids:
        return {}
    out: dict[str, list[tuple[str, float]]] = {i: [] for i in indicator_ids}
    with store.read() as conn:
        rows = conn.execute(
            sa.select(observations.c.indicator_id, observations.c.observed_at,
                      observations.c.value)
            .where(observations.c.indicator_id.in_(indicator_ids))
            .order_by(observations.c.observed_at.desc())
            .limit(limit * len(indicator_ids)))
        for ind, when, value in rows:
            if len(out[ind]) < limit:
                out[ind].append((when.isoformat(), float(value)))
    return {k: v[::-1] for k, v in out.items()}


def latest_observation_at(store: Store) -> str | None:
    with store.read() as conn:
        when = conn.execute(sa.select(sa.func.max(observations.c.observed_at))).scalar()
    return when.isoformat() if isinstance(when, datetime) else None
