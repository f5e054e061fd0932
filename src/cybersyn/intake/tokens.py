"""Issuing and revoking intake credentials. A token is shown once; only its SHA-256 digest
is stored (`cybersyn.auth.token_digest`). Kinds: 'enterprise' (reports the indicators of
its unit's subtree), 'operator' (of a unit: reports, and acts on alerts held in its
subtree), 'planner' and 'admin' (the planning office; admin may do everything)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from cybersyn.auth import Principal, new_token, token_digest
from cybersyn.errors import InvalidInput, NotFound
from cybersyn.intake.catalog import catalog
from cybersyn.intake.tables import intake_tokens
from cybersyn.store import Store, audit

UNIT_KINDS = ("enterprise", "operator")
OFFICE_KINDS = ("planner", "admin")
KINDS = UNIT_KINDS + OFFICE_KINDS


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: str
    principal: Principal


def issue(store: Store, kind: str, subject: str, *, actor: str = "cli",
          now: datetime | None = None) -> IssuedToken:
    """A new token of `kind` for `subject` (a unit id for enterprise/operator, a name for
    planner/admin). The secret is returned here and nowhere else."""
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not subject or len(subject) > 128:
        raise InvalidInput("subject must be 1..128 characters")
    if kind in UNIT_KINDS and subject not in catalog(store).parent \
            and not (kind == "operator" and _is_district(store, subject)):
        raise NotFound(f"unknown unit {subject!r}")
    token = new_token()
    digest = token_digest(token)
    token_id = "tk_" + digest[:10]
    unit = subject if kind in UNIT_KINDS else None
    when = now or datetime.now(UTC)
    with store.write() as conn:
        conn.execute(intake_tokens.insert().values(
            token_id=token_id, digest=digest, kind=kind, principal_id=subject, unit_id=unit,
            created_at=when))
        audit.append(conn, actor, "token.issue", f"{kind}:{subject}", {"token_id": token_id},
                     at=when)
    return IssuedToken(token, token_id, principal_of(kind, subject, unit))


def _is_district(store: Store, subject: str) -> bool:
    """A district id: an operator token for it is its supply committee's credential."""
    import sqlalchemy as sa

    from cybersyn.store.schema import districts

    with store.read() as conn:
        return conn.execute(sa.select(districts.c.id).where(districts.c.id == subject)
                            ).first() is not None


def principal_of(kind: str, principal_id: str, unit_id: str | None) -> Principal:
    return Principal(kind=kind, id=principal_id,
                     units=frozenset({unit_id}) if unit_id else frozenset(),
                     name=principal_id)


def revoke(store: Store, token_id: str, *, actor: str = "cli",
           now: datetime | None = None) -> int:
    """Revoke a token by its id (tk_...) or every live token of a unit/name; returns count."""
    when = now or datetime.now(UTC)
    live = intake_tokens.c.revoked_at.is_(None)
    match = sa.or_(intake_tokens.c.token_id == token_id,
                   intake_tokens.c.principal_id == token_id)
    with store.write() as conn:
        ids = conn.execute(sa.select(intake_tokens.c.token_id).where(live, match)).scalars().all()
        if not ids:
            raise NotFound(f"no live token {token_id!r} (give a token id tk_... or a unit id)")
        conn.execute(intake_tokens.update().where(intake_tokens.c.token_id.in_(ids))
                     .values(revoked_at=when))
        audit.append(conn, actor, "token.revoke", token_id, {"token_ids": list(ids)}, at=when)
    return len(ids)


def list_tokens(store: Store) -> list[dict[str, object]]:
    with store.read() as conn:
        rows = conn.execute(sa.select(intake_tokens).order_by(intake_tokens.c.created_at))
        return [{k: v for k, v in r._mapping.items() if k != "digest"} for r in rows]
