"""POST /api/v1/observations: tokens, 403 outside own units, 422 naming every bad row,
CSV upload, idempotency, and malformed payloads refused with 4xx changing nothing."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from cybersyn.intake.tokens import issue, revoke
from cybersyn.store.schema import observations

URL = "/api/v1/observations"


def count(store):
    with store.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(observations)).scalar_one()


@pytest.fixture
def ent(demo_store):
    return issue(demo_store, "enterprise", "CL.copper.e01")


def auth(token):
    return {"Authorization": f"Bearer {token.token}"}


def rows(n=3, day=9):
    return [{"indicator": f"CL.copper.e01.p1.{k}", "time": f"1972-10-{day:02d}T00:00:00Z",
             "value": 1.5} for k in ("output", "energy", "absenteeism")][:n]


def test_batch_stored_and_replayed(client, demo_store, ent):
    r = client.post(URL, json=rows(), headers={**auth(ent), "Idempotency-Key": "b1"})
    assert r.status_code == 200, r.text
    assert r.json() | {"conflicts": []} == {"received": 3, "accepted": 3, "duplicates": 0,
                                           "conflicts": [], "replayed": False}
    r = client.post(URL, json=rows(), headers={**auth(ent), "Idempotency-Key": "b1"})
    assert r.json()["replayed"] is True and count(demo_store) == 3
    r = client.post(URL, json={"observations": rows(day=8)}, headers=auth(ent))
    assert r.json()["accepted"] == 3 and count(demo_store) == 6
    r = client.post(URL, json=rows(day=7), headers={**auth(ent), "Idempotency-Key": "b1"})
    assert r.status_code == 422 and count(demo_store) == 6


def test_csv_upload(client, demo_store, ent):
    body = "indicator,time,value\n" + "".join(
        f"{r['indicator']},{r['time']},{r['value']}\n" for r in rows())
    r = client.post(URL, content=body, headers={**auth(ent), "Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["accepted"] == 3
    bad = body + "CL.copper.e01.p1.output,1972-10-10T00:00:00Z,abc\n"
    r = client.post(URL, content=bad, headers={**auth(ent), "Content-Type": "text/csv"})
    assert r.status_code == 422
    assert r.json()["errors"][0] == {"row": 5, "field": "value", "reason": "expected a number"}


def test_credentials(client, demo_store, ent):
    assert client.post(URL, json=rows()).status_code == 401
    assert client.post(URL, json=rows(), headers={"Authorization": "Bearer nope"}
                       ).status_code == 401
    coal = issue(demo_store, "enterprise", "CL.coal.e01")
    r = client.post(URL, json=rows(), headers=auth(coal))
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    revoke(demo_store, ent.token_id)
    assert client.post(URL, json=rows(), headers=auth(ent)).status_code == 401
    assert count(demo_store) == 0


def test_422_names_every_bad_row(client, demo_store, ent):
    batch = [*rows(),
        {"indicator": "CL.nope", "time": "1972-10-09T00:00:00Z", "value": 1},
        {"indicator": "CL.copper.e01.p1.stock", "time": "2999-01-01T00:00:00Z", "value": 1},
        {"indicator": "CL.copper.e01.p1.output", "time": "1972-10-09T00:00:00Z", "value": 2},
        {"indicator": "CL.copper.e01.p1.rejects", "time": "1972-10-09", "value": "1e999"}]
    r = client.post(URL, json=batch, headers=auth(ent))
    assert r.status_code == 422
    body = r.json()
    assert body["status"] == 422 and "4 bad row(s)" in body["detail"]
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (3, "indicator"), (4, "time"), (5, "time"), (6, "value")]
    assert count(demo_store) == 0


MALFORMED = [
    (b"{not json", 422),
    (b"[" * 100_000 + b"]" * 100_000, 422),          # deep JSON
    (b'{"indicator": 1}', 422),                       # not an array
    (b'[1, "x", null, [], {}]', 422),                 # wrong types
    (json.dumps([{"indicator": "x" * 10_000_000, "time": 1, "value": 1}]).encode(), 413),
    (json.dumps(rows(1) * 10_001).encode(), 413),     # huge batch
    (b"\xff\xfe", 422),
    (b'[{"indicator": "CL.copper.e01.p1.output", "time": "1972-10-09", "value": NaN}]', 422),
]


def test_malformed_payloads_change_nothing(client, demo_store, ent):
    """One store per backend for all the payloads (each is refused before any write)."""
    for payload, status in MALFORMED:
        r = client.post(URL, content=payload,
                        headers={**auth(ent), "Content-Type": "application/json"})
        assert r.status_code == status, (payload[:40], r.text[:300])
        assert r.headers["content-type"] == "application/problem+json"
    assert count(demo_store) == 0


def test_revision_endpoint(client, demo_store, ent):
    client.post(URL, json=rows(1), headers=auth(ent))
    fix = {"indicator": "CL.copper.e01.p1.output", "time": "1972-10-09T00:00:00Z",
           "value": 9.0, "reason": "scale recalibrated"}
    r = client.post(URL + "/revisions", json=fix, headers=auth(ent))
    assert r.status_code == 200 and r.json()["old_value"] == 1.5
    r = client.post(URL + "/revisions", json={**fix, "reason": ""}, headers=auth(ent))
    assert r.status_code == 422
