"""RFC 9457 problem+json: the one place API errors are rendered."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cybersyn.errors import CybersynError, InvalidInput

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def install(app: FastAPI) -> None:
    @app.exception_handler(CybersynError)
    async def _domain(_req: Request, exc: CybersynError) -> JSONResponse:
        extra = {"errors": exc.errors} if isinstance(exc, InvalidInput) and exc.errors else {}
        return problem(exc.status, exc.title, exc.detail, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ())), "reason": e.get("msg")}
                  for e in exc.errors()[:100]]
        first = errors[0] if errors else {"field": "?", "reason": "invalid"}
        return problem(422, "Unprocessable Content",
                       f"{first['field']}: {first['reason']}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        from http import HTTPStatus

        title = HTTPStatus(exc.status_code).phrase
        return problem(exc.status_code, title, str(exc.detail or title))
