"""Tables of the plan package: plan versions and their per-product lines."""

from __future__ import annotations

import sqlalchemy as sa

from cybersyn.store.schema import UTCDateTime, metadata

plan_versions = sa.Table(
    "plan_versions", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("label", sa.String(256), nullable=False),
    sa.Column("objective", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("value", sa.Float, nullable=False, comment="objective value"),
    sa.Column("lam", sa.Float, nullable=False, comment="share of targets met in proportion"),
    sa.Column("periods", sa.Integer, nullable=False),
    sa.Column("method", sa.String(256), nullable=False),
    sa.Column("labour_hours_used", sa.Float, nullable=False),
    sa.Column("labour_hours_available", sa.Float, nullable=True, comment="NULL = unlimited"),
    sa.Column("explanation", sa.Text, nullable=False, comment="JSON"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("status_changed_at", UTCDateTime, nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
)

plan_lines = sa.Table(
    "plan_lines", metadata,
    sa.Column("version_id", sa.String(40), sa.ForeignKey("plan_versions.id"), primary_key=True),
    sa.Column("period", sa.Integer, primary_key=True),
    sa.Column("product_code", sa.String(64), primary_key=True),
    sa.Column("target", sa.Float, nullable=False),
    sa.Column("net_output", sa.Float, nullable=False),
    sa.Column("gross_output", sa.Float, nullable=False),
    sa.Column("price", sa.Float, nullable=False, comment="shadow price, objective per unit"),
)

PLAN_TABLES = (plan_versions, plan_lines)
