"""Tables of the monitor: per-step outputs, per-series filter state, signals."""

from __future__ import annotations

import sqlalchemy as sa

from cybersyn.store.schema import UTCDateTime, metadata

monitor_outputs = sa.Table(
    "monitor_outputs", metadata,
    sa.Column("series_id", sa.String(200), primary_key=True,
              comment="indicator id, or '<indicator id>:<triple index>'"),
    sa.Column("observed_at", UTCDateTime, primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("forecast", sa.Float, nullable=False),
    sa.Column("forecast_var", sa.Float, nullable=False),
    sa.Column("level", sa.Float, nullable=False),
    sa.Column("slope_per_day", sa.Float, nullable=False),
    sa.Column("p_steady", sa.Float, nullable=False),
    sa.Column("p_step", sa.Float, nullable=False),
    sa.Column("p_slope", sa.Float, nullable=False),
    sa.Column("p_transient", sa.Float, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
)

monitor_state = sa.Table(
    "monitor_state", metadata,
    sa.Column("series_id", sa.String(200), primary_key=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("params", sa.Text, nullable=False, comment="FilterParams as JSON"),
    sa.Column("state", sa.LargeBinary, nullable=False,
              comment="the filter's 256-byte STATE_DTYPE record, then the detector's state"),
)

monitor_signals = sa.Table(
    "monitor_signals", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("series_id", sa.String(200), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("start", UTCDateTime, nullable=False),
    sa.Column("detected_at", UTCDateTime, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("direction", sa.Integer, nullable=False),
)

MONITOR_TABLES = (monitor_outputs, monitor_state, monitor_signals)
