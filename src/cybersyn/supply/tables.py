"""Supply tables (JAP): registry, entitlements, prices, the distribution journal, findings.

The journal is double-entry: each movement moves `quantity` whole units of one good from
`credit` to `debit` (accounts like `point:P1`, `household:C42`, `supplier`, `lost:P1`), so
every posting balances by construction; balances are sums of debits minus credits.
Quantities are whole ration units (litres, kg) named in `supply_goods.unit`; money in cents.
"""

from __future__ import annotations

import sqlalchemy as sa

from cybersyn.store.schema import UTCDateTime, metadata

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

points = sa.Table(
    "supply_points", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("district_id", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, comment="shop or depot"),
    sa.Column("x_km", sa.Float, nullable=False, server_default="0"),
    sa.Column("y_km", sa.Float, nullable=False, server_default="0"),
    sa.Column("closes_minute", sa.Integer, nullable=False, server_default="1140",
              comment="closing time, minutes after midnight"),
)

households = sa.Table(
    "supply_households", metadata,
    sa.Column("card_id", sa.String(64), primary_key=True),
    sa.Column("district_id", sa.String(64), nullable=False, index=True),
    sa.Column("point_id", sa.String(64), nullable=False, index=True),
    sa.Column("head_name", sa.String(256), nullable=False),
    sa.Column("head_national_id", sa.String(32), nullable=False, index=True),
    sa.Column("members", sa.Integer, nullable=False),
    sa.Column("children", sa.Integer, nullable=False),
    sa.Column("pregnant_or_nursing", sa.Integer, nullable=False),
    sa.Column("special_needs", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="active, review, rejected"),
    sa.Column("registered_at", UTCDateTime, nullable=False),
)

reviews = sa.Table(
    "supply_dedup_reviews", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("card_id", sa.String(64), nullable=False, index=True),
    sa.Column("duplicate_of", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(256), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="open, approved, rejected"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

goods = sa.Table(
    "supply_goods", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("unit", sa.String(32), nullable=False),
    sa.Column("price_cents", sa.BigInteger, nullable=False, comment="official price per unit"),
)

entitlement_rules = sa.Table(
    "supply_entitlement_rules", metadata,
    sa.Column("good", sa.String(64), primary_key=True),
    sa.Column("basis", sa.String(32), primary_key=True,
              comment="person, child, pregnant_or_nursing, household, special_needs"),
    sa.Column("quantity_per_month", sa.Integer, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="1",
              comment="0 is served first under scarcity"),
)

entitlements = sa.Table(
    "supply_entitlements", metadata,
    sa.Column("card_id", sa.String(64), primary_key=True),
    sa.Column("good", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(7), primary_key=True, comment="YYYY-MM"),
    sa.Column("entitled", sa.Integer, nullable=False),
    sa.Column("handed_out", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("handed_out <= entitled AND handed_out >= 0",
                       name="ck_supply_entitlement_not_exceeded"),
)

journal = sa.Table(
    "supply_journal", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("idem_key", sa.String(128), nullable=False, unique=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False,
              comment="receive, handout, transfer, loss, count"),
    sa.Column("point_id", sa.String(64), nullable=False),
    sa.Column("good", sa.String(64), nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("debit", sa.String(96), nullable=False),
    sa.Column("credit", sa.String(96), nullable=False),
    sa.Column("card_id", sa.String(64), nullable=True),
    sa.Column("price_cents", sa.BigInteger, nullable=True),
    sa.Column("reason", sa.String(256), nullable=True),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.CheckConstraint("quantity >= 0", name="ck_supply_journal_quantity"),
    sa.Index("ix_supply_journal_point_period", "point_id", "period", "good"),
)

price_reports = sa.Table(
    "supply_price_reports", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("point_id", sa.String(64), nullable=False, index=True),
    sa.Column("good", sa.String(64), nullable=False),
    sa.Column("price_cents", sa.BigInteger, nullable=False),
    sa.Column("reported_at", UTCDateTime, nullable=False),
    sa.Column("reporter", sa.String(128), nullable=False),
)

findings = sa.Table(
    "supply_findings", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("period", sa.String(7), nullable=False, index=True),
    sa.Column("point_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False, comment="JSON"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

route_plans = sa.Table(
    "supply_route_plans", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("depot_id", sa.String(64), nullable=False),
    sa.Column("trucks_available", sa.Integer, nullable=False),
    sa.Column("trucks_used", sa.Integer, nullable=False),
    sa.Column("points_served", sa.Integer, nullable=False),
    sa.Column("points_unserved", sa.Integer, nullable=False),
    sa.Column("distance_km", sa.Float, nullable=False),
    sa.Column("plan", sa.Text, nullable=False,
              comment="JSON: locations [{id, x_km, y_km, demand_kg}], routes [[ids]], unserved"),
)

SUPPLY_TABLES = (points, households, reviews, goods, entitlement_rules, entitlements, journal,
                 price_reports, findings, route_plans)
