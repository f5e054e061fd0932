"""Races between writers that do not share a process: each thread has its own `Store`
(its own engine and connections, as separate server processes or cron would), all start
at once on a barrier. On SQLite and, with CYBERSYN_TEST_PG_URL, on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import command

from cybersyn.alerts import acknowledge, escalate, history, raise_from_signals
from cybersyn.alerts.tables import alert_events, alerts
from cybersyn.auth import Principal
from cybersyn.errors import Conflict
from cybersyn.signals import Signal
from cybersyn.store import Store, audit

T0 = datetime(1972, 10, 9, tzinfo=UTC)
IND = "CL.copper.e01.p1.output"
ADMIN = Principal("admin", "t")
N = 6


def at_once(url: str, work: Callable[[Store, int], Any]) -> list[Any]:
    """Run work(store, k) in N threads, each on its own Store, started together; returns
    each thread's result or the exception it raised."""
    stores = [Store(url) for _ in range(N)]
    barrier = threading.Barrier(N)
    out: list[Any] = [None] * N

    def run(k: int) -> None:
        barrier.wait()
        try:
            out[k] = work(stores[k], k)
        except Exception as e:  # the test inspects it
            out[k] = e

    threads = [threading.Thread(target=run, args=(k,)) for k in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    return out


def live(store: Store) -> list[Any]:
    with store.read() as conn:
        return conn.execute(sa.select(alerts).where(alerts.c.status != "resolved")).all()


def test_concurrent_raises_open_one_alert(demo_store):
    def work(store: Store, k: int) -> Any:
        sig = Signal(IND, "step", 0.5 + k / 100, T0, T0, 0.5)
        return raise_from_signals(store, [sig, Signal("CL.coal.e01.p1.output", "slope", 0.7,
                                                      T0, T0, 0.7)], T0)

    results = at_once(demo_store.url, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    rows = live(demo_store)
    assert sorted(r.indicator_id for r in rows) == ["CL.coal.e01.p1.output", IND]
    copper = next(r for r in rows if r.indicator_id == IND)
    assert copper.signals == N and copper.probability == 0.5 + (N - 1) / 100
    assert {r[0]["id"] for r in results} == {copper.id}  # every caller got that alert
    actions = [h["action"] for h in history(demo_store, copper.id, ADMIN)]
    assert actions == ["raised"] + ["aggregated"] * (N - 1)
    with demo_store.read() as conn:
        assert audit.verify(conn) == []


def test_concurrent_acknowledge_and_escalate_act_once(demo_store):
    (a,) = raise_from_signals(demo_store, [Signal(IND, "step", 0.9, T0, T0, 0.9)], T0)
    (b,) = raise_from_signals(demo_store, [Signal("CL.coal.e01.p1.output", "step", 0.9, T0,
                                                  T0, 0.9)], T0)
    late = T0 + timedelta(days=30)

    def work(store: Store, k: int) -> Any:
        if k % 2:
            return escalate(store, late)
        return acknowledge(store, a["id"], ADMIN, f"crew {k}", T0 + timedelta(hours=1))

    results = at_once(demo_store.url, work)
    acks = [r for k, r in enumerate(results) if k % 2 == 0]
    assert sum(isinstance(r, dict) for r in acks) == 1
    assert all(isinstance(r, Conflict) for r in acks if not isinstance(r, dict))
    with demo_store.read() as conn:
        esc = conn.execute(sa.select(alert_events.c.alert_id, alert_events.c.to_unit)
                           .where(alert_events.c.action == "escalated")
                           .order_by(alert_events.c.id)).all()
        assert audit.verify(conn) == []
    # b climbed plant -> enterprise -> sector -> nation exactly once, whoever ran it;
    # a climbed only if an escalation ran before the acknowledgement
    assert [u for i, u in esc if i == b["id"]] == ["CL.coal.e01", "CL.coal", "CL"]
    assert len([u for i, u in esc if i == a["id"]]) in (0, 3)


def test_migration_merges_live_duplicates(store_url, demo):
    """Live duplicates left by the old race are merged when alerts_0002 arrives."""
    store = Store(store_url)
    with store.write() as conn:
        command.upgrade(store._alembic(conn), "alerts@alerts_0001")
    store.save_economy(demo)
    row = {"indicator_id": IND, "origin_unit_id": "CL.copper.e01.p1",
           "unit_id": "CL.copper.e01.p1", "level": "plant", "kind": "step",
           "probability": 0.9, "signal_start": T0, "signals": 1, "status": "open",
           "opened_at": T0, "deadline": T0, "path": "[]", "note": "", "updated_at": T0}
    with store.write() as conn:
        conn.execute(alerts.insert(), [row, row, {**row, "status": "resolved"}])
    try:
        store.migrate()
        rows = live(store)
        assert [r.id for r in rows] == [1]
        with store.read() as conn:
            merged = conn.execute(sa.select(alerts).where(alerts.c.id == 2)).one()
            assert audit.verify(conn) == []
        assert merged.status == "resolved" and "merged into alert 1" in merged.note
        raise_from_signals(store, [Signal(IND, "step", 0.5, T0, T0, 0.5)], T0)
        assert [(r.id, r.signals) for r in live(store)] == [(1, 2)]
    finally:
        store.close()
