"""Shared fixtures: a migrated store on SQLite always, and on PostgreSQL when
CYBERSYN_TEST_PG_URL is set (each test gets its own schema, dropped afterwards)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from cybersyn.economy import Economy, demo_economy
from cybersyn.store import Store
from cybersyn.testing import private_pg_schema

# No example may fail for being slow: hypothesis's per-example deadline and too_slow check
# are wall-clock assertions, which a loaded 2-core machine trips (tests assert no time).
# CI also draws the same examples every run (a failure found locally is kept in
# .hypothesis/ and replayed; CI, starting clean, must not fail by the luck of the draw).
for _name, _derandomize in (("default", False), ("ci", True)):
    hypothesis_settings.register_profile(
        _name, derandomize=_derandomize, print_blob=_derandomize, deadline=None,
        suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")

PG_URL = os.environ.get("CYBERSYN_TEST_PG_URL")
PG_SKIP = "PostgreSQL tests skipped: set CYBERSYN_TEST_PG_URL (CI sets it)"


@pytest.fixture(scope="session")
def demo() -> Economy:
    return demo_economy()


PG_PARAM = pytest.param("postgresql", marks=[
    pytest.mark.pg, pytest.mark.skipif(not PG_URL, reason=PG_SKIP)])
"""The PostgreSQL case of a backend-parametrised fixture: collected as skipped, with the
reason, when no server is configured."""


@pytest.fixture(params=["sqlite", PG_PARAM])
def store_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """A database URL per backend: SQLite file always, PostgreSQL schema when configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/cybersyn.db"
        return
    assert PG_URL, PG_SKIP  # the skipif mark keeps this case from running without it
    with private_pg_schema(PG_URL) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    s = Store(store_url)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def demo_store(store: Store, demo: Economy) -> Store:
    """A migrated store holding the demo economy."""
    store.save_economy(demo)
    return store
