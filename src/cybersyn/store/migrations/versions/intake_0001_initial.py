"""Intake tables: tokens, idempotency keys, observation revisions."""

from alembic import op

from cybersyn.intake.tables import INTAKE_TABLES

revision = "intake_0001"
down_revision = None
branch_labels = ("intake",)
depends_on = "foundation_0001"


def upgrade() -> None:
    bind = op.get_bind()
    for table in INTAKE_TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(INTAKE_TABLES):
        table.drop(bind)
