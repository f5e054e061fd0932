"""Who is looking: the session cookie, the bearer header, and what each role may do.

The browser holds the councils' session token in the cookie `cybersyn_session` (HttpOnly,
SameSite=Lax). `CookieBearer` hands that token to every JSON endpoint as
`Authorization: Bearer <token>` when the request carries no Authorization header, so the
other packages' routers authenticate page requests exactly as they do API clients.
"""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from cybersyn import auth
from cybersyn.auth import Principal
from cybersyn.errors import CybersynError, Forbidden, Unauthorized

COOKIE = "cybersyn_session"
_SENTINEL = "opsroom.principal"


def token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE) or None


def principal_of(request: Request) -> Principal | None:
    """The authenticated principal of this request, or None for a visitor (cached)."""
    if _SENTINEL in request.scope:
        cached: Principal | None = request.scope[_SENTINEL]
        return cached
    token = token_of(request)
    found: Principal | None = None
    if token:
        try:
            with request.app.state.store.read() as conn:
                found = auth.authenticate(conn, token)
        except Unauthorized:
            found = None
    request.scope[_SENTINEL] = found
    return found


def covers(principal: Principal, unit_id: str, ancestors: list[str]) -> bool:
    """Does the principal act for `unit_id` (its own units cover their whole subtree)?"""
    return bool(principal.units & {unit_id, *ancestors})


def may_act_on_unit(principal: Principal | None, unit_id: str, ancestors: list[str]) -> bool:
    """Acknowledge/resolve alerts: planners and admins anywhere; operators and council
    members for their own units and the units below them."""
    if principal is None:
        return False
    if principal.kind in ("planner", "admin"):
        return True
    return principal.kind in ("operator", "member") and covers(principal, unit_id, ancestors)


def may_see_findings(principal: Principal | None) -> bool:
    """Ledger discrepancies and diversion findings accuse people: planners, admins and
    supply-committee members only."""
    if principal is None:
        return False
    return principal.kind in ("planner", "admin") or "supply" in principal.roles or any(
        r.startswith("jap") for r in principal.roles)


def require(principal: Principal | None, allowed: bool, what: str) -> None:
    if principal is None:
        raise Unauthorized(f"log in to {what}")
    if not allowed:
        raise Forbidden(f"{principal.kind} {principal.id} may not {what}")


def describe(principal: Principal | None) -> dict[str, Any] | None:
    if principal is None:
        return None
    return {"kind": principal.kind, "id": principal.id, "name": principal.name or principal.id,
            "units": sorted(principal.units), "roles": sorted(principal.roles)}


class CookieBearer:
    """ASGI middleware: /api requests without Authorization get the session cookie's token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            headers = list(scope["headers"])
            names = {k for k, _v in headers}
            token = _cookie_token(headers)
            if b"authorization" not in names and token:
                headers.append((b"authorization", b"Bearer " + token.encode("latin-1")))
                scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)


def _cookie_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    for k, v in headers:
        if k == b"cookie":
            for part in v.decode("latin-1").split(";"):
                name, _, value = part.strip().partition("=")
                if name == COOKIE and value:
                    return value
    return None


def login(request: Request, username: str, password: str) -> str:
    """A session token from the councils' credentials (raises when councils is absent)."""
    from datetime import UTC, datetime

    try:
        councils_auth = importlib.import_module("cybersyn.councils.auth")
    except ImportError:
        raise CybersynError("logging in needs the councils package, which is not installed",
                            status=503) from None
    with request.app.state.store.write() as conn:
        token: str = councils_auth.login(conn, username, password, datetime.now(UTC))
    return token
