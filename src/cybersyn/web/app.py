"""The FastAPI application: JSON API under /api/v1, Opsroom pages at /."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from cybersyn import __version__, plugins
from cybersyn.store import Store
from cybersyn.web import problems

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def create_app(store: Store) -> FastAPI:
    """An app bound to `store`; each package's `api.router` is mounted under /api/v1."""
    app = FastAPI(title="cybersyn", version=__version__,
                  description="Opsroom and JSON API of cybersyn.")
    app.state.store = store
    problems.install(app)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _core_routes(app)
    for _pkg, mod in plugins.find("api"):
        app.include_router(mod.router, prefix="/api/v1")
    return app


def _core_routes(app: FastAPI) -> None:
    @app.get("/api/v1/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    @app.get("/api/v1/economy")
    def economy_summary(request: Request) -> dict[str, Any]:
        return dict(request.app.state.store.load_economy().summary())

    @app.get("/api/v1/units")
    def list_units(request: Request) -> list[dict[str, Any]]:
        eco = request.app.state.store.load_economy()
        return [u.__dict__ for u in eco.units]

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        eco = request.app.state.store.load_economy()
        return templates.TemplateResponse(request, "overview.html", {"eco": eco})
