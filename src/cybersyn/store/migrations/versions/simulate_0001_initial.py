"""simulate tables: simulate_runs."""

from alembic import op

from cybersyn.simulate.tables import SIMULATE_TABLES

revision = "simulate_0001"
down_revision = None
branch_labels = ("simulate",)
depends_on = "foundation_0001"


def upgrade() -> None:
    bind = op.get_bind()
    for table in SIMULATE_TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(SIMULATE_TABLES):
        table.drop(bind)
