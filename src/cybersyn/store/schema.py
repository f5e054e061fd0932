"""SQLAlchemy Core schema of the foundation tables; other packages add theirs to `metadata`
in their own `tables.py` (and an Alembic migration on their own branch).

Times are stored as naive UTC and read back as aware UTC (`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, naive UTC in the database."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; cybersyn stores UTC-aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


economy_meta = sa.Table(
    "economy_meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

units = sa.Table(
    "units", metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("level", sa.String(32), nullable=False),
    sa.Column("parent_id", sa.String(128), nullable=True, index=True),
    sa.Column("position", sa.Integer, nullable=False),
)

products = sa.Table(
    "products", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("unit_of_measure", sa.String(64), nullable=False),
    sa.Column("labour_hours", sa.Float, nullable=False),
    sa.Column("capacity", sa.Float, nullable=True, comment="NULL = unlimited"),
    sa.Column("final_demand", sa.Float, nullable=False),
    sa.Column("producer_unit", sa.String(128), nullable=True),
    sa.Column("position", sa.Integer, nullable=False),
)

io_coefficients = sa.Table(
    "io_coefficients", metadata,
    sa.Column("input_code", sa.String(64), primary_key=True),
    sa.Column("output_code", sa.String(64), primary_key=True),
    sa.Column("amount", sa.Float, nullable=False),
)

indicators = sa.Table(
    "indicators", metadata,
    sa.Column("id", sa.String(160), primary_key=True),
    sa.Column("unit_id", sa.String(128), nullable=False, index=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("unit_of_measure", sa.String(64), nullable=False),
    sa.Column("capability", sa.Float, nullable=True),
    sa.Column("potentiality", sa.Float, nullable=True),
    sa.Column("product_code", sa.String(64), nullable=True),
    sa.Column("higher_is_better", sa.Boolean, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)

districts = sa.Table(
    "districts", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("households", sa.Integer, nullable=False),
    sa.Column("people", sa.Integer, nullable=False),
    sa.Column("children", sa.Integer, nullable=False),
    sa.Column("pregnant_or_nursing", sa.Integer, nullable=False),
)

observations = sa.Table(
    "observations", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("indicator_id", sa.String(160), nullable=False),
    sa.Column("observed_at", UTCDateTime, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("source", sa.String(64), nullable=False, server_default="unknown"),
    sa.UniqueConstraint("indicator_id", "observed_at", name="uq_observation_indicator_time"),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False, comment="ISO 8601 UTC"),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("payload", sa.Text, nullable=False, comment="canonical JSON"),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

audit_head = sa.Table(
    "audit_head", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

FOUNDATION_TABLES = (economy_meta, units, products, io_coefficients, indicators, districts,
                     observations, audit_log, audit_head)
