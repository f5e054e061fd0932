"""Concurrent requests with one Idempotency-Key: the batch is stored once and every
request gets its answer (or 409 problem+json while it is in progress), never a 5xx.
Clients run in parallel threads, each through its own app and `Store` (as separate server
processes would) or all through one app (group commit), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import warnings
from typing import Any

import pytest
import sqlalchemy as sa

from cybersyn.intake.server import build_app
from cybersyn.intake.tables import intake_idempotency
from cybersyn.intake.tokens import issue
from cybersyn.store import Store
from cybersyn.store.schema import observations

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

N = 6
URL = "/api/v1/observations"


def batch(demo: Any, n: int = 300) -> list[dict[str, object]]:
    inds = [i.id for i in demo.indicators]
    return [{"indicator": inds[k % len(inds)], "time": f"1972-10-{1 + k // len(inds):02d}",
             "value": float(k)} for k in range(n)]


def post_at_once(apps: list[Any], token: str, bodies: list[bytes]) -> list[Any]:
    barrier = threading.Barrier(len(bodies))
    out: list[Any] = [None] * len(bodies)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "same-key",
               "Content-Type": "application/json"}

    def send(k: int) -> None:
        with TestClient(apps[k % len(apps)], raise_server_exceptions=False) as c:
            barrier.wait()
            out[k] = c.post(URL, content=bodies[k], headers=headers)

    threads = [threading.Thread(target=send, args=(k,)) for k in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def stored(store: Store) -> int:
    with store.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(observations)).scalar_one()


def check_answers(answers: list[Any], n_rows: int) -> None:
    assert all(r.status_code < 500 for r in answers), [r.text[:200] for r in answers]
    ok = [r.json() for r in answers if r.status_code == 200]
    busy = [r for r in answers if r.status_code != 200]
    assert all(r.status_code == 409 and r.headers["content-type"] ==
               "application/problem+json" and "in progress" in r.json()["detail"]
               for r in busy)
    assert ok and {(a["received"], a["accepted"], a["duplicates"]) for a in ok} == {
        (n_rows, n_rows, 0)}
    assert sum(not a["replayed"] for a in ok) <= 1


@pytest.mark.parametrize("processes", [N, 1], ids=["apart", "one_app"])
def test_same_key_at_once_stored_once_answered_alike(demo_store, demo, processes):
    token = issue(demo_store, "admin", "race").token
    stores = [demo_store] if processes == 1 else [Store(demo_store.url) for _ in range(N)]
    body = json.dumps(batch(demo)).encode()
    try:
        answers = post_at_once([build_app(s) for s in stores], token, [body] * N)
    finally:
        for s in stores:
            if s is not demo_store:
                s.close()
    check_answers(answers, 300)
    assert stored(demo_store) == 300
    with demo_store.read() as conn:
        keys = conn.execute(sa.select(intake_idempotency.c.response)).scalars().all()
    assert len(keys) == 1 and json.loads(keys[0])["accepted"] == 300


def test_same_key_different_bodies_at_once(demo_store, demo):
    """One of the bodies wins; the others are refused as a reused key (422), not 5xx."""
    token = issue(demo_store, "admin", "race").token
    stores = [Store(demo_store.url) for _ in range(N)]
    rows = batch(demo, 2 * N)
    bodies = [json.dumps(rows[2 * k:2 * k + 2]).encode() for k in range(N)]
    try:
        answers = post_at_once([build_app(s) for s in stores], token, bodies)
    finally:
        for s in stores:
            s.close()
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] + [422] * (N - 1), [r.text[:200] for r in answers]
    assert stored(demo_store) == 2
