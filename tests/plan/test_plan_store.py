"""Plan versions in the store, the API, the CLI and the demo stage."""

from __future__ import annotations

import warnings
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cybersyn.auth import Principal
from cybersyn.economy import Economy
from cybersyn.errors import Conflict, InvalidInput, NotFound
from cybersyn.loop import DemoContext
from cybersyn.plan import explain, harmony_plan, kantorovich_plan, problem_from_economy
from cybersyn.plan.versions import (
    export_version,
    get_version,
    list_versions,
    save_version,
    set_version_status,
)
from cybersyn.store import Store, audit

with warnings.catch_warnings():
    # starlette asks for httpx2 in place of httpx; the client works the same
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def test_versions_round_trip_and_statuses(demo_store: Store, demo: Economy,
                                          tmp_path: Path) -> None:
    result = kantorovich_plan(problem_from_economy(demo))
    with demo_store.write() as conn:
        vid = save_version(conn, result, label="plan 1973", actor="odeplan")
    with demo_store.read() as conn:
        v = get_version(conn, vid)
    assert v["status"] == "draft" and v["objective"] == "kantorovich"
    assert v["lam"] == pytest.approx(result.lam)
    i = demo.io.index["milk"]
    assert v["gross_outputs"]["milk"] == pytest.approx(result.x[i])
    assert v["net_outputs"]["milk"] == pytest.approx(result.net[i])
    assert v["targets"]["milk"] == pytest.approx(result.problem.targets[i])
    assert v["explanation"]["unmet"]
    with demo_store.write() as conn:
        set_version_status(conn, vid, "proposed", "odeplan")
        with pytest.raises(Conflict, match="cannot become draft"):
            set_version_status(conn, vid, "approved", "council")
            set_version_status(conn, vid, "draft", "council")
    with demo_store.read() as conn:
        assert get_version(conn, vid)["status"] == "approved"
        actions = [e.action for e in audit.entries(conn, subject=f"plan/{vid}")]
        assert actions == ["plan.save", "plan.proposed", "plan.approved"]
        assert audit.verify(conn) == []
        with pytest.raises(NotFound):
            get_version(conn, "missing")
        with pytest.raises(InvalidInput, match="status must be"):
            set_version_status(conn, vid, "adopted", "x")
        export_version(conn, vid, tmp_path / "plan.parquet")
        export_version(conn, vid, tmp_path / "plan.csv")
    table = pq.read_table(tmp_path / "plan.parquet")
    assert table.num_rows == demo.io.n
    assert (tmp_path / "plan.csv").read_text().startswith("version_id,period,product_code")


def test_explanation_names_the_binding_capacity(demo: Economy) -> None:
    ex = explain(kantorovich_plan(problem_from_economy(demo)))
    assert ex.binding and "capacity of sugar at " in ex.binding[0]
    sugar = next(u for u in ex.unmet if u.product == "sugar")
    assert "one more unit yields 1 more units of sugar" in sugar.reasons[0]
    assert max(ex.labour_values, key=ex.labour_values.get) == "housing"


def test_api_plans(demo_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from cybersyn.web.app import create_app

    client = TestClient(create_app(demo_store))
    assert client.post("/api/v1/plans", json={}).status_code == 401
    monkeypatch.setattr("cybersyn.plan.api.authenticate",
                        lambda conn, token: Principal(kind="planner", id="odeplan"))
    headers = {"Authorization": "Bearer x"}
    r = client.post("/api/v1/plans", json={"objective": "harmony", "targets": {"milk": 1e6}},
                    headers=headers)
    assert r.status_code == 201, r.text
    a = r.json()["id"]
    r = client.post("/api/v1/plans", json={"targets": {"nope": 1}}, headers=headers)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    b = client.post("/api/v1/plans", json={"periods": 3}, headers=headers).json()["id"]
    assert {v["id"] for v in client.get("/api/v1/plans").json()} == {a, b}
    assert client.get(f"/api/v1/plans/{a}").json()["targets"]["milk"] == 1e6
    assert "binding" in client.get(f"/api/v1/plans/{a}/explain").json()
    assert client.get(f"/api/v1/plans/diff?a={a}&b={b}").json()["objective"] == [
        "harmony", "multi-period"]
    assert client.get("/api/v1/plans/labour-values").json()["housing"] > 2000
    assert client.get("/api/v1/plans/zzz").status_code == 404


def test_cli_solve_explain_diff(demo_store: Store, tmp_path: Path) -> None:
    from cybersyn.cli import app

    runner = CliRunner()
    db = ["--database", demo_store.url]
    targets = tmp_path / "targets.csv"
    targets.write_text("product,target\nmilk,1100000\n")
    r1 = runner.invoke(app, ["plan", "solve", "--targets", str(targets), "--json", *db])
    assert r1.exit_code == 0, r1.output
    r2 = runner.invoke(app, ["plan", "solve", "--objective", "harmony", "--json", *db])
    assert r2.exit_code == 0, r2.output
    import json

    v1, v2 = json.loads(r1.output)["version"], json.loads(r2.output)["version"]
    out = runner.invoke(app, ["plan", "explain", v1, *db])
    assert out.exit_code == 0 and "binds" in out.output
    assert runner.invoke(app, ["plan", "diff", v1, v2, *db]).exit_code == 0
    lv = runner.invoke(app, ["plan", "labour-values", "--json", *db])
    assert json.loads(lv.output)["housing"] > 2000
    targets.write_text("product,target\nmilk,lots\n")
    bad = runner.invoke(app, ["plan", "solve", "--targets", str(targets), *db])
    assert bad.exit_code != 0 and isinstance(bad.exception, InvalidInput)
    assert "row 2 field 'target'" in str(bad.exception)


def test_demo_stage_proposes_a_plan(demo_store: Store, demo: Economy) -> None:
    from cybersyn.plan.demo_stage import finish

    ctx = DemoContext(demo_store, demo)
    finish(ctx)
    vid = ctx.state["plan_version_id"]
    with demo_store.read() as conn:
        assert get_version(conn, vid)["status"] == "proposed"
        assert [v["id"] for v in list_versions(conn)] == [vid]
    summary = ctx.summary["Plan (ODEPLAN)"]
    assert 0.9 < summary["lambda (share of every target met)"] < 1.0
    assert "sugar" in summary["binding"][0]


def test_harmony_plan_on_demo_is_never_worse_than_proportional(demo: Economy) -> None:
    from cybersyn.plan import harmony_value

    p = problem_from_economy(demo)
    assert harmony_plan(p).value >= harmony_value(p, kantorovich_plan(p).net) - 1e-12
