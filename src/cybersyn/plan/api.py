"""Plan API under /api/v1: versions, solving (planner/admin token), explanations, labour
values, diffs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from cybersyn.auth import authenticate
from cybersyn.errors import Forbidden, InvalidInput

router = APIRouter(tags=["plan"])
PLANNERS = ("planner", "admin")


class SolveRequest(BaseModel):
    """targets: product code -> net output wanted (others keep their final demand)."""

    objective: str = Field("kantorovich", pattern="^(kantorovich|harmony)$")
    periods: int = Field(1, ge=1, le=50)
    labour_hours: float | None = Field(None, gt=0)
    targets: dict[str, float] = Field(default_factory=dict)
    label: str = Field("", max_length=200)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def _planner(request: Request) -> str:
    with request.app.state.store.read() as conn:
        who = authenticate(conn, _bearer(request))
    if who.kind not in PLANNERS:
        raise Forbidden(f"only a planner or admin may solve plans (you are {who.kind})")
    return f"{who.kind}:{who.id}"


def _solve(store: Any, body: SolveRequest, actor: str) -> dict[str, Any]:
    from cybersyn.plan.multiperiod import MultiPeriodParams, multi_period_plan
    from cybersyn.plan.shell import problem_from_economy
    from cybersyn.plan.versions import get_version, save_version

    eco = store.load_economy()
    t = eco.io.final_demand * 1.12
    for code, value in body.targets.items():
        if code not in eco.io.index:
            raise InvalidInput(f"targets.{code}: unknown product",
                               errors=[{"field": f"targets.{code}", "reason": "unknown"}])
        if not value >= 0 or value == float("inf"):
            raise InvalidInput(f"targets.{code}: must be a finite number >= 0")
        t[eco.io.index[code]] = value
    problem = problem_from_economy(eco, t, labour_available=body.labour_hours)
    if body.periods > 1:
        if body.objective != "kantorovich":
            raise InvalidInput("multi-period plans use the kantorovich objective")
        result: Any = multi_period_plan(problem, MultiPeriodParams(periods=body.periods))
    else:
        from cybersyn.plan.harmony import harmony_plan
        from cybersyn.plan.kantorovich import kantorovich_plan

        result = (kantorovich_plan(problem) if body.objective == "kantorovich"
                  else harmony_plan(problem))
    with store.write() as conn:
        vid = save_version(conn, result, label=body.label or f"{body.objective} plan",
                           actor=actor)
        return get_version(conn, vid)


@router.post("/plans", status_code=201)
async def solve_plan(request: Request, body: SolveRequest) -> dict[str, Any]:
    """Solve a plan on the loaded economy and store it as a draft version."""
    actor = await run_in_threadpool(_planner, request)
    return await run_in_threadpool(_solve, request.app.state.store, body, actor)


@router.get("/plans")
def list_plans(request: Request) -> list[dict[str, Any]]:
    """Plan versions, newest first."""
    from cybersyn.plan.versions import list_versions

    with request.app.state.store.read() as conn:
        return list_versions(conn)


@router.get("/plans/labour-values")
def labour_values_api(request: Request) -> dict[str, float]:
    """Hours of labour embodied in one unit of each product."""
    from cybersyn.plan.leontief import labour_values

    io = request.app.state.store.load_economy().io
    v = labour_values(io.A, io.labour)
    return dict(zip(io.product_codes, map(float, v), strict=True))


@router.get("/plans/diff")
def diff_plans(request: Request, a: str, b: str) -> dict[str, Any]:
    """Differences between versions `a` and `b`."""
    from cybersyn.plan.explain import diff
    from cybersyn.plan.versions import get_version

    with request.app.state.store.read() as conn:
        return diff(get_version(conn, a), get_version(conn, b))


@router.get("/plans/{version_id}")
def get_plan(request: Request, version_id: str) -> dict[str, Any]:
    """One version with its targets, net and gross outputs per product."""
    from cybersyn.plan.versions import get_version

    with request.app.state.store.read() as conn:
        return get_version(conn, version_id)


@router.get("/plans/{version_id}/explain")
def explain_plan(request: Request, version_id: str) -> dict[str, Any]:
    """Binding limits, shadow prices and unmet targets in words."""
    from cybersyn.plan.versions import get_version

    with request.app.state.store.read() as conn:
        out: dict[str, Any] = get_version(conn, version_id)["explanation"]
        return out
