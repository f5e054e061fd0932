"""Hand-outs, one or many in a transaction, and group commit for concurrent requests.

`hand_out_batch(conn, requests)` applies hand-outs in the caller's transaction and answers,
per request, the `HandOut` or the domain error (refused, unknown good, key reused) it
would have got alone. A request that fails writes nothing, so the others in the same
transaction still commit: the entitlement is moved by a guarded UPDATE before the journal
row is inserted, and a failed check raises before any write.

On PostgreSQL the common case is one statement for the whole batch (`_PG_BATCH`: arrays
`unnest`ed; a guarded UPDATE moves the entitlements that cover their hand-out and whose
key is unused, locking the rows in (card, good, period) order; the journal rows of exactly
those are inserted). It is complete on its own, so the group commit runs it autocommitted
on a connection held for it: one round trip with its durable commit. Requests it does not
settle (replays, refusals, unknown goods, a key taken meanwhile by a concurrent
transaction) go through the general path one by one; a key or card+good repeated in the
batch makes rounds of such statements (`_settle`).

`submit(store, request)` is what the API calls: concurrent requests are gathered into one
transaction, and each caller is answered only after the commit that holds its hand-out
(`cybersyn.store.group_commit`, shared with the intake). A durable commit
costs a WAL flush; sharing it among a group is what lifts hand-outs per second above one
per flush.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
import sqlalchemy as sa

from cybersyn.errors import Conflict, CybersynError, InvalidInput
from cybersyn.store import Store
from cybersyn.store.group_commit import GroupCommit, Job, PerStore, Write
from cybersyn.supply import tables as t
from cybersyn.supply.ledger import HandOut, _check_period, _refuse, _require_good

MAX_GROUP = 256
PG_PARALLEL = 3


@dataclass(frozen=True)
class HandOutRequest:
    """One hand-out: `quantity` whole units of `good` to household `card` at `point`."""

    key: str
    card: str
    good: str
    quantity: int
    point: str
    period: str
    at: datetime
    actor: str


Outcome = HandOut | CybersynError


def hand_out_batch(conn: sa.Connection, requests: list[HandOutRequest]) -> list[Outcome]:
    """Apply `requests` in `conn`'s transaction; per request its HandOut or its error
    (nothing written for a failed one): the same answers as applying them one by one in
    list order."""
    out: list[Outcome | None] = [None] * len(requests)
    todo = _checked(requests, out)
    if conn.dialect.name == "postgresql":
        _settle(conn, requests, todo, out)
    else:
        for i, o in _one_by_one(conn, requests, todo).items():
            out[i] = o
    return [o for o in out if o is not None]


def _checked(requests: list[HandOutRequest], out: list[Outcome | None]) -> list[int]:
    """Indices of the requests that pass `_check`; the others' errors go into `out`."""
    todo: list[int] = []
    for i, r in enumerate(requests):
        try:
            _check(r)
            todo.append(i)
        except CybersynError as e:
            out[i] = e
    return todo


def _one_by_one(conn: sa.Connection, requests: list[HandOutRequest], idx: list[int]
                ) -> dict[int, Outcome]:
    """The general path for requests[i], i in idx, in order: each its HandOut or error."""
    answers: dict[int, Outcome] = {}
    for i in idx:
        try:
            answers[i] = _general(conn, requests[i])
        except CybersynError as e:
            answers[i] = e
    return answers


def _settle(conn: sa.Connection, requests: list[HandOutRequest], todo: list[int],
            out: list[Outcome | None]) -> None:
    """PostgreSQL, in `conn`'s transaction: rounds of one batch statement each over the
    requests sharing no key and no entitlement row with an earlier one still to do
    (`_distinct`); what a round's statement leaves (replays, refusals, unknown goods, a key
    taken concurrently) goes through the general path before the next round. A round's
    requests are independent of each other and precede, for every key and row they touch,
    the requests of later rounds, so the answers equal applying them in list order."""
    raw = _driver(conn)
    raw.execute(f"SET LOCAL {_INDEX_PROBES}")
    while todo:
        first, todo = _distinct(requests, todo)
        try:
            with conn.begin_nested():  # a key taken concurrently rolls back this only
                done = _pg_batch(raw, [requests[i] for i in first], first)
        except psycopg.errors.UniqueViolation:
            done = {}
        for i, h in done.items():
            out[i] = h
        left = [i for i in first if out[i] is None]
        for i, o in _one_by_one(conn, requests, left).items():
            out[i] = o


def _check(r: HandOutRequest) -> None:
    if not r.key:
        raise InvalidInput("an idempotency key is required")
    if r.quantity <= 0:
        raise InvalidInput(f"quantity must be > 0, got {r.quantity}")
    _check_period(r.period)


def _distinct(requests: list[HandOutRequest], idx: list[int]) -> tuple[list[int], list[int]]:
    """Split into requests sharing no key and no entitlement row with any earlier request
    (one statement settles them), and the rest. Outcomes depend only on a request's key
    and row, so settling the first group before the rest answers exactly as applying all
    in order: every request touching a key or row of a deferred one is deferred too."""
    seen: set[tuple[str, ...]] = set()
    first: list[int] = []
    rest: list[int] = []
    for i in idx:
        r = requests[i]
        mine = {("key", r.key), ("row", r.card, r.good, r.period)}
        (rest if mine & seen else first).append(i)
        seen |= mine
    return first, rest


_PG_BATCH = """
WITH args AS (
  SELECT * FROM unnest(%s::varchar[], %s::timestamp[], %s::varchar[], %s::varchar[],
                       %s::varchar[], %s::bigint[], %s::varchar[], %s::varchar[])
    AS a(key, at, period, point, good, qty, card, actor)),
upd AS (
  UPDATE supply_entitlements e SET handed_out = e.handed_out + a.qty
  FROM args a JOIN supply_goods g ON g.code = a.good
  WHERE e.card_id = a.card AND e.good = a.good AND e.period = a.period
    AND e.handed_out + a.qty <= e.entitled
    AND NOT EXISTS (SELECT 1 FROM supply_journal j WHERE j.idem_key = a.key OFFSET 0)
  RETURNING a.*, g.price_cents, e.entitled - e.handed_out AS remaining),
ins AS (
  INSERT INTO supply_journal (idem_key, at, period, kind, point_id, good, quantity, debit,
                              credit, card_id, price_cents, actor)
  SELECT key, at, period, 'handout', point, good, qty, 'household:' || card,
         'point:' || point, card, price_cents * qty, actor FROM upd
  RETURNING idem_key, id)
SELECT idem_key, id, NULL::integer FROM ins
UNION ALL SELECT key, NULL::bigint, remaining FROM upd
"""


#: Set on every connection that runs `_PG_BATCH`. Its key check is a per-request index
#: probe (the OFFSET 0 keeps it a correlated subplan instead of an anti join); with the
#: journal's statistics from when it was small (a fresh or emptied ledger, until autovacuum
#: analyses it) the planner otherwise hashed a scan of the whole journal per statement,
#: or scanned it per request: 1 -> 11 ms (or 3 -> 100 ms) a statement of 30 hand-outs
#: over 50,000 rows, against a flat 0.4-0.6 ms of backend CPU with index probes.
_INDEX_PROBES = "enable_seqscan = off"


def _pg_batch(raw: psycopg.Connection[Any], reqs: list[HandOutRequest], idx: list[int]
              ) -> dict[int, HandOut]:
    """The batch (distinct keys and entitlement rows) in one statement on the psycopg
    connection `raw`; {idx[n]: HandOut} for the requests it handed out, the rest untouched
    (answered by the general path). Raises UniqueViolation, having written nothing, when
    a concurrent transaction took one of the keys after the statement's snapshot.

    The statement is complete on its own, so it may run as its own transaction (autocommit:
    one round trip, the commit included). A guarded UPDATE moves the entitlements that
    cover their hand-out and whose key is unused (on a row another transaction changed
    meanwhile, READ COMMITTED re-checks the guard against its newest version, so the
    check is exact under concurrency); the journal rows of exactly those are inserted.
    Rows are locked in (card, good, period) order, the same in every group."""
    order = sorted(range(len(reqs)), key=lambda n: (reqs[n].card, reqs[n].good,
                                                     reqs[n].period))
    rs = [reqs[n] for n in order]
    params = ([r.key for r in rs], [r.at.astimezone(UTC).replace(tzinfo=None) for r in rs],
              [r.period for r in rs], [r.point for r in rs], [r.good for r in rs],
              [int(r.quantity) for r in rs], [r.card for r in rs], [r.actor for r in rs])
    ids: dict[str, int] = {}
    left: dict[str, int] = {}
    for key, new_id, remaining in raw.execute(_PG_BATCH, params, prepare=True).fetchall():
        if new_id is None:
            left[key] = remaining
        else:
            ids[key] = new_id
    done: dict[int, HandOut] = {}
    for n, r in enumerate(reqs):
        if r.key in ids:
            done[idx[n]] = HandOut(ids[r.key], r.card, r.good, r.quantity, left[r.key], False)
    return done


def _driver(conn: sa.Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under `conn` (its transaction is conn's)."""
    return cast("psycopg.Connection[Any]", conn.connection.driver_connection)


def _pg_group(store: Store, conns: _Connections, requests: list[HandOutRequest],
              out: list[Outcome | None]) -> None:
    """Fill `out` for `requests` on PostgreSQL. Common case (no key and no card+good twice
    in the group): one autocommitted statement on a held connection (one round trip and
    one durable commit for the whole group), then what it leaves (replays, refusals,
    unknown goods, a key taken concurrently) in one ordinary transaction; `out` holds the
    first part's answers before the second starts, so a failure there leaves the committed
    ones answered. With a repeated key or row: the rounds of `_settle` in one transaction
    (answers set only after its commit)."""
    todo = _checked(requests, out)
    if not todo:
        return
    first, rest = _distinct(requests, todo)
    if rest:  # a key or card+good twice: rounds in one transaction, one commit
        got: list[Outcome | None] = list(out)
        with store.write() as conn:
            _settle(conn, requests, todo, got)
        out[:] = got
        return
    with conns.connection() as raw:
        try:
            done = _pg_batch(raw, [requests[i] for i in first], first)
        except psycopg.errors.UniqueViolation:  # nothing written: all by the general path
            done = {}
    for i, h in done.items():
        out[i] = h
    left = [i for i in first if out[i] is None]
    if not left:
        return
    with store.write() as conn:
        answers = _one_by_one(conn, requests, left)
    for i, o in answers.items():
        out[i] = o


def _general(conn: sa.Connection, r: HandOutRequest) -> HandOut:
    """One hand-out on any database; raises (having written nothing) when it fails."""
    price = _require_good(conn, r.good)
    old = _journal_row(conn, r.key)
    if old is not None:
        return _replay(conn, old, r)
    e = t.entitlements
    where = (e.c.card_id == r.card, e.c.good == r.good, e.c.period == r.period)
    left = conn.execute(e.update().where(*where, e.c.handed_out + r.quantity <= e.c.entitled)
                        .values(handed_out=e.c.handed_out + r.quantity)
                        .returning(e.c.entitled - e.c.handed_out)).scalar_one_or_none()
    if left is None:
        _refuse(conn, r.card, r.good, r.period, r.quantity)
    new = _insert_once(conn, r, price)
    if new is None:  # a concurrent transaction used the key first: undo, answer as a retry
        conn.execute(e.update().where(*where).values(handed_out=e.c.handed_out - r.quantity))
        return _replay(conn, _journal_row(conn, r.key), r)
    return HandOut(new, r.card, r.good, r.quantity, int(left or 0), False)


def _journal_row(conn: sa.Connection, key: str) -> Any:
    return conn.execute(sa.select(t.journal).where(t.journal.c.idem_key == key)).first()


def _insert_once(conn: sa.Connection, r: HandOutRequest, price: int) -> int | None:
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(t.journal).values(
        idem_key=r.key, at=r.at, period=r.period, kind="handout", point_id=r.point,
        good=r.good, quantity=int(r.quantity), debit=f"household:{r.card}",
        credit=f"point:{r.point}", card_id=r.card, price_cents=price * r.quantity,
        actor=r.actor).on_conflict_do_nothing(index_elements=["idem_key"])
    return conn.execute(stmt.returning(t.journal.c.id)).scalar_one_or_none()


def _replay(conn: sa.Connection, old: Any, r: HandOutRequest) -> HandOut:
    same = (old.kind, old.point_id, old.good, old.quantity, old.debit, old.credit) == (
        "handout", r.point, r.good, r.quantity, f"household:{r.card}", f"point:{r.point}")
    if not same:
        raise Conflict(f"idempotency key {r.key!r} was already used for a different movement")
    e = t.entitlements
    left = conn.execute(sa.select(e.c.entitled - e.c.handed_out).where(
        e.c.card_id == r.card, e.c.good == r.good, e.c.period == r.period)).scalar_one()
    return HandOut(int(old.id), r.card, r.good, r.quantity, int(left), True)


# -- group commit ----------------------------------------------------------------------------
class _Connections:
    """Autocommit psycopg connections held for the group commit's statements (as many as
    groups in flight): no pool checkout and ping per group, and each connection keeps its
    prepared statement. A connection that raised is closed, not reused; all are closed
    when the store's engine is disposed (`Store.close`)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._dialect = engine.dialect
        self._args = self._dialect.create_connect_args(engine.url)
        self._idle: list[psycopg.Connection[Any]] = []
        sa.event.listen(engine, "engine_disposed", self.close)
        weakref.finalize(self, _close_all, self._idle)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = cast("psycopg.Connection[Any]",
                        self._dialect.connect(*self._args[0], **self._args[1]))
            conn.autocommit = True
            conn.execute(f"SET {_INDEX_PROBES}")
        try:
            yield conn
        except BaseException:
            conn.close()
            raise
        self._idle.append(conn)

    def close(self, *_: object) -> None:
        _close_all(self._idle)


def _close_all(conns: list[psycopg.Connection[Any]]) -> None:
    while conns:
        conns.pop().close()


HandOutJob = Job[HandOutRequest, HandOut]


def _sqlite_write(store: Store, jobs: list[HandOutJob]) -> None:
    """One transaction for the group."""
    with store.write() as conn:
        outcomes = hand_out_batch(conn, [j.item for j in jobs])
    for j, o in zip(jobs, outcomes, strict=True):
        j.settle(o)


def _pg_writer(store: Store) -> Write[HandOutRequest, HandOut]:
    conns = _Connections(store.engine)

    def write(store: Store, jobs: list[HandOutJob]) -> None:
        """`_pg_group`; answers set only for what committed."""
        got: list[Outcome | None] = [None] * len(jobs)
        try:
            _pg_group(store, conns, [j.item for j in jobs], got)
        finally:
            for j, o in zip(jobs, got, strict=True):
                if o is not None:
                    j.settle(o)

    return write


def writer(store: Store) -> Write[HandOutRequest, HandOut]:
    """The group commit's write for `store`: on SQLite one transaction, on PostgreSQL
    `_pg_group` on connections held for it."""
    return _sqlite_write if store.is_sqlite else _pg_writer(store)


def new_group_commit(store: Store, parallel: int | None = None
                     ) -> GroupCommit[HandOutRequest, HandOut]:
    """A hand-out group commit for `store` (`parallel` groups in flight: by default 1 on
    SQLite, whose one writer serialises them anyway, `PG_PARALLEL` on PostgreSQL)."""
    if parallel is None:
        parallel = 1 if store.is_sqlite else PG_PARALLEL
    return GroupCommit(writer(store), parallel=parallel, max_group=MAX_GROUP,
                       busy="the database is busy or unavailable; the hand-out was not "
                            "stored, retry", retry_on=(sa.exc.DBAPIError, psycopg.Error))


#: The store's hand-out group commit (one per Store object).
group_commit = PerStore(new_group_commit)


def submit(store: Store, request: HandOutRequest) -> HandOut:
    """Hand out through the store's group commit (see the module docstring)."""
    return group_commit(store).submit(store, request)
