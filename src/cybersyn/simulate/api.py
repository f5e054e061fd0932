"""Simulate API for the Opsroom: bundled scenarios, synchronous runs on the stored economy.

Running a scenario is heavy computation: `POST /simulate/runs` needs a principal of kind
planner, admin or member (a bearer token or the Opsroom's session cookie); 401 without
credentials, 403 for other kinds. Reading scenarios and stored runs stays open (the
CHECO results are published like the plan's figures)."""

from __future__ import annotations

import json
import tomllib
import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from cybersyn.auth import Principal, authenticate
from cybersyn.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from cybersyn.simulate.run import ScenarioRun, run_scenario
from cybersyn.simulate.scenario import bundled_names, parse_scenario, read_scenario_text
from cybersyn.simulate.tables import simulate_runs
from cybersyn.store import audit

router = APIRouter(prefix="/simulate", tags=["simulate"])
RUNNERS = ("planner", "admin", "member")


def runner(request: Request) -> Principal:
    """The caller allowed to run scenarios (401 without credentials, 403 other kinds)."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    with request.app.state.store.read() as conn:
        try:
            who = authenticate(conn, token)
        except Unauthorized as e:
            raise Unauthorized(f"log in to run simulations ({e})") from None
    if who.kind not in RUNNERS:
        raise Forbidden(f"a {who.kind} may not run simulations (planners, admins and "
                        "council members may)")
    return who


class RunRequest(BaseModel):
    """`scenario`: a bundled name (see GET /simulate/scenarios) or a scenario object with
    the TOML fields (dates as "YYYY-MM-DD"). `days` and `seed` override the scenario's."""

    scenario: str | dict[str, Any] = "october-1972"
    days: int | None = Field(default=None, ge=1, le=3650)
    seed: int | None = Field(default=None, ge=0)


@router.get("/scenarios")
def list_scenarios() -> list[dict[str, Any]]:
    out = []
    for name in bundled_names():
        data = tomllib.loads(read_scenario_text(name)[1])
        out.append({"name": name, "title": data.get("title", ""),
                    "description": data.get("description", ""), "days": data.get("days"),
                    "start": str(data.get("start", "")),
                    "variants": [v["name"] for v in data.get("variants", [])]})
    return out


def _scenario_data(req: RunRequest) -> dict[str, Any]:
    if isinstance(req.scenario, str):
        if req.scenario not in bundled_names():
            raise NotFound(f"scenario {req.scenario!r}: not a bundled scenario "
                           f"({', '.join(bundled_names())})")
        data = tomllib.loads(read_scenario_text(req.scenario)[1])
    else:
        data = dict(req.scenario)
    if req.days is not None:
        data["days"] = req.days
    if req.seed is not None:
        data["seed"] = req.seed
    return data


def run_body(run: ScenarioRun) -> dict[str, Any]:
    """Summaries and the national daily series of every variant (JSON-ready)."""
    eco = run.sim
    base = float(eco.value @ eco.steady_output)
    variants = []
    for v in run.variants:
        r = v.result
        variants.append({
            "name": v.name, "summary": v.summary,
            "output_pct": np.round(100 * r.output_value / base, 3).tolist(),
            "entitlements_met_pct": np.round(100 * r.met @ eco.district_weight, 3).tolist(),
            "worst_district_met_pct": np.round(100 * r.met.min(axis=1), 3).tolist()})
    return {"scenario": run.scenario.name, "title": run.scenario.title,
            "dates": [d.date().isoformat() for d in run.dates], "variants": variants}


@router.post("/runs", status_code=201)
def create_run(req: RunRequest, request: Request) -> dict[str, Any]:
    """Run a scenario on the stored economy (synchronously) and keep the result; needs a
    planner, admin or council member."""
    who = runner(request)
    actor = f"{who.kind}:{who.id}"
    store = request.app.state.store
    economy = store.load_economy()
    scenario = parse_scenario(_scenario_data(req), economy, "scenario")
    if economy.io.n * scenario.days * len(scenario.variants) > 5_000_000:
        raise InvalidInput("scenario too large to run synchronously: use `cybersyn simulate "
                           "run` (products × days × variants must be <= 5,000,000)")
    body = run_body(run_scenario(scenario, economy))
    run_id, now = str(uuid.uuid4()), datetime.now(UTC)
    with store.write() as conn:
        conn.execute(simulate_runs.insert().values(
            id=run_id, scenario=scenario.name, created_at=now, actor=actor,
            request=req.model_dump_json(), result=json.dumps(body)))
        audit.append(conn, actor, "simulate.run", run_id, {
            "scenario": scenario.name, "days": scenario.days,
            "variants": [v.name for v in scenario.variants]})
    return {"id": run_id, "created_at": now.isoformat(), **body}


@router.get("/runs")
def list_runs(request: Request, limit: int = 50) -> list[dict[str, Any]]:
    with request.app.state.store.read() as conn:
        rows = conn.execute(sa.select(simulate_runs.c.id, simulate_runs.c.scenario,
                                      simulate_runs.c.created_at)
                            .order_by(simulate_runs.c.created_at.desc())
                            .limit(max(1, min(limit, 500)))).all()
    return [{"id": r.id, "scenario": r.scenario, "created_at": r.created_at.isoformat()}
            for r in rows]


@router.get("/runs/{run_id}")
def get_run(run_id: str, request: Request) -> dict[str, Any]:
    with request.app.state.store.read() as conn:
        row = conn.execute(sa.select(simulate_runs).where(simulate_runs.c.id == run_id)).first()
    if row is None:
        raise NotFound(f"simulation run {run_id!r} not found")
    return {"id": row.id, "created_at": row.created_at.isoformat(), **json.loads(row.result)}
