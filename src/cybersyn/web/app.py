"""The FastAPI application: JSON API under /api/v1, Opsroom pages at /."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from fastapi.staticfiles import StaticFiles

from cybersyn import __version__, plugins
from cybersyn.errors import NotFound
from cybersyn.live import LiveLoop
from cybersyn.store import Store
from cybersyn.web import (
    councils_page,
    pages,
    plan_page,
    problems,
    session,
    simulate_page,
    sources,
    supply_page,
    tree,
)
from cybersyn.web.cache import EconomyCache

HERE = Path(__file__).parent
STREAM_INTERVAL_S = 1.0


def create_app(store: Store, live: LiveLoop | None = None,
               live_interval_s: float = 5.0) -> FastAPI:
    """An app bound to `store`; each package's `api.router` is mounted under /api/v1.
    With `live`, the loop (monitor → alerts → escalation) ticks in the background."""
    app = FastAPI(title="cybersyn", version=__version__,
                  description="Opsroom and JSON API of cybersyn.",
                  lifespan=_live_lifespan(live, live_interval_s))
    app.state.store = store
    app.state.economy = EconomyCache(store)
    problems.install(app)
    app.add_middleware(session.CookieBearer)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _core_routes(app)
    for _pkg, mod in plugins.find("api"):
        app.include_router(mod.router, prefix="/api/v1")
    for page in (pages, plan_page, supply_page, simulate_page, councils_page):
        app.include_router(page.router)
    return app


def _live_lifespan(live: LiveLoop | None, interval_s: float) -> Any:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_tick_forever(live, interval_s)) if live else None
        yield
        if task is not None:
            task.cancel()
    return lifespan


async def _tick_forever(live: LiveLoop, interval_s: float) -> None:
    while True:
        try:
            await asyncio.to_thread(live.tick)
        except Exception:  # keep serving; the next tick retries
            logging.getLogger("cybersyn.live").exception("live loop tick failed")
        await asyncio.sleep(interval_s)


def opsroom_state(request: Request) -> dict[str, Any]:
    """Unit states and open-alert counts: what the overview redraws when it changes."""
    ld = request.app.state.economy.get()
    units = ld.economy.units
    alerts = sources.open_alerts(request.app.state.store, session.principal_of(request))
    states = tree.unit_states(units, alerts)
    return {"states": states, "below": tree.alerts_below(units, alerts),
            "alerts_by_level": tree.count_by_level(alerts), "open_alerts": len(alerts),
            "latest_observation_at": sources.latest_observation_at(request.app.state.store)}


def _core_routes(app: FastAPI) -> None:
    @app.get("/api/v1/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    @app.get("/api/v1/economy")
    def economy_summary(request: Request) -> dict[str, Any]:
        return dict(request.app.state.economy.get().economy.summary())

    @app.get("/api/v1/units")
    def list_units(request: Request) -> list[dict[str, Any]]:
        eco = request.app.state.economy.get().economy
        return [u.__dict__ for u in eco.units]

    @app.get("/api/v1/units/{unit_id}")
    def get_unit(request: Request, unit_id: str) -> dict[str, Any]:
        """A unit with its ancestors, children and own indicators."""
        ld = request.app.state.economy.get()
        units = ld.economy.units
        if unit_id not in units:
            raise NotFound(f"unit {unit_id!r} does not exist")
        return {**units[unit_id].__dict__,
                "ancestors": [u.id for u in units.ancestors(unit_id)],
                "children": [u.id for u in units.children(unit_id)],
                "subtree_units": ld.subtree_size[unit_id],
                "indicators": [i.__dict__ for i in ld.indicators_of.get(unit_id, ())]}

    @app.get("/api/v1/opsroom/state")
    def state(request: Request) -> dict[str, Any]:
        """Each unit's state (warning/alarm; absent = steady) and open-alert counts."""
        return opsroom_state(request)

    @app.get("/api/v1/opsroom/stream", response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}}}})
    async def stream(request: Request, once: bool = False) -> StreamingResponse:
        """Server-sent events: `state` whenever the unit states or counts change."""
        return StreamingResponse(_state_events(request, once), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})


async def _state_events(request: Request, once: bool) -> AsyncIterator[str]:
    last = None
    yield "retry: 2000\n\n"
    while not await request.is_disconnected():
        body = json.dumps(await asyncio.to_thread(opsroom_state, request))
        if body != last:
            last = body
            yield f"event: state\ndata: {body}\n\n"
        if once:
            return
        await asyncio.sleep(STREAM_INTERVAL_S)
