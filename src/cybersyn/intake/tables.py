"""Intake tables: credentials (stored as SHA-256 digests), idempotency keys and the
audited revisions of observations. Observations themselves go into the foundation's
`observations` table."""

from __future__ import annotations

import sqlalchemy as sa

from cybersyn.store.schema import UTCDateTime, metadata

intake_tokens = sa.Table(
    "intake_tokens", metadata,
    sa.Column("token_id", sa.String(32), primary_key=True, comment="tk_ + 10 hex, shown"),
    sa.Column("digest", sa.String(64), nullable=False, unique=True, comment="sha256 hex"),
    sa.Column("kind", sa.String(16), nullable=False,
              comment="enterprise | operator | planner | admin"),
    sa.Column("principal_id", sa.String(128), nullable=False),
    sa.Column("unit_id", sa.String(128), nullable=True, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

intake_idempotency = sa.Table(
    "intake_idempotency", metadata,
    sa.Column("principal", sa.String(160), primary_key=True, comment="kind:id"),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_sha256", sa.String(64), nullable=False),
    sa.Column("response", sa.Text, nullable=False, comment="JSON of the first answer"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

observation_revisions = sa.Table(
    "observation_revisions", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("indicator_id", sa.String(160), nullable=False, index=True),
    sa.Column("observed_at", UTCDateTime, nullable=False),
    sa.Column("old_value", sa.Float, nullable=False),
    sa.Column("new_value", sa.Float, nullable=False),
    sa.Column("revised_at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(160), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

INTAKE_TABLES = (intake_tokens, intake_idempotency, observation_revisions)
