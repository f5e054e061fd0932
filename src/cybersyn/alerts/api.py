"""Alerts API: list, inject, acknowledge, resolve, history, and a server-sent event stream.

Reading needs a principal (Bearer token, `?token=`, or the Opsroom's session cookie), unless
the server sets CYBERSYN_ALERTS_PUBLIC=1 (an open operations room: everyone sees all)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from cybersyn.alerts import service
from cybersyn.alerts.access import may_see, require_inject
from cybersyn.alerts.escalation import EscalationParams
from cybersyn.auth import Principal
from cybersyn.errors import InvalidInput, Unauthorized
from cybersyn.intake import http
from cybersyn.intake.catalog import catalog
from cybersyn.signals import KINDS, Signal

router = APIRouter(tags=["alerts"])
PUBLIC = Principal(kind="planner", id="public")


class Inject(BaseModel):
    indicator: str = Field(max_length=160)
    kind: str = Field(max_length=16, description=f"one of {', '.join(KINDS)}")
    probability: float = Field(ge=0.0, le=1.0)
    start: datetime


class Note(BaseModel):
    note: str = Field(default="", max_length=4000)


def _viewer(request: Request) -> Principal:
    try:
        return http.principal(request)
    except Unauthorized:
        if os.environ.get("CYBERSYN_ALERTS_PUBLIC", "0") == "1":
            return PUBLIC
        raise


def _params(request: Request) -> EscalationParams:
    return getattr(request.app.state, "escalation_params", None) or EscalationParams()


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/alerts")
def list_alerts(request: Request,
                status: Annotated[str | None, Query(max_length=16)] = None,
                unit: Annotated[str | None, Query(max_length=128)] = None,
                limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
    """Alerts the caller may see, most urgent first; `unit`: those that arose under it."""
    return service.list_alerts(request.app.state.store, _viewer(request), status, unit, limit)


@router.post("/alerts", status_code=201)
def inject(request: Request, body: Inject) -> dict[str, Any]:
    """Raise (or aggregate into) an alert from a signal; planners, admins, operators."""
    store = request.app.state.store
    who = http.principal(request)
    if body.kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}",
                           errors=[{"field": "kind", "reason": "unknown kind"}])
    if body.start.tzinfo is None:
        raise InvalidInput("start has no UTC offset", errors=[
            {"field": "start", "reason": "add 'Z' or '+00:00'"}])
    cat = catalog(store)
    unit = cat.indicator_unit.get(body.indicator)
    if unit is None:
        raise InvalidInput(f"unknown indicator {body.indicator!r}", errors=[
            {"field": "indicator", "reason": "unknown indicator"}])
    require_inject(who, unit, cat)
    now = _now()
    signal = Signal(body.indicator, body.kind, body.probability, body.start, now,
                    body.probability)
    return service.raise_from_signals(store, [signal], now, _params(request),
                                      actor=f"{who.kind}:{who.id}")[0]


@router.get("/alerts/stream")
async def stream(request: Request,
                 max_events: Annotated[int | None, Query(ge=1, le=100_000)] = None,
                 ) -> StreamingResponse:
    """Server-sent events, one per alert change: `event: alert`, `id:` the change's id,
    data the alert as it is now plus `action` and `event_id`. Resumes after Last-Event-ID."""
    who = await run_in_threadpool(_viewer, request)
    store = request.app.state.store
    last = request.headers.get("last-event-id", "")
    after = int(last) if last.isdigit() else await run_in_threadpool(service.last_event_id,
                                                                     store)
    poll = float(getattr(request.app.state, "alerts_poll_s", 0.5))
    return StreamingResponse(_events(request, who, after, poll, max_events),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _events(request: Request, who: Principal, after: int, poll: float,
                  max_events: int | None) -> AsyncIterator[str]:
    store, sent, idle = request.app.state.store, 0, 0.0
    yield ": connected\n\n"
    while max_events is None or sent < max_events:
        batch = await run_in_threadpool(service.events_after, store, after)
        cat = await run_in_threadpool(catalog, store) if batch else None
        for event, alert in batch:
            after = event["id"]
            if cat is not None and may_see(who, alert, cat):
                data = json.dumps({**alert, "action": event["action"], "event_id": after})
                yield f"id: {after}\nevent: alert\ndata: {data}\n\n"
                sent += 1
                if max_events is not None and sent >= max_events:
                    return
        if not batch:
            if await request.is_disconnected():
                return
            await asyncio.sleep(poll)
            idle += poll
            if idle >= 15:
                idle = 0.0
                yield ": keep-alive\n\n"


@router.get("/alerts/{alert_id}")
def get_alert(request: Request, alert_id: int) -> dict[str, Any]:
    return service.get_alert(request.app.state.store, alert_id, _viewer(request))


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(request: Request, alert_id: int, body: Note) -> dict[str, Any]:
    """The holder's operators or council members say what they are doing (note required)."""
    return service.acknowledge(request.app.state.store, alert_id, http.principal(request),
                               body.note, _now())


@router.post("/alerts/{alert_id}/resolve")
def resolve(request: Request, alert_id: int, body: Note) -> dict[str, Any]:
    return service.resolve(request.app.state.store, alert_id, http.principal(request),
                           body.note, _now())


@router.get("/alerts/{alert_id}/history")
def history(request: Request, alert_id: int) -> list[dict[str, Any]]:
    """Every change of the alert, oldest first: raised, aggregated, escalated, ..."""
    return service.history(request.app.state.store, alert_id, _viewer(request))
