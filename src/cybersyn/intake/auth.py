"""`authenticate(conn, token)`: the principal behind an intake token, or None."""

from __future__ import annotations

import sqlalchemy as sa

from cybersyn.auth import Principal, token_digest
from cybersyn.intake.tables import intake_tokens
from cybersyn.intake.tokens import principal_of


def authenticate(conn: sa.Connection, token: str) -> Principal | None:
    row = conn.execute(
        sa.select(intake_tokens.c.kind, intake_tokens.c.principal_id, intake_tokens.c.unit_id)
        .where(intake_tokens.c.digest == token_digest(token),
               intake_tokens.c.revoked_at.is_(None))).first()
    return None if row is None else principal_of(row.kind, row.principal_id, row.unit_id)
