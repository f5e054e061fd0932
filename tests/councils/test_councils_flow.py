from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cybersyn.councils import demo_stage
from cybersyn.councils.approval import get_approval, parts
from cybersyn.councils.replay import check_proposal
from cybersyn.councils.tables import proposals
from cybersyn.economy import Economy
from cybersyn.loop import DemoContext
from cybersyn.store import Store, audit

with warnings.catch_warnings():
    # starlette asks for httpx2 in place of httpx; the client works the same
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

HAS_PLAN = importlib.util.find_spec("cybersyn.plan.versions") is not None


def test_parts_split_each_product_among_its_makers(demo: Economy) -> None:
    outputs = {c: 100.0 for c in demo.io.product_codes}
    ids = ["CL", "CL.copper", *(u.id for u in demo.units.children("CL.copper"))]
    split = parts(demo, outputs, ids)
    assert split["CL"] == pytest.approx(outputs)
    assert split["CL.copper"] == pytest.approx({"copper": 100.0})
    enterprises = [split[u] for u in ids[2:]]
    assert sum(p.get("copper", 0.0) for p in enterprises) == pytest.approx(100.0, rel=1e-3)


@pytest.fixture
def sqlite_demo_store(tmp_path: Path, demo: Economy) -> Iterator[Store]:
    """The demo's own backend only: the stage is slow, and the store tests cover PostgreSQL."""
    store = Store(f"sqlite:///{tmp_path}/demo.db")
    store.migrate()
    store.save_economy(demo)
    yield store
    store.close()


def test_demo_stage_runs_rounds_and_approvals(sqlite_demo_store: Store,
                                              demo: Economy) -> None:
    demo_store = sqlite_demo_store
    ctx = DemoContext(demo_store, demo)
    if HAS_PLAN:
        from cybersyn.plan import demo_stage as plan_stage

        plan_stage.finish(ctx)
    demo_stage.finish(ctx)
    s = ctx.summary["Councils"]
    assert s["councils"] == 109 and s["members seated"] == 1090
    assert s["converged"] and s["rounds"] >= 2
    assert s["participatory plan"]["status"] in ("approved", "rejected")
    with demo_store.read() as conn:
        assert audit.verify(conn) == []
        pids = list(conn.execute(sa.select(proposals.c.id)).scalars())
        for pid in pids[:: max(1, len(pids) // 12)]:
            assert check_proposal(conn, pid) == []
        if HAS_PLAN:
            from cybersyn.plan.versions import get_version

            plan = s["planning office's plan"]
            version = get_version(conn, ctx.state["plan_version_id"])
            assert version["status"] == plan["status"] == get_approval(conn, plan["id"])["status"]
            if plan["status"] == "rejected":
                assert "counter-proposals" in version["note"]


def test_cli_and_api_end_to_end(demo_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from cybersyn.cli import app
    from cybersyn.web.app import create_app

    monkeypatch.setenv("CYBERSYN_DATABASE_URL", demo_store.url)
    run = CliRunner().invoke
    assert run(app, ["councils", "setup"]).exit_code == 0
    r = run(app, ["councils", "members", "add", "--council", "CL.copper.e01", "--username",
                  "ana", "--name", "Ana Soto", "--password"], input="secret123\nsecret123\n")
    assert r.exit_code == 0, r.output
    r = run(app, ["councils", "members", "elect", "--council", "CL.copper.e01", "--username",
                  "raul", "--name", "Raúl", "--yes", "3", "--no", "9", "--electorate", "20"])
    assert r.exit_code == 1
    r = run(app, ["councils", "proposal", "open", "--council", "CL.copper.e01", "--kind",
                  "investment", "--title", "New converter", "--body", "{not json"])
    assert r.exit_code == 1 and "--body" in str(r.exception or r.output)
    assert run(app, ["councils", "proposal", "open", "--council", "CL.copper.e01", "--kind",
                     "investment", "--title", "New converter"]).exit_code == 0
    assert run(app, ["councils", "rounds", "run", "--json"]).exit_code == 0

    client = TestClient(create_app(demo_store))
    assert client.get("/api/v1/proposals").status_code == 401
    bad = client.post("/api/v1/councils/sessions", json={"username": "ana", "password": "x"})
    assert bad.status_code == 401 and bad.headers["content-type"].startswith(
        "application/problem+json")
    token = client.post("/api/v1/councils/sessions",
                        json={"username": "ana", "password": "secret123"}).json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    mine = client.get("/api/v1/proposals", headers=h).json()
    assert [p["council_id"] for p in mine] == ["CL.copper.e01"]
    assert client.get("/api/v1/councils/CL.coal.e01", headers=h).status_code == 403
    v = client.post("/api/v1/votes", json={"proposal_id": mine[0]["id"], "choice": "yes"},
                    headers=h)
    assert v.status_code == 201, v.text
    bad = client.post("/api/v1/votes", json={"proposal_id": mine[0]["id"], "choice": "maybe"},
                      headers=h)
    assert bad.status_code == 422
    closed = client.post(f"/api/v1/proposals/{mine[0]['id']}/close", headers=h)
    assert closed.status_code == 200 and closed.json()["result"] == "no_quorum"
    again = client.post("/api/v1/votes", json={"proposal_id": mine[0]["id"], "choice": "no"},
                        headers=h)
    assert again.status_code == 409
    rep = client.get(f"/api/v1/proposals/{mine[0]['id']}/audit", headers=h).json()
    assert rep["problems"] == [] and rep["replayed"]["yes"] == 1
    assert client.get("/api/v1/councils/rounds/latest", headers=h).json()["converged"]
    assert client.post("/api/v1/councils/rounds", json={}, headers=h).status_code == 403
    assert datetime.now(UTC)


def test_views_for_the_opsroom(demo_store: Store, demo: Economy) -> None:
    from cybersyn.auth import Principal
    from cybersyn.councils import views
    from cybersyn.councils.membership import setup_councils
    from cybersyn.councils.participatory import ParticipatoryParams
    from cybersyn.councils.rounds import run_and_store

    now = datetime.now(UTC)
    with demo_store.write() as conn:
        setup_councils(conn, demo, now, "test")
        run_and_store(conn, demo, now, "test", ParticipatoryParams())
    with demo_store.read() as conn:
        rounds = views.stored_rounds(conn)
        assert rounds is not None and rounds["stored"] and rounds["converged"]
        assert len(rounds["final"]) == 8 and rounds["number"][0] == 1
        assert len(views.councils_overview(conn)) == 109
        assert views.council_of_unit(conn, "CL.copper", None)["open_proposals"] == []
        assert views.proposals_for(conn, Principal("planner", "p")) == []
        assert views.approvals_for_plan(conn, "none") == []
