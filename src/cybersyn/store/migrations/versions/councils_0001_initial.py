"""Councils tables: councils, members, seats, sessions, login failures, approvals,
proposals, votes, outcomes, participatory planning runs and rounds."""

from alembic import op

from cybersyn.councils.tables import COUNCILS_TABLES

revision = "councils_0001"
down_revision = None
branch_labels = ("councils",)
depends_on = "foundation_0001"


def upgrade() -> None:
    bind = op.get_bind()
    for table in COUNCILS_TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(COUNCILS_TABLES):
        table.drop(bind)
