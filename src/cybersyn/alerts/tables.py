"""Alerts tables: one row per alert (its current state) and one per change (its history,
also the feed of the server-sent event stream)."""

from __future__ import annotations

import sqlalchemy as sa

from cybersyn.store.schema import UTCDateTime, metadata

alerts = sa.Table(
    "alerts", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("indicator_id", sa.String(160), nullable=False, index=True),
    sa.Column("origin_unit_id", sa.String(128), nullable=False),
    sa.Column("unit_id", sa.String(128), nullable=False, index=True,
              comment="current holder"),
    sa.Column("level", sa.String(32), nullable=False, comment="level of the holder"),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("signal_start", UTCDateTime, nullable=False),
    sa.Column("signals", sa.Integer, nullable=False, comment="signals aggregated"),
    sa.Column("status", sa.String(16), nullable=False, index=True,
              comment="open | acknowledged | resolved"),
    sa.Column("opened_at", UTCDateTime, nullable=False),
    sa.Column("deadline", UTCDateTime, nullable=True, comment="NULL once acknowledged"),
    sa.Column("path", sa.Text, nullable=False, comment="JSON list of unit ids climbed"),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

alert_events = sa.Table(
    "alert_events", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("alert_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(160), nullable=False),
    sa.Column("action", sa.String(16), nullable=False,
              comment="raised | aggregated | escalated | acknowledged | resolved"),
    sa.Column("from_unit", sa.String(128), nullable=True),
    sa.Column("to_unit", sa.String(128), nullable=True),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
)

ALERTS_TABLES = (alerts, alert_events)

#: The predicate of the partial unique index `uq_alerts_live_indicator` on
#: alerts(indicator_id) (migration alerts_0002): at most one live alert per indicator.
LIVE = alerts.c.status != "resolved"
