"""Hand-outs, one or many in a transaction, and group commit for concurrent requests.

`hand_out_batch(conn, requests)` applies hand-outs in the caller's transaction and answers,
per request, the `HandOut` or the domain error (refused, unknown good, key reused) it
would have got alone. A request that fails writes nothing, so the others in the same
transaction still commit: the entitlement is moved by a guarded UPDATE before the journal
row is inserted, and a failed check raises before any write.

On PostgreSQL the common case is one statement for the whole batch (`_PG_BATCH`: arrays
`unnest`ed; skip keys already used; lock the entitlement rows in key order; insert the
journal rows that fit the locked entitlement, ON CONFLICT DO NOTHING; move the entitlement
for the rows inserted only). It is complete on its own, so the group commit runs it
autocommitted: one round trip with its durable commit. Requests it does not settle
(replays, refusals, unknown goods, a key taken meanwhile by a concurrent transaction) go
through the general path one by one; a key or card+good repeated in the batch makes
rounds of such statements (`_settle`).

`submit(store, request)` is what the API calls: concurrent requests are gathered into one
transaction, and each caller is answered only after the commit that holds its hand-out
(leader/follower group commit, as `cybersyn.intake.commit` does for observation batches,
and as write-ahead logs group their flushes). A durable commit costs a WAL flush; sharing
it among a group is what lifts hand-outs per second above one per flush.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from cybersyn.errors import Conflict, CybersynError, InvalidInput
from cybersyn.store import Store
from cybersyn.supply import tables as t
from cybersyn.supply.ledger import HandOut, _check_period, _refuse, _require_good

MAX_GROUP = 256
PG_PARALLEL = 3
RETRIES = 3
log = logging.getLogger(__name__)


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
    while todo:
        first, todo = _distinct(requests, todo)
        for i, h in _pg_batch(conn, [requests[i] for i in first], first).items():
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


_PG_BATCH = sa.text("""
WITH args AS (
  SELECT * FROM unnest(CAST(:key AS varchar[]), CAST(:at AS timestamp[]),
                       CAST(:period AS varchar[]), CAST(:point AS varchar[]),
                       CAST(:good AS varchar[]), CAST(:qty AS bigint[]),
                       CAST(:card AS varchar[]), CAST(:actor AS varchar[]))
    AS a(key, at, period, point, good, qty, card, actor)),
fresh AS (
  SELECT a.*, g.price_cents FROM args a JOIN supply_goods g ON g.code = a.good
  WHERE NOT EXISTS (SELECT 1 FROM supply_journal j WHERE j.idem_key = a.key)),
locked AS (
  SELECT f.*, e.entitled, e.handed_out FROM fresh f JOIN supply_entitlements e
    ON e.card_id = f.card AND e.good = f.good AND e.period = f.period
  ORDER BY e.card_id, e.good, e.period FOR UPDATE OF e),
ins AS (
  INSERT INTO supply_journal (idem_key, at, period, kind, point_id, good, quantity, debit,
                              credit, card_id, price_cents, actor)
  SELECT key, at, period, 'handout', point, good, qty, 'household:' || card,
         'point:' || point, card, price_cents * qty, actor
  FROM locked WHERE handed_out + qty <= entitled ORDER BY key
  ON CONFLICT (idem_key) DO NOTHING
  RETURNING id, idem_key, card_id, good, period, quantity),
upd AS (
  UPDATE supply_entitlements e SET handed_out = e.handed_out + i.quantity FROM ins i
  WHERE e.card_id = i.card_id AND e.good = i.good AND e.period = i.period
  RETURNING i.idem_key, i.id, e.entitled - e.handed_out AS remaining)
SELECT idem_key, id, remaining FROM upd
""")


def _pg_batch(conn: sa.Connection, reqs: list[HandOutRequest], idx: list[int]
              ) -> dict[int, HandOut]:
    """The batch (distinct keys and entitlement rows) in one statement; {index: HandOut}
    for the requests it handed out, the rest untouched (answered by the general path).

    The statement is complete on its own, so it may run as its own transaction (autocommit:
    one round trip, the commit included): it locks the entitlement rows in key order
    (FOR UPDATE reads their latest committed state), inserts the journal rows whose
    hand-out fits the locked remaining entitlement (ON CONFLICT DO NOTHING: a key a
    concurrent transaction took meanwhile inserts nothing) and moves the entitlement only
    for the journal rows actually inserted. A request is thus either fully written or not
    at all, whatever runs concurrently."""
    params: dict[str, list[Any]] = {
        "key": [r.key for r in reqs],
        "at": [r.at.astimezone(UTC).replace(tzinfo=None) for r in reqs],
        "period": [r.period for r in reqs], "point": [r.point for r in reqs],
        "good": [r.good for r in reqs], "qty": [int(r.quantity) for r in reqs],
        "card": [r.card for r in reqs], "actor": [r.actor for r in reqs]}
    where = {r.key: n for n, r in enumerate(reqs)}
    done: dict[int, HandOut] = {}
    for key, new_id, remaining in conn.execute(_PG_BATCH, params):
        n = where[key]
        r = reqs[n]
        done[idx[n]] = HandOut(int(new_id), r.card, r.good, r.quantity, int(remaining), False)
    return done


def _pg_group(store: Store, requests: list[HandOutRequest], out: list[Outcome | None]
              ) -> None:
    """Fill `out` for `requests` on PostgreSQL. Common case (no key and no card+good twice
    in the group): one autocommitted statement (one round trip and one durable commit for
    the whole group), then what it leaves (replays, refusals, unknown goods) in one
    ordinary transaction; `out` holds the first part's answers before the second starts,
    so a failure there leaves the committed ones answered. With a repeated key or row: the
    rounds of `_settle` in one transaction (answers set only after its commit)."""
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
    with store.read() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for i, h in _pg_batch(conn, [requests[i] for i in first], first).items():
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
@dataclass(eq=False)
class _Job:
    request: HandOutRequest
    done: bool = False
    group: list[_Job] | None = None
    outcome: Outcome | None = None
    error: BaseException | None = None
    wake: threading.Event = field(default_factory=threading.Event)


class GroupCommit:
    """Concurrent hand-outs share transactions; `parallel` groups in flight at once (1 on
    SQLite, whose one writer serialises them anyway).

    A caller queues its job. If fewer than `parallel` groups are in flight it leads: takes
    every queued job (up to `max_group`), writes them in one transaction, commits, wakes
    their callers, and hands the next group (taken from the queue at once) to the oldest
    caller in it. Else it sleeps until its job is done or a group is handed to it. Each
    commit wakes only its own callers and the next leader. (Earlier versions woke every
    waiting thread, or made waiters pass a semaphore to learn their job was done: under
    the GIL that left ~1 job per group.)
    """

    def __init__(self, parallel: int = 1, max_group: int = MAX_GROUP) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Job] = []
        self._leading = 0
        self._parallel = parallel
        self._max = max_group
        self.groups = 0
        self.handled = 0

    def submit(self, store: Store, request: HandOutRequest) -> HandOut:
        """The hand-out, returned only after the transaction holding it commits; raises
        its domain error (nothing of it stored) or 503 if the database stays busy."""
        job = _Job(request)
        with self._lock:
            self._queue.append(job)
            if self._leading < self._parallel:
                self._leading += 1
                job.group = self._take()
        if job.group is None:
            job.wake.wait()  # done, or a group (headed by our job) was handed to us
        if job.group is not None:
            self._lead(store, job.group)
        if job.error is not None:
            raise job.error
        assert job.outcome is not None
        if isinstance(job.outcome, CybersynError):
            raise job.outcome
        return job.outcome

    def _take(self) -> list[_Job]:
        """The queue's head (called holding the lock)."""
        group = self._queue[:self._max]
        del self._queue[:self._max]
        self.groups += 1
        self.handled += len(group)
        return group

    def _lead(self, store: Store, group: list[_Job]) -> None:
        """Commit `group`, wake its callers, hand the next group to its oldest caller."""
        try:
            self._commit(store, group)
        finally:
            with self._lock:
                for j in group:
                    j.done = True
                    j.wake.set()
                if self._queue:
                    nxt = self._take()
                    nxt[0].group = nxt
                    nxt[0].wake.set()
                else:
                    self._leading -= 1

    def _commit(self, store: Store, group: list[_Job]) -> None:
        try:
            self._transaction(store, group)
        except Exception as e:  # the unanswered part did not commit: each on its own
            left = [j for j in group if j.outcome is None]
            log.info("hand-out group of %d failed (%s); committing %d one by one",
                     len(group), type(e).__name__, len(left))
            for j in left:
                self._alone(store, j)
        except BaseException as e:
            for j in group:
                if j.outcome is None:
                    j.error = e
            raise

    @staticmethod
    def _transaction(store: Store, jobs: list[_Job]) -> None:
        """Answer `jobs` (outcome set only for what committed). PostgreSQL: `_pg_group`
        (one autocommitted statement for the common case); SQLite: one transaction."""
        requests = [j.request for j in jobs]
        if store.is_sqlite:
            with store.write() as conn:
                outcomes = hand_out_batch(conn, requests)
        else:
            got: list[Outcome | None] = [None] * len(jobs)
            try:
                _pg_group(store, requests, got)
            finally:
                for j, o in zip(jobs, got, strict=True):
                    if o is not None:
                        j.outcome, j.error = o, None
            return
        for j, o in zip(jobs, outcomes, strict=True):
            j.outcome, j.error = o, None

    def _alone(self, store: Store, job: _Job) -> None:
        """Retry in a transaction of its own (a deadlock between groups, which PostgreSQL
        breaks by aborting one side, must not fail the others); 503 if it keeps failing."""
        for attempt in range(RETRIES):
            try:
                self._transaction(store, [job])
                return
            except sa.exc.DBAPIError as e:
                log.warning("hand-out failed (attempt %d): %s", attempt + 1, e.orig)
                job.error = CybersynError("the database is busy or unavailable; the hand-out "
                                          "was not stored, retry", status=503)
                time.sleep(0.02 * (attempt + 1))
            except Exception as e:  # not the database's state: retrying will not help
                job.error = e
                return


_groups: weakref.WeakKeyDictionary[Store, GroupCommit] = weakref.WeakKeyDictionary()
_groups_lock = threading.Lock()


def group_commit(store: Store) -> GroupCommit:
    """The store's hand-out group commit (one per Store object)."""
    with _groups_lock:
        if store not in _groups:
            _groups[store] = GroupCommit(1 if store.is_sqlite else PG_PARALLEL)
        return _groups[store]


def submit(store: Store, request: HandOutRequest) -> HandOut:
    """Hand out through the store's group commit (see the module docstring)."""
    return group_commit(store).submit(store, request)
