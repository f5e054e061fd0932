"""Supply API: problem+json for mistakes, idempotent hand-outs (201 then 200), refusal 422,
auth on writes, allocation, reconciliation, findings, route plot."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest

from cybersyn.intake.tokens import issue
from cybersyn.store import Store
from cybersyn.supply import RouteParams, euclidean, ledger, plans, route
from cybersyn.supply.routing import FleetProblem
from cybersyn.web.app import create_app

with warnings.catch_warnings():
    # starlette asks for httpx2 in place of httpx; the client works the same
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

AT = "1972-10-12T15:00:00+00:00"


@pytest.fixture
def client(demo_store: Store) -> Iterator[TestClient]:
    with demo_store.write() as conn:
        ledger.set_good(conn, "milk", "Milk", "litre", 180)
        ledger.set_rule(conn, "milk", "child", 15, 0)
    with TestClient(create_app(demo_store)) as c:
        yield c


@pytest.fixture
def auth(demo_store: Store) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(demo_store, 'admin', 'jap').token}"}


def test_flow(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/api/v1/supply/points", json={
        "id": "P1", "district_id": "D01", "name": "Almacén"}).status_code == 401
    assert client.post("/api/v1/supply/points", headers=auth, json={
        "id": "P1", "district_id": "D01", "name": "Almacén"}).status_code == 201
    hh = {"card_id": "C1", "district_id": "D01", "point_id": "P1", "head_name": "Ana",
          "head_national_id": "1-9", "members": 3, "children": 2}
    assert client.post("/api/v1/supply/households", headers=auth, json=hh).json()[
        "status"] == "active"
    dup = {**hh, "card_id": "C2"}
    assert client.post("/api/v1/supply/households", headers=auth, json=dup).json()[
        "status"] == "review"
    assert [r["card_id"] for r in client.get("/api/v1/supply/reviews",
                                              headers=auth).json()] == ["C2"]
    assert client.post("/api/v1/supply/entitlements/issue?period=1972-10",
                       headers=auth).json()["created"] == 1
    r = client.post("/api/v1/supply/receipts", headers=auth, json={
        "key": "r1", "point": "P1", "good": "milk", "quantity": 100, "at": AT})
    assert r.status_code == 201
    body = {"key": "h1", "card": "C1", "point": "P1", "good": "milk", "quantity": 20,
            "at": AT}
    first = client.post("/api/v1/supply/handouts", headers=auth, json=body)
    again = client.post("/api/v1/supply/handouts", headers=auth, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "replayed": True}
    assert first.json()["remaining"] == 10
    refused = client.post("/api/v1/supply/handouts", headers=auth,
                          json={**body, "key": "h2", "quantity": 11})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "10 milk left" in refused.json()["detail"]
    ent = client.get("/api/v1/supply/entitlements/C1?period=1972-10", headers=auth).json()
    assert ent["goods"]["milk"]["handed_out"] == 20
    rec = client.get("/api/v1/supply/reconciliation?period=1972-10", headers=auth).json()
    assert rec["balanced"] and rec["rows"][0]["closing"] == 80
    assert client.post("/api/v1/supply/price-reports", json={
        "point": "P1", "good": "milk", "price_cents": 500}).status_code == 201


def test_bad_input_is_problem_json(client: TestClient, auth: dict[str, str]) -> None:
    r = client.get("/api/v1/supply/reconciliation?period=October")
    assert r.status_code == 422
    r = client.post("/api/v1/supply/allocation", headers=auth,
                    json={"claims": [[1, 2]], "supply": [1], "rule": "lottery"})
    assert r.status_code == 422 and "Expected" in r.json()["detail"]
    r = client.post("/api/v1/supply/handouts", headers=auth, json={
        "card": "C1", "point": "P1", "good": "milk", "quantity": 1})
    assert r.status_code == 422 and "idempotency key" in r.json()["detail"]
    assert client.get("/api/v1/supply/routes/99").status_code == 404


def test_allocation_endpoint(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/api/v1/supply/allocation", json={
        "claims": [[1]], "supply": [1]}).status_code == 401
    r = client.post("/api/v1/supply/allocation", headers=auth, json={
        "claims": [[100], [200], [300]], "supply": [300], "rule": "cel"})
    assert r.json()["awards"] == [[0.0], [100.0], [200.0]]


def test_route_plan_and_plot(client: TestClient, demo_store: Store) -> None:
    xy = np.random.default_rng(0).uniform(0, 10, (6, 2))
    res = route(FleetProblem(euclidean(xy, 1000), np.r_[0, np.full(5, 3)], 6, 1,
                             required=False), RouteParams(0.2))
    with demo_store.write() as conn:
        pid = plans.save_plan(conn, "test", [f"L{i}" for i in range(6)], xy,
                              np.r_[0, np.full(5, 3)], res, 1, res.distance / 1000,
                              datetime(1972, 10, 1, tzinfo=UTC))
    listed = client.get("/api/v1/supply/routes").json()
    assert listed[0]["id"] == pid and listed[0]["points_unserved"] == 3
    assert client.get(f"/api/v1/supply/routes/{pid}").json()["routes"][0][0].startswith("L")
    png = client.get(f"/api/v1/supply/routes/{pid}/plot.png")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
