"""An ASGI app holding only the intake and alerts routers, for `uvicorn --factory`
(the crash test and the benchmark run it in a subprocess):

    CYBERSYN_DATABASE_URL=sqlite:////tmp/x.db uvicorn --factory cybersyn.intake.server:app
"""

from __future__ import annotations

from fastapi import FastAPI

from cybersyn.settings import Settings
from cybersyn.store import Store
from cybersyn.web import problems


def app() -> FastAPI:
    """The app on $CYBERSYN_DATABASE_URL (for `uvicorn --factory`)."""
    return build_app(Store(Settings.from_env().database_url))


def build_app(store: Store) -> FastAPI:
    """A FastAPI app with only the intake and alerts routers, bound to `store`."""
    from cybersyn.alerts.api import router as alerts_router
    from cybersyn.intake.api import router as intake_router

    application = FastAPI(title="cybersyn intake")
    application.state.store = store
    problems.install(application)
    application.include_router(intake_router, prefix="/api/v1")
    application.include_router(alerts_router, prefix="/api/v1")
    return application
