"""Foundation tables: economy, observations, audit log.

Each package's migrations live on its own Alembic branch (branch label = package name) that
depends on this revision, so packages can add tables independently; `Store.migrate()` runs
`upgrade heads`. A first migration creates its tables as `schema.py` defines them at that
version; every later change is an explicit `op.*` call in a new revision.
"""

from alembic import op

from cybersyn.store.schema import FOUNDATION_TABLES, audit_head

revision = "foundation_0001"
down_revision = None
branch_labels = ("foundation",)
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in FOUNDATION_TABLES:
        table.create(bind)
    op.execute(audit_head.insert().values(id=1, seq=0, hash="0" * 64))


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(FOUNDATION_TABLES):
        table.drop(bind)
