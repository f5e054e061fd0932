"""Alerts tables: alerts and their history of changes."""

from alembic import op

from cybersyn.alerts.tables import ALERTS_TABLES

revision = "alerts_0001"
down_revision = None
branch_labels = ("alerts",)
depends_on = "foundation_0001"


def upgrade() -> None:
    bind = op.get_bind()
    for table in ALERTS_TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(ALERTS_TABLES):
        table.drop(bind)
