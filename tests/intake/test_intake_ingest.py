"""ingest_batch on both backends: stored once, idempotent, whole-batch rejection,
authorisation by subtree, audited revisions, concurrent batches (group commit)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from cybersyn.auth import Principal
from cybersyn.errors import CybersynError, Forbidden, InvalidInput, NotFound
from cybersyn.intake import IntakeParams, ingest_batch, revise
from cybersyn.intake.tables import observation_revisions
from cybersyn.store import audit
from cybersyn.store.schema import observations

NOW = datetime(1972, 10, 9, 12, tzinfo=UTC)
ENT = Principal("enterprise", "CL.copper.e01", frozenset({"CL.copper.e01"}))
ADMIN = Principal("admin", "t")


def rows_for(demo, n, prefix="CL.copper.e01.", day=9):
    inds = [i.id for i in demo.indicators if i.id.startswith(prefix)]
    return [{"indicator": inds[k % len(inds)], "time": f"1972-10-{day - k // len(inds):02d}",
             "value": float(k)} for k in range(n)]


def stored(store):
    with store.read() as conn:
        return {(r.indicator_id, r.observed_at): r.value
                for r in conn.execute(sa.select(observations))}


def test_stored_once_and_duplicates_counted(demo_store, demo):
    rows = rows_for(demo, 30)
    r = ingest_batch(demo_store, ENT, rows, now=NOW)
    assert (r.received, r.accepted, r.duplicates) == (30, 30, 0)
    expected = {(x["indicator"], datetime.fromisoformat(x["time"]).replace(tzinfo=UTC)):
                x["value"] for x in rows}
    assert stored(demo_store) == expected
    again = ingest_batch(demo_store, ENT, [*rows, *rows_for(demo, 5, day=1)], now=NOW)
    assert (again.accepted, again.duplicates, again.conflicts) == (5, 30, [])
    changed = [{**rows[0], "value": -1.0}]
    r = ingest_batch(demo_store, ENT, changed, now=NOW)
    assert r.accepted == 0 and r.conflicts[0]["stored"] == 0.0 and r.conflicts[0]["sent"] == -1
    assert len(stored(demo_store)) == 35


def test_idempotency_key(demo_store, demo):
    rows = rows_for(demo, 10)
    first = ingest_batch(demo_store, ENT, rows, "k1", now=NOW)
    replay = ingest_batch(demo_store, ENT, rows, "k1", now=NOW)
    assert replay.replayed and (replay.accepted, replay.duplicates) == (first.accepted, 0)
    with pytest.raises(InvalidInput, match="different batch"):
        ingest_batch(demo_store, ENT, rows[:5], "k1", now=NOW)
    # keys belong to their principal
    assert not ingest_batch(demo_store, ADMIN, rows, "k1", now=NOW).replayed


def test_bad_batch_writes_nothing(demo_store, demo):
    rows = rows_for(demo, 10)
    rows[7] = {**rows[7], "value": "nan"}
    with pytest.raises(InvalidInput) as e:
        ingest_batch(demo_store, ENT, rows, now=NOW)
    assert e.value.errors == [{"row": 7, "field": "value", "reason": "value is not finite"}]
    assert stored(demo_store) == {}


def test_reporting_outside_own_units_forbidden(demo_store, demo):
    mixed = rows_for(demo, 3) + rows_for(demo, 2, prefix="CL.coal.")
    with pytest.raises(Forbidden, match=r"CL\.coal"):
        ingest_batch(demo_store, ENT, mixed, now=NOW)
    with pytest.raises(Forbidden):
        ingest_batch(demo_store, Principal("planner", "p"), rows_for(demo, 1), now=NOW)
    assert stored(demo_store) == {}
    sector = Principal("operator", "s", frozenset({"CL.copper"}))
    assert ingest_batch(demo_store, sector, rows_for(demo, 3), now=NOW).accepted == 3


def test_batch_size_limit(demo_store, demo):
    with pytest.raises(CybersynError) as e:
        ingest_batch(demo_store, ENT, rows_for(demo, 11), now=NOW,
                     params=IntakeParams(max_rows=10))
    assert e.value.status == 413


def test_revision_audited(demo_store, demo):
    rows = rows_for(demo, 2)
    ingest_batch(demo_store, ENT, rows, now=NOW)
    body = revise(demo_store, ENT, rows[0]["indicator"], rows[0]["time"], 42, "meter misread",
                  now=NOW)
    assert (body["old_value"], body["new_value"]) == (0.0, 42.0)
    key = (rows[0]["indicator"], datetime(1972, 10, 9, tzinfo=UTC))
    assert stored(demo_store)[key] == 42.0
    with demo_store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(
            observation_revisions)).scalar_one() == 1
        (entry,) = audit.entries(conn, action="observation.revise")
        assert entry.actor == "enterprise:CL.copper.e01" and entry.payload["old_value"] == 0.0
        assert audit.verify(conn) == []
    with pytest.raises(InvalidInput, match="reason"):
        revise(demo_store, ENT, rows[0]["indicator"], rows[0]["time"], 1, "", now=NOW)
    with pytest.raises(NotFound):
        revise(demo_store, ENT, rows[0]["indicator"], "1972-01-01", 1, "x", now=NOW)
    with pytest.raises(Forbidden):
        revise(demo_store, Principal("enterprise", "c", frozenset({"CL.coal"})),
               rows[0]["indicator"], rows[0]["time"], 1, "x", now=NOW)


def test_concurrent_batches_all_stored_once(demo_store, demo):
    """Group commit: 8 threads send overlapping batches; every row stored exactly once,
    and the per-batch counts add up."""
    batches = [rows_for(demo, 200, prefix="CL.", day=28 - k // 2) for k in range(8)]
    later = datetime(1972, 11, 1, tzinfo=UTC)
    results = [None] * 8

    def send(k):
        results[k] = ingest_batch(demo_store, ADMIN, batches[k], now=later)

    threads = [threading.Thread(target=send, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    distinct = {(r["indicator"], r["time"]) for b in batches for r in b}
    assert sum(r.accepted for r in results) == len(distinct) == len(stored(demo_store)) == 800
    assert sum(r.accepted + r.duplicates for r in results) == 1600
