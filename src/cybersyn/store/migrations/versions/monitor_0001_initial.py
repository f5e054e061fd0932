"""Monitor tables: per-step filter outputs, per-series filter state, signals."""

from alembic import op

from cybersyn.monitor.tables import MONITOR_TABLES

revision = "monitor_0001"
down_revision = None
branch_labels = ("monitor",)
depends_on = "foundation_0001"


def upgrade() -> None:
    bind = op.get_bind()
    for table in MONITOR_TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(MONITOR_TABLES):
        table.drop(bind)
