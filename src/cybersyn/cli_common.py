"""What every `cybersyn` subcommand shares: the --database and --json options and opening
the migrated store (one line `error: ... run cybersyn init` when it is not)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from cybersyn.settings import Settings
from cybersyn.store import Store

DatabaseOpt = Annotated[str | None, typer.Option(
    "--database", "-d", help="Database URL (default $CYBERSYN_DATABASE_URL or "
    "sqlite:///./cybersyn.db).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def open_store(database: str | None, *, migrate: bool = False) -> Store:
    """The store at `database` (or the configured one): migrated now, or required current."""
    store = Store(Settings.from_env().with_overrides(database_url=database).database_url)
    if migrate:
        store.migrate()
    else:
        store.require_current()
    return store


@contextmanager
def opened(database: str | None) -> Iterator[Store]:
    """The migrated store at `database`, closed afterwards (no pool left to the GC)."""
    store = open_store(database)
    try:
        yield store
    finally:
        store.close()
