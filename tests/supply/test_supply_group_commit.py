"""Hand-outs in batches and through group commit: a batch answers exactly as the requests
applied one by one (checked against a plain-Python model of entitlements and keys), a
failed request writes nothing, concurrent submissions share commits and lose nothing."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cybersyn.errors import Conflict, CybersynError, InvalidInput, NotFound
from cybersyn.store import Store
from cybersyn.store.group_commit import GroupCommit, Job
from cybersyn.supply import handouts, ledger
from cybersyn.supply import tables as t
from cybersyn.supply.handouts import HandOutRequest, hand_out_batch, new_group_commit
from cybersyn.testing import assert_ledger_balanced, private_pg_schema

PG_URL = os.environ.get("CYBERSYN_TEST_PG_URL")

AT = datetime(1972, 10, 12, 15, 0, tzinfo=UTC)
P = "1972-10"
ENTITLED = {"milk": 5, "flour": 3}
_example = itertools.count()


@pytest.fixture
def shop(store: Store) -> Store:
    with store.write() as conn:
        ledger.add_point(conn, "P1", "D01", "Almacén 1")
        ledger.add_point(conn, "P2", "D01", "Almacén 2")
        ledger.set_good(conn, "milk", "Milk", "litre", 120)
        ledger.set_good(conn, "flour", "Flour", "kg", 90)
    return store


def _as_one_group(gc: GroupCommit[HandOutRequest, ledger.HandOut], store: Store,
                  requests: list[HandOutRequest], out: list[object]) -> None:
    """Submit every request from its own thread while gc's only slot is taken, then hand
    the whole queue to its oldest caller, as a finishing leader does; out[i] = answer i."""
    def client(i: int) -> None:
        out[i] = gc.submit(store, requests[i])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(requests))]
    for th in threads:
        th.start()
    while len(gc._queue) < len(requests):
        threading.Event().wait(0.001)
    with gc._lock:
        group = gc._take()
        group[0].group = group
        group[0].wake.release()
    for th in threads:
        th.join()


def _cards(store: Store, prefix: str, n: int) -> list[str]:
    """n fresh cards with ENTITLED of each good for P (rows written directly)."""
    cards = [f"{prefix}c{i}" for i in range(n)]
    with store.write() as conn:
        conn.execute(t.entitlements.insert(), [
            {"card_id": c, "good": g, "period": P, "entitled": q, "handed_out": 0}
            for c in cards for g, q in ENTITLED.items()])
    return cards


def model(requests: list[HandOutRequest], known: set[str]) -> list[tuple[str, object]]:
    """Independent answer: apply the requests in order to plain dicts."""
    left = {(r.card, g): q for r in requests for g, q in ENTITLED.items() if r.card in known}
    used: dict[str, HandOutRequest] = {}
    out: list[tuple[str, object]] = []
    for r in requests:
        if r.good not in ENTITLED:
            out.append(("NotFound", None))
        elif r.key in used:
            o = used[r.key]
            same = (o.card, o.good, o.quantity, o.point) == (r.card, r.good, r.quantity,
                                                             r.point)
            out.append(("replay", left[(r.card, r.good)]) if same else ("Conflict", None))
        elif (r.card, r.good) not in left or left[(r.card, r.good)] < r.quantity:
            out.append(("InvalidInput", None))
        else:
            left[(r.card, r.good)] -= r.quantity
            used[r.key] = r
            out.append(("new", left[(r.card, r.good)]))
    return out


def answer(o: object) -> tuple[str, object]:
    if isinstance(o, ledger.HandOut):
        return ("replay" if o.replayed else "new", o.remaining)
    for cls in (NotFound, Conflict, InvalidInput):
        if isinstance(o, cls):
            return (cls.__name__, None)
    raise AssertionError(f"unexpected outcome {o!r}")


REQUEST = st.tuples(st.integers(0, 5), st.integers(0, 3), st.sampled_from(
    ["milk", "milk", "flour", "bread"]), st.integers(1, 4), st.sampled_from(["P1", "P2"]))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(REQUEST, min_size=1, max_size=14))
def test_batch_answers_as_one_by_one(shop: Store, reqs: list[tuple[int, int, str, int, str]]
                                     ) -> None:
    """Duplicate keys (replays and conflicts), the same card twice, refusals, unknown goods
    and cards without entitlements, all in one transaction."""
    prefix = f"x{next(_example)}"
    cards = _cards(shop, prefix, 3)  # card index 3 has no entitlement
    requests = [HandOutRequest(f"{prefix}k{k}", f"{prefix}c{c}", g, q, p, P, AT, "t")
                for k, c, g, q, p in reqs]
    with shop.write() as conn:
        got = hand_out_batch(conn, requests)
    assert [answer(o) for o in got] == model(requests, set(cards))
    with shop.read() as conn:
        rows = conn.execute(sa.select(t.journal.c.idem_key, t.journal.c.quantity).where(
            t.journal.c.idem_key.like(f"{prefix}k%"))).all()
        moved = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(
            t.entitlements.c.handed_out), 0)).where(
            t.entitlements.c.card_id.like(f"{prefix}c%"))).scalar_one()
    new = [r for r, o in zip(requests, got, strict=True) if answer(o)[0] == "new"]
    assert sorted(k for k, _ in rows) == sorted(r.key for r in new)
    assert moved == sum(q for _, q in rows) == sum(r.quantity for r in new)
    with shop.read() as conn:
        assert_ledger_balanced(conn, P)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(REQUEST, min_size=1, max_size=14))
def test_group_transaction_answers_as_one_by_one(
        shop: Store, reqs: list[tuple[int, int, str, int, str]]) -> None:
    """The group commit's own write path (on PostgreSQL one autocommitted statement, then
    one transaction for what it leaves) answers as the requests applied in order."""
    prefix = f"y{next(_example)}"
    cards = _cards(shop, prefix, 3)
    requests = [HandOutRequest(f"{prefix}k{k}", f"{prefix}c{c}", g, q, p, P, AT, "t")
                for k, c, g, q, p in reqs]
    jobs: list[Job[HandOutRequest, ledger.HandOut]] = [Job(r) for r in requests]
    handouts.writer(shop)(shop, jobs)
    assert [answer(j.answer) for j in jobs] == model(requests, set(cards))
    with shop.read() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(t.journal).where(
            t.journal.c.idem_key.like(f"{prefix}k%"))).scalar_one()
        assert_ledger_balanced(conn, P)
    assert n == sum(1 for j in jobs if answer(j.answer)[0] == "new")


def _in_group(shop: Store, requests: list[HandOutRequest]) -> list[object]:
    """The group commit's write path (one autocommitted statement, then the general path
    for what it leaves)."""
    jobs: list[Job[HandOutRequest, ledger.HandOut]] = [Job(r) for r in requests]
    handouts.writer(shop)(shop, jobs)
    return [j.answer for j in jobs]


@contextmanager
def _pg_shop() -> Iterator[Store]:
    """A migrated store in a private PostgreSQL schema, selling milk and flour."""
    with private_pg_schema(PG_URL or "") as url:
        shop = Store(url)
        try:
            shop.migrate()
            with shop.write() as conn:
                ledger.set_good(conn, "milk", "Milk", "litre", 120)
                ledger.set_good(conn, "flour", "Flour", "kg", 90)
            yield shop
        finally:
            shop.close()


def _in_transaction(shop: Store, requests: list[HandOutRequest]) -> list[object]:
    """`hand_out_batch` in the caller's transaction (the statement under a savepoint)."""
    with shop.write() as conn:
        return list(hand_out_batch(conn, requests))


@pytest.mark.pg
@pytest.mark.skipif(not PG_URL, reason="needs CYBERSYN_TEST_PG_URL")
@pytest.mark.parametrize("path", [_in_group, _in_transaction], ids=["group", "transaction"])
def test_pg_batch_key_taken_concurrently_moves_nothing(
        path: Callable[[Store, list[HandOutRequest]], list[object]]) -> None:
    """A key inserted by a concurrent transaction after the batch statement's snapshot:
    the statement waits on it, then fails whole (nothing written, not even the other
    request's entitlement move); the general path then answers the key as a reuse for a
    different movement and hands out the other request."""
    with _pg_shop() as shop:
        c1, c2 = _cards(shop, "r", 2)
        other = shop.engine.connect()
        tx = other.begin()
        ledger.hand_out(other, "K", c1, "milk", 1, "P1", P, AT, "t")  # not committed
        got: list[object] = []

        def batch() -> None:
            got.extend(path(shop, [HandOutRequest("K", c2, "milk", 2, "P1", P, AT, "t"),
                                   HandOutRequest("L", c2, "flour", 1, "P1", P, AT, "t")]))

        th = threading.Thread(target=batch)
        th.start()
        waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                          "'Lock' AND query LIKE '%supply_journal%'")
        while True:  # until the batch waits on our key (a new transaction each look:
            with shop.read() as conn:  # pg_stat_activity is fixed within one)
                if conn.execute(waiting).scalar_one():
                    break
            threading.Event().wait(0.01)
        tx.commit()
        other.close()
        th.join()
        assert isinstance(got[0], Conflict)
        assert isinstance(got[1], ledger.HandOut) and got[1].remaining == 2
        with shop.read() as conn:
            left = {(r.card_id, r.good): r.handed_out for r in conn.execute(
                sa.select(t.entitlements)).all()}
            journal = conn.execute(sa.select(t.journal.c.idem_key, t.journal.c.card_id)
                                   ).all()
        assert left[(c1, "milk")] == 1 and left[(c2, "milk")] == 0
        assert left[(c2, "flour")] == 1
        assert sorted(tuple(r) for r in journal) == [("K", c1), ("L", c2)]


@pytest.mark.pg
@pytest.mark.skipif(not PG_URL, reason="needs CYBERSYN_TEST_PG_URL")
def test_pg_batch_probes_the_journal_by_index_as_it_grows() -> None:
    """The batch statement's generic plan (what a prepared statement reuses), made while
    the journal is empty and still used after 3,000 rows (a fresh ledger before
    autovacuum analyses it), looks each key up in the journal's unique index on the
    connections the group commit holds; it used to hash a scan of the whole journal."""
    with _pg_shop() as shop:
        cards = _cards(shop, "s", 300)
        with shop.write() as conn:
            conn.execute(sa.text("ANALYZE supply_entitlements; ANALYZE supply_journal"))
        reqs = [HandOutRequest(f"k{i}", c, "milk", 1, "P1", P, AT, "t")
                for i, c in enumerate(cards[:30])]
        params = ([r.key for r in reqs], [r.at.replace(tzinfo=None) for r in reqs],
                  [r.period for r in reqs], [r.point for r in reqs],
                  [r.good for r in reqs], [r.quantity for r in reqs],
                  [r.card for r in reqs], [r.actor for r in reqs])
        sql = handouts._PG_BATCH
        for n in range(1, 9):
            sql = sql.replace("%s", f"${n}", 1)
        explain = ("EXPLAIN EXECUTE batch(%s::varchar[], %s::timestamp[], %s::varchar[], "
                   "%s::varchar[], %s::varchar[], %s::bigint[], %s::varchar[], "
                   "%s::varchar[])")
        with handouts._Connections(shop.engine).connection() as raw:
            raw.execute("SET plan_cache_mode = force_generic_plan")
            raw.execute(f"PREPARE batch AS {sql}")
            psycopg.ClientCursor(raw).execute(explain, params)  # plan made and kept
            with shop.write() as conn:
                conn.execute(t.journal.insert(), [
                    {"idem_key": f"old{i}", "at": AT, "period": P, "kind": "handout",
                     "point_id": "P1", "good": "milk", "quantity": 1,
                     "debit": "household:x", "credit": "point:P1", "card_id": "x",
                     "price_cents": 120, "actor": "t"} for i in range(3000)])
            plan = "\n".join(row[0] for row in psycopg.ClientCursor(raw).execute(
                explain, params))
            raw.execute("DEALLOCATE batch")
        assert "supply_journal_idem_key" in plan, plan
        assert "Seq Scan on supply_journal" not in plan, plan
        assert "Hash Anti Join" not in plan, plan


def test_failed_requests_write_nothing(shop: Store) -> None:
    cards = _cards(shop, "f", 1)
    ok = HandOutRequest("f1", cards[0], "milk", 5, "P1", P, AT, "t")
    bad = [HandOutRequest("f2", cards[0], "milk", 1, "P1", P, AT, "t"),  # nothing left
           HandOutRequest("f1", cards[0], "milk", 4, "P1", P, AT, "t"),  # key reused
           HandOutRequest("f3", cards[0], "sugar", 1, "P1", P, AT, "t"),  # unknown good
           HandOutRequest("", cards[0], "milk", 1, "P1", P, AT, "t"),
           HandOutRequest("f4", cards[0], "milk", 1, "P1", "1972-13", AT, "t")]
    with shop.write() as conn:
        got = hand_out_batch(conn, [ok, *bad])
    assert isinstance(got[0], ledger.HandOut) and got[0].remaining == 0
    assert all(isinstance(o, CybersynError) for o in got[1:])
    assert "0 milk left" in str(got[1]) and isinstance(got[2], Conflict)
    with shop.read() as conn:
        keys = conn.execute(sa.select(t.journal.c.idem_key)).scalars().all()
    assert keys == ["f1"]


def test_concurrent_submissions_share_commits_and_lose_nothing(shop: Store) -> None:
    """40 threads, 5 hand-outs each: to one card per thread (within its entitlement), to
    one shared card (5 litres of milk for 40 requests of 1: exactly 5 succeed) and retries
    of an earlier key (replays). Answers only after commit: everything answered is there."""
    cards = _cards(shop, "g", 41)
    shared = cards[40]
    gc = new_group_commit(shop)
    answers: dict[str, list[object]] = {}
    start = threading.Barrier(40)

    def client(w: int) -> None:
        mine: list[object] = []
        start.wait()
        for k, (card, good) in enumerate([(cards[w], "milk"), (cards[w], "flour"),
                                           (shared, "milk"), (cards[w], "milk"),
                                           (cards[w], "milk")]):
            key = f"g{w}-{k}" if k < 4 else f"g{w}-0"  # the 5th retries the 1st
            try:
                mine.append(gc.submit(shop, HandOutRequest(key, card, good, 1, "P1", P, AT,
                                                           "t")))
            except CybersynError as e:
                mine.append(e)
        answers[f"w{w}"] = mine

    threads = [threading.Thread(target=client, args=(w,)) for w in range(40)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    flat = [o for a in answers.values() for o in a]
    new = [o for o in flat if isinstance(o, ledger.HandOut) and not o.replayed]
    shared_ok = [o for o in new if o.card_id == shared]
    assert len(shared_ok) == ENTITLED["milk"]
    assert sum(isinstance(o, InvalidInput) for o in flat) == 40 - ENTITLED["milk"]
    assert all(isinstance(a[4], ledger.HandOut) and a[4].replayed and a[4].id == a[0].id
               for a in answers.values())
    assert gc.handled == 200 and gc.groups <= 200
    with shop.read() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(t.journal)).scalar_one()
        assert_ledger_balanced(conn, P)
    assert n == len(new) == 40 * 3 + ENTITLED["milk"]


def test_one_leader_commits_the_queued_group(shop: Store) -> None:
    """Deterministic grouping: while the only slot is taken, 8 submissions queue; freed,
    one leader writes all 8 in one transaction."""
    cards = _cards(shop, "q", 8)
    gc = new_group_commit(shop, parallel=1)
    gc._leading = 1  # the only slot is taken
    out: list[object] = [None] * 8

    _as_one_group(gc, shop, [HandOutRequest(f"q{i}", cards[i], "milk", 2, "P1", P, AT, "t")
                             for i in range(8)], out)
    assert gc.groups == 1 and gc.handled == 8
    assert all(isinstance(o, ledger.HandOut) and o.remaining == 3 for o in out)


def test_a_failed_group_is_committed_one_by_one(shop: Store,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A database error in a group's transaction (e.g. a deadlock PostgreSQL broke by
    aborting us) rolls the group back; each hand-out is then committed alone."""
    cards = _cards(shop, "d", 3)
    # the group's writes: one transaction (SQLite), one statement (PostgreSQL)
    name = "hand_out_batch" if shop.is_sqlite else "_pg_batch"
    real = getattr(handouts, name)
    calls: list[int] = []

    def flaky(conn: object, reqs: list[HandOutRequest], *rest: object) -> object:
        calls.append(len(reqs))
        if len(reqs) > 1 and not shop.is_sqlite:
            raise sa.exc.OperationalError("UPDATE", {}, Exception("deadlock detected"))
        out = real(conn, reqs, *rest)
        if len(reqs) > 1:
            raise sa.exc.OperationalError("UPDATE", {}, Exception("deadlock detected"))
        return out

    monkeypatch.setattr(handouts, name, flaky)
    gc = new_group_commit(shop, parallel=1)
    gc._leading = 1  # the only slot is taken
    out: list[object] = [None] * 3
    _as_one_group(gc, shop, [HandOutRequest(f"d{i}", cards[i], "flour", 3, "P1", P, AT, "t")
                             for i in range(3)], out)
    assert calls == [3, 1, 1, 1]
    assert all(isinstance(o, ledger.HandOut) and not o.replayed for o in out)
    with shop.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.journal)).scalar_one() == 3
