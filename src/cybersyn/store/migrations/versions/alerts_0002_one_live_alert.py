"""Alerts: at most one live (not resolved) alert per indicator, enforced by the database.

A partial unique index on alerts(indicator_id) WHERE status <> 'resolved', so two
concurrent raises for the same indicator cannot both open an alert (the second one
aggregates instead: `INSERT .. ON CONFLICT DO NOTHING` then `UPDATE`). Live duplicates
left by the race before this revision are merged first: the oldest stays, the others are
resolved with a note naming it, an event and an audit entry.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from cybersyn.alerts.tables import alert_events, alerts
from cybersyn.store import audit

revision = "alerts_0002"
down_revision = "alerts_0001"
branch_labels = None
depends_on = None

INDEX = "uq_alerts_live_indicator"
ACTOR = "system:migration"


def upgrade() -> None:
    bind = op.get_bind()
    _merge_live_duplicates(bind)
    live = sa.text("status <> 'resolved'")
    op.create_index(INDEX, "alerts", ["indicator_id"], unique=True,
                    postgresql_where=live, sqlite_where=live)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="alerts")


def _merge_live_duplicates(bind: sa.Connection) -> None:
    live = alerts.c.status != "resolved"
    dup = (sa.select(alerts.c.indicator_id).where(live).group_by(alerts.c.indicator_id)
           .having(sa.func.count() > 1))
    rows = bind.execute(sa.select(alerts.c.id, alerts.c.indicator_id)
                        .where(live, alerts.c.indicator_id.in_(dup))
                        .order_by(alerts.c.indicator_id, alerts.c.id)).all()
    keep: dict[str, int] = {}
    now = datetime.now(UTC)
    for alert_id, indicator in rows:
        if indicator not in keep:
            keep[indicator] = alert_id
            continue
        note = f"merged into alert {keep[indicator]} (one live alert per indicator)"
        bind.execute(alerts.update().where(alerts.c.id == alert_id).values(
            status="resolved", deadline=None, note=note, updated_at=now))
        bind.execute(alert_events.insert().values(alert_id=alert_id, at=now, actor=ACTOR,
                                                  action="resolved", note=note))
        audit.append(bind, ACTOR, "alert.resolved", f"alert:{alert_id}",
                     {"note": note, "kept": keep[indicator]}, at=now)
