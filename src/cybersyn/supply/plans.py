"""Stored route plans (for the API, the Opsroom and plots)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from cybersyn.errors import NotFound
from cybersyn.supply import tables as t
from cybersyn.supply.routing import Routes


def save_plan(conn: sa.Connection, name: str, ids: list[str], xy: np.ndarray,
              demand_kg: np.ndarray, routes: Routes, trucks_available: int,
              distance_km: float, at: datetime) -> int:
    """Store a plan; ids/xy/demand_kg have the depot first (shape (n+1,), (n+1, 2))."""
    plan = {"locations": [{"id": i, "x_km": round(float(x), 3), "y_km": round(float(y), 3),
                           "demand_kg": int(d)} for i, (x, y), d in zip(ids, xy, demand_kg,
                                                                       strict=True)],
            "routes": [[ids[k] for k in r] for r in routes.routes],
            "loads_kg": list(routes.loads), "unserved": [ids[k] for k in routes.unserved],
            "solver": routes.solver}
    return int(conn.execute(t.route_plans.insert().values(
        name=name, created_at=at, depot_id=ids[0], trucks_available=trucks_available,
        trucks_used=routes.trucks_used, points_served=len(ids) - 1 - len(routes.unserved),
        points_unserved=len(routes.unserved), distance_km=round(distance_km, 2),
        plan=json.dumps(plan)).returning(t.route_plans.c.id)).scalar_one())


def _row(r: Any, full: bool) -> dict[str, Any]:
    out = {"id": r.id, "name": r.name, "created_at": r.created_at.isoformat(),
           "depot": r.depot_id, "trucks_available": r.trucks_available,
           "trucks_used": r.trucks_used, "points_served": r.points_served,
           "points_unserved": r.points_unserved, "distance_km": r.distance_km}
    if full:
        out.update(json.loads(r.plan))
    return out


def list_plans(conn: sa.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(t.route_plans).order_by(t.route_plans.c.id.desc()))
    return [_row(r, False) for r in rows]


def get_plan(conn: sa.Connection, plan_id: int) -> dict[str, Any]:
    r = conn.execute(sa.select(t.route_plans).where(t.route_plans.c.id == plan_id)).first()
    if r is None:
        raise NotFound(f"route plan {plan_id} does not exist")
    return _row(r, True)


def plan_routes(plan: dict[str, Any]) -> tuple[np.ndarray, Routes, list[str]]:
    """(xy (n+1, 2), Routes with location indices, ids) back from a stored plan."""
    ids = [loc["id"] for loc in plan["locations"]]
    index = {i: k for k, i in enumerate(ids)}
    xy = np.array([[loc["x_km"], loc["y_km"]] for loc in plan["locations"]])
    routes = Routes(tuple(tuple(index[i] for i in r) for r in plan["routes"]), 0,
                    tuple(index[i] for i in plan["unserved"]), True, plan["solver"],
                    tuple(plan["loads_kg"]))
    return xy, routes, ids
