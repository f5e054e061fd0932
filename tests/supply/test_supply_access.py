"""Who may read and change what in the supply API (`cybersyn.supply.access`): public data
without credentials, 401 for the rest without them, 403 outside the caller's district,
results limited to the caller's districts, national operations for the office only.

Planners, admins, operators and enterprises hold real intake tokens. No package issues
district credentials yet, so the two committee members (units {"D01"} and {"D02"}) are
mapped from test tokens by wrapping `authenticate`; everything after authentication is
the real code."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from cybersyn.auth import Principal
from cybersyn.intake.tokens import issue
from cybersyn.store import Store
from cybersyn.supply import access, ledger
from cybersyn.supply.findings import detect, report_price
from cybersyn.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

AT = datetime(1972, 10, 12, 15, 0, tzinfo=UTC)
P = "1972-10"
API = "/api/v1/supply"
COMMITTEES = {"jap-d01": Principal("member", "rosa", units=frozenset({"D01"})),
              "jap-d02": Principal("operator", "luis", units=frozenset({"D02"}))}


@pytest.fixture
def client(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    real = access.authenticate

    def authenticate(conn: sa.Connection, token: str | None) -> Principal:
        return COMMITTEES.get(token or "") or real(conn, token)

    monkeypatch.setattr(access, "authenticate", authenticate)
    with store.write() as conn:
        ledger.add_point(conn, "P1", "D01", "Almacén 1")
        ledger.add_point(conn, "P2", "D02", "Almacén 2")
        ledger.set_good(conn, "milk", "Milk", "litre", 120)
        ledger.set_rule(conn, "milk", "person", 10)
        ledger.register(conn, ledger.Household("C1", "D01", "P1", "Ana", "1-9", 3), AT)
        ledger.register(conn, ledger.Household("C1b", "D01", "P1", "ana", "5-5", 2), AT)
        ledger.register(conn, ledger.Household("C2", "D02", "P2", "Juan", "2-7", 2), AT)
        ledger.issue_entitlements(conn, P)
        for point in ("P1", "P2"):
            ledger.receive(conn, f"r-{point}", point, "milk", 100, P, AT, "depot")
        report_price(conn, "P1", "milk", 400, "vecina", AT)
        detect(conn, P, "test", AT)
    with TestClient(create_app(store)) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(demo_store: Store) -> dict[str, dict[str, str]]:
    """Intake tokens (operators and enterprises need the demo economy's units)."""
    return {"d01": bearer("jap-d01"), "d02": bearer("jap-d02"),
            "planner": bearer(issue(demo_store, "planner", "odeplan").token),
            "operator": bearer(issue(demo_store, "operator", "CL.copper").token),
            "enterprise": bearer(issue(demo_store, "enterprise", "CL.copper.e01").token)}


PRIVATE_READS = [f"{API}/reviews", f"{API}/entitlements/C1?period={P}",
                 f"{API}/reconciliation?period={P}", f"{API}/findings?period={P}"]


def test_public_data_needs_no_credentials(client: TestClient) -> None:
    for path in ("districts", "points", "goods", "routes"):
        assert client.get(f"{API}/{path}").status_code == 200, path
    assert client.get(f"{API}/goods").json()[0]["price_cents"] == 120
    r = client.post(f"{API}/price-reports", json={"point": "P2", "good": "milk",
                                                  "price_cents": 300})
    assert r.status_code == 201


def test_private_reads_need_credentials(client: TestClient) -> None:
    for path in PRIVATE_READS:
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "credentials" in r.json()["detail"]
    assert client.get(PRIVATE_READS[0], headers=bearer("forged")).status_code == 401


def test_no_district_no_private_data(client: TestClient,
                                     tokens: dict[str, dict[str, str]]) -> None:
    """An enterprise, and an operator of an industrial unit, are no supply committee."""
    for who in ("enterprise", "operator"):
        for path in PRIVATE_READS:
            assert client.get(path, headers=tokens[who]).status_code == 403, (who, path)


def test_other_districts_are_refused(client: TestClient,
                                     tokens: dict[str, dict[str, str]]) -> None:
    d02 = tokens["d02"]
    for path in (f"{API}/entitlements/C1?period={P}", f"{API}/reconciliation?period={P}"
                 "&district=D01", f"{API}/reconciliation?period={P}&point=P1",
                 f"{API}/findings?district=D01", f"{API}/reviews?district=D01"):
        r = client.get(path, headers=d02)
        assert r.status_code == 403 and "D01" in r.json()["detail"], path
    hand = {"key": "x", "card": "C1", "point": "P1", "good": "milk", "quantity": 1,
            "at": AT.isoformat()}
    assert client.post(f"{API}/handouts", headers=d02, json=hand).status_code == 403
    review = client.get(f"{API}/reviews", headers=tokens["d01"]).json()[0]["id"]
    assert client.post(f"{API}/reviews/{review}", headers=d02,
                       json={"approve": True}).status_code == 403
    assert client.post(f"{API}/households", headers=d02, json={
        "card_id": "C9", "district_id": "D01", "point_id": "P1", "head_name": "X",
        "head_national_id": "9-9", "members": 1}).status_code == 403
    with client.app.state.store.read() as conn:  # type: ignore[attr-defined]
        assert ledger.remaining(conn, "C1", P)["milk"]["handed_out"] == 0


def test_committees_see_their_own_district_only(client: TestClient,
                                                tokens: dict[str, dict[str, str]]) -> None:
    d01, d02 = tokens["d01"], tokens["d02"]
    assert client.get(f"{API}/entitlements/C1?period={P}", headers=d01).status_code == 200
    rec1 = client.get(f"{API}/reconciliation?period={P}", headers=d01).json()
    rec2 = client.get(f"{API}/reconciliation?period={P}", headers=d02).json()
    assert [r["point"] for r in rec1["rows"]] == ["P1"]
    assert [r["point"] for r in rec2["rows"]] == ["P2"]
    f1 = client.get(f"{API}/findings?period={P}", headers=d01).json()
    assert [(f["point"], f["kind"]) for f in f1] == [("P1", "price_above_official")]
    assert client.get(f"{API}/findings?period={P}", headers=d02).json() == []
    assert [r["card_id"] for r in client.get(f"{API}/reviews", headers=d01).json()] == ["C1b"]
    assert client.get(f"{API}/reviews", headers=d02).json() == []
    planner = client.get(f"{API}/reconciliation?period={P}", headers=tokens["planner"])
    assert [r["point"] for r in planner.json()["rows"]] == ["P1", "P2"]


def test_committee_writes_in_its_district(client: TestClient,
                                          tokens: dict[str, dict[str, str]]) -> None:
    d01 = tokens["d01"]
    hand = {"key": "h1", "card": "C1", "point": "P1", "good": "milk", "quantity": 4,
            "at": AT.isoformat()}
    r = client.post(f"{API}/handouts", headers=d01, json=hand)
    assert r.status_code == 201 and r.json()["remaining"] == 26
    assert client.post(f"{API}/entitlements/issue?period={P}&district=D01",
                       headers=d01).status_code == 200
    for path in (f"{API}/entitlements/issue?period={P}", f"{API}/findings?period={P}",
                 f"{API}/reconciliation?period={P}"):
        assert client.post(path, headers=d01).status_code == 403, path
        assert client.post(path, headers=tokens["planner"]).status_code == 200, path


def test_rule_as_functions() -> None:
    office, jap = Principal("admin", "a"), Principal("member", "m", units=frozenset({"D01"}))
    factory = Principal("enterprise", "e", units=frozenset({"D01"}))
    assert access.may_act_for(office, "D44") and access.may_act_for(jap, "D01")
    assert not access.may_act_for(jap, "D02") and not access.may_act_for(factory, "D01")
    assert access.districts_of(office) is None and access.districts_of(jap) == {"D01"}
