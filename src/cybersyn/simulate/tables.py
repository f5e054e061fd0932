"""Tables of the simulate package: runs started through the API (request, summaries and the
national daily series of every variant, as JSON)."""

from __future__ import annotations

import sqlalchemy as sa

from cybersyn.store.schema import UTCDateTime, metadata

simulate_runs = sa.Table(
    "simulate_runs", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("scenario", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("request", sa.Text, nullable=False, comment="JSON"),
    sa.Column("result", sa.Text, nullable=False, comment="JSON: summaries and daily series"),
)

SIMULATE_TABLES = (simulate_runs,)
