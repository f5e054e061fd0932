"""One `Store` per database URL: engine, migrations, one writer for SQLite, economy I/O."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cybersyn.economy.model import District, Economy, Indicator, IOSystem, Product, Unit, UnitTree
from cybersyn.errors import Conflict, CybersynError, NotFound
from cybersyn.store import schema as t

MIGRATIONS = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 (psycopg2 is not a dependency)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Store:
    """Persistence for one database.

    SQLite: WAL journal, `synchronous=FULL` (a commit is on disk before it is acknowledged),
    and every write goes through one lock (one writer, readers apart), as Datasette does.
    PostgreSQL: a connection pool; writers rely on the server's transactions.
    """

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        try:
            self.engine = sa.create_engine(self.url, **kwargs)
        except (sa.exc.ArgumentError, ImportError) as e:
            raise CybersynError(f"cannot use database URL {url!r}: {e}") from None
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._write_lock = threading.RLock()

    def close(self) -> None:
        self.engine.dispose()

    def _connect(self) -> sa.Connection:
        """A connection, or one line naming the database when it cannot be opened."""
        try:
            return self.engine.connect()
        except sa.exc.OperationalError as e:
            raise CybersynError(f"cannot open database {self.url}: {e.orig}") from None

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A transaction that commits on exit (and only then may a caller acknowledge)."""
        with self._write_lock if self.is_sqlite else _nolock(), self._connect() as conn, \
                conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self._connect() as conn:
            yield conn

    # -- migrations -------------------------------------------------------------------
    def _alembic(self, conn: sa.Connection) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        return cfg

    def migrate(self) -> None:
        """Bring the schema to the newest revision of every package's branch."""
        try:
            with self.write() as conn:
                command.upgrade(self._alembic(conn), "heads")
        except sa.exc.OperationalError as e:
            raise CybersynError(f"cannot open database {self.url}: {e.orig}") from None

    def is_current(self) -> bool:
        """Whether every package's newest revision is applied (a head that another branch
        depends on is recorded only through its dependant, so compare applied sets)."""
        with self.read() as conn:
            script = ScriptDirectory.from_config(self._alembic(conn))
            current = MigrationContext.configure(conn).get_current_heads()
            applied = {r.revision for r in script.revision_map.iterate_revisions(
                current, "base", select_for_downgrade=True)} if current else set()
            return set(script.get_heads()) <= applied

    def require_current(self) -> None:
        if not self.is_current():
            raise CybersynError(
                f"database {self.url} is not initialised or not migrated: run `cybersyn init`")

    # -- economy ------------------------------------------------------------------------
    def has_economy(self) -> bool:
        with self.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(t.units)).scalar_one() > 0

    def save_economy(self, economy: Economy, *, replace: bool = False) -> None:
        """Write `economy` in one transaction; refuse to overwrite unless `replace`."""
        with self.write() as conn:
            if conn.execute(sa.select(sa.func.count()).select_from(t.units)).scalar_one():
                if not replace:
                    raise Conflict("the database already holds an economy (use --replace)")
                for table in (t.units, t.products, t.io_coefficients, t.indicators,
                              t.districts, t.economy_meta):
                    conn.execute(table.delete())
            _insert_economy(conn, economy)

    def load_economy(self) -> Economy:
        with self.read() as conn:
            if not conn.execute(sa.select(t.units.c.id).limit(1)).first():
                raise NotFound("no economy loaded: run `cybersyn init`")
            return _read_economy(conn)


@contextmanager
def _nolock() -> Iterator[None]:
    yield


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                   "busy_timeout=30000"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def _insert_economy(conn: sa.Connection, e: Economy) -> None:
    io = e.io
    conn.execute(t.economy_meta.insert(), [{"key": "name", "value": e.name}])
    conn.execute(t.units.insert(), [
        {"id": u.id, "name": u.name, "level": u.level, "parent_id": u.parent, "position": k}
        for k, u in enumerate(e.units)])
    conn.execute(t.products.insert(), [
        {"code": p.code, "name": p.name, "unit_of_measure": p.unit_of_measure,
         "labour_hours": float(io.labour[k]),
         "capacity": None if np.isinf(io.capacity[k]) else float(io.capacity[k]),
         "final_demand": float(io.final_demand[k]), "producer_unit": e.producer.get(p.code),
         "position": k} for k, p in enumerate(e.products)])
    coo = io.A.tocoo()
    if coo.nnz:
        conn.execute(t.io_coefficients.insert(), [
            {"input_code": io.product_codes[i], "output_code": io.product_codes[j],
             "amount": float(v)} for i, j, v in zip(coo.row, coo.col, coo.data, strict=True)])
    if e.indicators:
        conn.execute(t.indicators.insert(), [
            {"id": i.id, "unit_id": i.unit_id, "name": i.name,
             "unit_of_measure": i.unit_of_measure, "capability": i.capability,
             "potentiality": i.potentiality, "product_code": i.product_code,
             "higher_is_better": i.higher_is_better, "position": k}
            for k, i in enumerate(e.indicators)])
    if e.districts:
        conn.execute(t.districts.insert(), [d.__dict__ for d in e.districts])


def _read_economy(conn: sa.Connection) -> Economy:
    name = conn.execute(sa.select(t.economy_meta.c.value)
                        .where(t.economy_meta.c.key == "name")).scalar_one_or_none()
    units = [Unit(r.id, r.name, r.level, r.parent_id)
             for r in conn.execute(sa.select(t.units).order_by(t.units.c.position))]
    prows = conn.execute(sa.select(t.products).order_by(t.products.c.position)).all()
    codes = tuple(r.code for r in prows)
    index = {c: k for k, c in enumerate(codes)}
    crows = conn.execute(sa.select(t.io_coefficients)).all()
    A = sp.csr_matrix(([r.amount for r in crows],
                       ([index[r.input_code] for r in crows],
                        [index[r.output_code] for r in crows])), shape=(len(codes),) * 2)
    io = IOSystem(codes, A, np.array([r.labour_hours for r in prows]),
                  np.array([np.inf if r.capacity is None else r.capacity for r in prows]),
                  np.array([r.final_demand for r in prows]))
    indicators = tuple(
        Indicator(r.id, r.unit_id, r.name, r.unit_of_measure, r.capability, r.potentiality,
                  r.product_code, bool(r.higher_is_better))
        for r in conn.execute(sa.select(t.indicators).order_by(t.indicators.c.position)))
    districts = tuple(District(r.id, r.name, r.households, r.people, r.children,
                               r.pregnant_or_nursing)
                      for r in conn.execute(sa.select(t.districts).order_by(t.districts.c.id)))
    producer = {r.code: r.producer_unit for r in prows if r.producer_unit}
    return Economy(name or "economy", UnitTree(units),
                   tuple(Product(r.code, r.name, r.unit_of_measure) for r in prows), io,
                   indicators, districts, producer)
