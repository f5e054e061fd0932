"""Who is acting: a `Principal` from a bearer token or session cookie.

Packages that issue credentials provide `cybersyn.<pkg>.auth.authenticate(conn, token)`
returning a `Principal` or None (intake: enterprise tokens; councils: members' sessions and
tokens). Tokens are random and stored only as SHA-256 digests (`token_digest`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

import sqlalchemy as sa

from cybersyn import plugins
from cybersyn.errors import Unauthorized


@dataclass(frozen=True)
class Principal:
    """kind: 'enterprise' (reports indicators), 'member' (of a council), 'operator' (of a
    unit), 'planner' (planning office) or 'admin'. `units`: the units it acts for (a unit
    covers its whole subtree). `roles`: e.g. {'worker_rep', 'government_rep', 'chair'}."""

    kind: str
    id: str
    units: frozenset[str] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)
    name: str = ""


def new_token() -> str:
    """A fresh random token (shown once to its holder, stored only as a digest)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(conn: sa.Connection, token: str | None) -> Principal:
    """The principal behind `token`, asking every package that issues credentials."""
    if not token:
        raise Unauthorized("missing credentials: send 'Authorization: Bearer <token>'")
    for _pkg, mod in plugins.find("auth"):
        principal = mod.authenticate(conn, token)
        if isinstance(principal, Principal):
            return principal
    raise Unauthorized("unknown or revoked token")
