"""Plan tables: plan versions (draft -> proposed -> approved | rejected) and their lines."""

from alembic import op

from cybersyn.plan.tables import PLAN_TABLES

revision = "plan_0001"
down_revision = None
branch_labels = ("plan",)
depends_on = "foundation_0001"


def upgrade() -> None:
    bind = op.get_bind()
    for table in PLAN_TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(PLAN_TABLES):
        table.drop(bind)
