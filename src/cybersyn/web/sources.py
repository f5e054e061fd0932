"""What the Opsroom reads from the other packages, each behind one small function.

Every function answers something sensible (an empty list, None) when its package has not
been installed or migrated yet, so a page never fails because a neighbour is missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cybersyn.auth import Principal
from cybersyn.store import Store
from cybersyn.store.schema import observations


def has(module: str) -> bool:
    """Is `cybersyn.<module>` importable (e.g. 'monitor.api')?"""
    try:
        return importlib.util.find_spec(f"cybersyn.{module}") is not None
    except ModuleNotFoundError:
        return False


def alerts_public() -> bool:
    """An open operations room: everyone sees every alert (as the alerts API does)."""
    return os.environ.get("CYBERSYN_ALERTS_PUBLIC", "0") == "1"


def viewer_of_alerts(who: Principal | None) -> Principal | None:
    """Whom to ask the alerts service as: the principal, the public, or nobody."""
    if who is None and alerts_public():
        return Principal(kind="planner", id="public")
    return who


def open_alerts(store: Store, who: Principal | None) -> list[dict[str, Any]]:
    """Alerts not yet resolved that `who` may see (alerts API objects), most urgent first;
    [] for a visitor unless alerts are public, or when the alerts package is missing."""
    viewer = viewer_of_alerts(who)
    if viewer is None or not has("alerts.service"):
        return []
    service = importlib.import_module("cybersyn.alerts.service")
    try:
        found: list[dict[str, Any]] = []
        for status in ("open", "acknowledged"):
            found += service.list_alerts(store, viewer, status, None, 100_000)
    except sa.exc.DatabaseError:
        return []
    return found


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
