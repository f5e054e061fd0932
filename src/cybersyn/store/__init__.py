"""Persistence: SQLAlchemy Core schema, Alembic migrations, one `Store` per database URL."""

from cybersyn.store import audit as audit
from cybersyn.store.schema import UTCDateTime as UTCDateTime
from cybersyn.store.schema import metadata as metadata
from cybersyn.store.store import Store as Store
from cybersyn.store.store import normalize_url as normalize_url
