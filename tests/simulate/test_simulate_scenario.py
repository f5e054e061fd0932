"""Scenarios in TOML, run_scenario, the report, the CLI and the API."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cybersyn.economy import Economy
from cybersyn.errors import InvalidInput, NotFound
from cybersyn.simulate import bundled_names, load_scenario, run_scenario
from cybersyn.simulate.cli import app as cli_app
from cybersyn.simulate.report import write_report
from cybersyn.store import Store, audit

with warnings.catch_warnings():
    # starlette asks for httpx2 in place of httpx; the client works the same
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

MINI = """
name = "mini"
start = 1972-08-01
days = 30
seed = 3
[setup]
essential = ["milk"]
[[shocks]]
kind = "transport_cut"
start = 1972-08-08
days = 7
size = 0.5
[[variants]]
name = "none"
[[variants]]
name = "requisition"
[[variants.policies]]
kind = "requisition"
start = 1972-08-08
days = 7
size = 0.5
"""


@pytest.fixture(scope="module")
def october(demo: Economy) -> object:
    return run_scenario(load_scenario("october-1972", demo), demo)


def test_bundled_october_1972(october: object) -> None:
    assert "october-1972" in bundled_names()
    runs = {v.name: v.summary for v in october.variants}  # type: ignore[attr-defined]
    assert list(runs) == ["no response", "trucks only", "full response"]
    none, full = runs["no response"], runs["full response"]
    assert none["output_lost_hours"] > full["output_lost_hours"] > 0
    assert none["entitlements_met_pct_during_shock"] < full["entitlements_met_pct_during_shock"]
    assert runs["trucks only"]["worst_district_met_pct"] < full["worst_district_met_pct"]
    assert all(s["max_stock_flow_imbalance"] < 1e-9 for s in runs.values())


def test_report_files(october: object, tmp_path: Path) -> None:
    page = write_report([october], tmp_path)  # type: ignore[list-item]
    html = page.read_text()
    assert "full response" in html and "output_and_shortage.png" in html
    for name in ("output_and_shortage.png", "districts.png", "stocks_labour_transport.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    daily = pq.read_table(tmp_path / "daily.parquet")
    assert daily.num_rows == 3 * 120
    assert set(daily.column("variant").to_pylist()) == {"no response", "trucks only",
                                                        "full response"}
    assert pq.read_table(tmp_path / "districts.parquet").num_rows == 3 * 120 * 44


def test_scenario_errors_name_the_field(demo: Economy, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(MINI.replace('essential = ["milk"]', 'essential = ["gold"]'))
    with pytest.raises(InvalidInput, match=r"setup.essential: unknown product"):
        load_scenario(str(bad), demo)
    bad.write_text(MINI.replace("size = 0.5\n[[variants]]", "size = 1.5\n[[variants]]"))
    with pytest.raises(InvalidInput, match=r"shocks\[0\].*size in \[0, 1\]"):
        load_scenario(str(bad), demo)
    bad.write_text(MINI + "\nbogus = 1\n")
    with pytest.raises(InvalidInput, match="unknown field"):
        load_scenario(str(bad), demo)
    with pytest.raises(NotFound):
        load_scenario("no-such-scenario", demo)


def test_cli_run_and_list(tmp_path: Path) -> None:
    scen = tmp_path / "mini.toml"
    scen.write_text(MINI)
    runner = CliRunner()
    res = runner.invoke(cli_app, ["run", str(scen), "--out", str(tmp_path / "rep"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(out["mini"]) == {"none", "requisition"}
    assert (tmp_path / "rep" / "index.html").exists()
    listed = runner.invoke(cli_app, ["list"])
    assert listed.exit_code == 0 and "october-1972" in listed.output


def test_cli_bad_scenario_is_one_line_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.toml"
    bad.write_text("days = 0\n")
    proc = subprocess.run([sys.executable, "-c", "from cybersyn.cli import main; main()",
                           "simulate", "run", str(bad)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error:") and "days" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_api_runs(demo_store: Store) -> None:
    from cybersyn.intake.tokens import issue
    from cybersyn.web.app import create_app

    client = TestClient(create_app(demo_store))
    auth = {"Authorization": f"Bearer {issue(demo_store, 'planner', 'odeplan').token}"}
    names = [s["name"] for s in client.get("/api/v1/simulate/scenarios").json()]
    assert "october-1972" in names
    r = client.post("/api/v1/simulate/runs", headers=auth,
                    json={"scenario": "october-1972", "days": 100})
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["dates"]) == 100 and len(body["variants"]) == 3
    got = client.get(f"/api/v1/simulate/runs/{body['id']}")
    assert got.status_code == 200 and got.json()["variants"] == body["variants"]
    assert client.get("/api/v1/simulate/runs").json()[0]["id"] == body["id"]
    missing = client.get("/api/v1/simulate/runs/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    bad = client.post("/api/v1/simulate/runs", headers=auth, json={"scenario": {
        "days": 10, "shocks": [{"kind": "meteor", "start": 0, "days": 1, "size": 0.1}]}})
    assert bad.status_code == 422 and "meteor" in bad.json()["detail"]
    with demo_store.read() as conn:
        runs = [e for e in audit.entries(conn) if e.action == "simulate.run"]
    assert [e.actor for e in runs] == ["planner:odeplan"]


def test_api_run_needs_a_planner_admin_or_member(demo_store: Store) -> None:
    """Running is heavy: 401 without credentials, 403 for an enterprise or operator
    token; nothing is run or stored. Reads stay open."""
    from cybersyn.intake.tokens import issue
    from cybersyn.web.app import create_app

    client = TestClient(create_app(demo_store))
    req = {"scenario": "october-1972", "days": 5}
    anon = client.post("/api/v1/simulate/runs", json=req)
    assert anon.status_code == 401
    assert anon.headers["content-type"].startswith("application/problem+json")
    bogus = client.post("/api/v1/simulate/runs", json=req,
                        headers={"Authorization": "Bearer not-a-token"})
    assert bogus.status_code == 401
    for kind, unit in (("enterprise", "CL.copper.e01"), ("operator", "CL.copper")):
        token = issue(demo_store, kind, unit).token
        r = client.post("/api/v1/simulate/runs", json=req,
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and kind in r.json()["detail"]
    cookie = client.post("/api/v1/simulate/runs", json=req,
                         cookies={"cybersyn_session": issue(demo_store, "admin", "a").token})
    assert cookie.status_code == 201
    assert [r["id"] for r in client.get("/api/v1/simulate/runs").json()] == [
        cookie.json()["id"]]
