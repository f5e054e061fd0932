"""Supply (JAP) tables: registry, entitlements, prices, distribution journal, findings."""

from alembic import op

from cybersyn.supply.tables import SUPPLY_TABLES

revision = "supply_0001"
down_revision = None
branch_labels = ("supply",)
depends_on = "foundation_0001"


def upgrade() -> None:
    bind = op.get_bind()
    for table in SUPPLY_TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(SUPPLY_TABLES):
        table.drop(bind)
