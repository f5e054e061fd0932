"""The Simulate page: pick a bundled scenario, run it (the page POSTs to the simulate API,
`POST /api/v1/simulate/runs`), and compare stored runs in charts (national output, the
share of entitlements met, the worst district) and in a table of each variant's figures."""

from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cybersyn.store import Store
from cybersyn.web import sources
from cybersyn.web.pages import render, script_json

router = APIRouter(include_in_schema=False)
RUNS_LISTED = 30
RUNS_CHECKED = 2


@router.get("/simulate", response_class=HTMLResponse)
def simulate_page(request: Request) -> HTMLResponse:
    available = sources.has("simulate.api")
    scenarios = list_scenarios() if available else []
    runs = list_runs(request.app.state.store) if available else []
    return render(request, "simulate.html", available=available, scenarios=scenarios,
                  runs=runs, checked=[r["id"] for r in runs[:RUNS_CHECKED]],
                  runs_json=script_json(runs))


def list_scenarios() -> list[dict[str, Any]]:
    """The bundled scenarios as the simulate API lists them."""
    api = importlib.import_module("cybersyn.simulate.api")
    out: list[dict[str, Any]] = api.list_scenarios()
    return out


def list_runs(store: Store, limit: int = RUNS_LISTED) -> list[dict[str, Any]]:
    """Stored runs, newest first: id, scenario, created_at ([] without the table)."""
    runs = importlib.import_module("cybersyn.simulate.tables").simulate_runs
    try:
        with store.read() as conn:
            rows = conn.execute(sa.select(runs.c.id, runs.c.scenario, runs.c.created_at)
                                .order_by(runs.c.created_at.desc()).limit(limit)).all()
    except sa.exc.DatabaseError:
        return []
    return [{"id": r.id, "scenario": r.scenario, "created_at": r.created_at.isoformat()}
            for r in rows]
