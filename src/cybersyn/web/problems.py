"""RFC 9457 problem+json: the one place API errors are rendered (pages get an HTML page)."""

from __future__ import annotations

from html import escape
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cybersyn.errors import CybersynError, InvalidInput

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not the JSON API, not a static file)."""
    path = request.url.path
    return not path.startswith(("/api/", "/static/")) and "text/html" in request.headers.get(
        "accept", "")


def page(status: int, title: str, detail: str) -> HTMLResponse:
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{status} '
            f'{escape(title)} · cybersyn</title><link rel="stylesheet" '
            f'href="/static/opsroom.css"></head><body><header><a href="/" class="brand">'
            f'cybersyn</a></header><main><h1>{status} {escape(title)}</h1>'
            f'<p class="error">{escape(detail)}</p><p><a href="/">Back to the overview</a>'
            f'</p></main></body></html>')
    return HTMLResponse(body, status_code=status)


def respond(request: Request, status: int, title: str, detail: str,
            **extra: Any) -> Response:
    if wants_page(request):
        return page(status, title, detail)
    return problem(status, title, detail, **extra)


def install(app: FastAPI) -> None:
    @app.exception_handler(CybersynError)
    async def _domain(req: Request, exc: CybersynError) -> Response:
        extra = {"errors": exc.errors} if isinstance(exc, InvalidInput) and exc.errors else {}
        return respond(req, exc.status, exc.title, exc.detail, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(req: Request, exc: RequestValidationError) -> Response:
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ())), "reason": e.get("msg")}
                  for e in exc.errors()[:100]]
        first = errors[0] if errors else {"field": "?", "reason": "invalid"}
        return respond(req, 422, "Unprocessable Content",
                       f"{first['field']}: {first['reason']}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> Response:
        title = HTTPStatus(exc.status_code).phrase
        resp = respond(req, exc.status_code, title, str(exc.detail or title))
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp
