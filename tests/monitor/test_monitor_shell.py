"""The monitor's shell: demo stage, persistence, API, CLI."""

from __future__ import annotations

import json
import warnings
from datetime import timedelta

import numpy as np
import sqlalchemy as sa
from typer.testing import CliRunner

from cybersyn import synthetic
from cybersyn.loop import DemoContext
from cybersyn.monitor import demo_stage
from cybersyn.monitor.cli import app as monitor_app
from cybersyn.monitor.service import Tracker
from cybersyn.monitor.tables import monitor_outputs, monitor_signals
from cybersyn.store import Store
from cybersyn.web.app import create_app

with warnings.catch_warnings():
    # starlette asks for httpx2 in place of httpx; the client works the same
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def run_days(store: Store, demo, start, days: int) -> DemoContext:  # type: ignore[no-untyped-def]
    ctx = DemoContext(store, demo, start=start, days=days)
    for when, readings in synthetic.daily_readings(demo, start, days, 1972):
        demo_stage.on_day(ctx, when, readings)
        assert isinstance(ctx.state["signals_today"], list)
    demo_stage.finish(ctx)
    return ctx


def test_demo_stage_finds_the_strike_and_resumes_exactly(demo_store: Store, demo) -> None:  # type: ignore[no-untyped-def]
    start = synthetic.STRIKE_START - timedelta(days=25)
    ctx = run_days(demo_store, demo, start, 30)
    summary = ctx.summary["Monitor (Cyberstride)"]
    assert summary["series filtered"] == len(ctx.state["monitor_tracker"].ids)
    strike = summary["signals starting at the strike (1972-10-09 ±1 day)"]
    assert strike.get("step down", 0) >= 50
    with demo_store.read() as conn:
        n_out = conn.execute(sa.select(sa.func.count()).select_from(monitor_outputs)).scalar()
        n_sig = conn.execute(sa.select(sa.func.count()).select_from(monitor_signals)).scalar()
    assert n_out == summary["filter updates"] and n_sig >= 50
    fresh = Tracker(demo.indicators)
    with demo_store.read() as conn:
        assert fresh.load_state(conn) == len(fresh.ids)
    assert fresh.state.tobytes() == ctx.state["monitor_tracker"].state.tobytes()
    old = ctx.state["monitor_tracker"].detector
    assert all(fresh.detector.series_bytes(k) == old.series_bytes(k)
               for k in range(len(fresh.ids)))


def test_demo_run_again_over_the_same_days_replaces_its_results(  # type: ignore[no-untyped-def]
        demo_store: Store, demo) -> None:
    start = synthetic.STRIKE_START - timedelta(days=3)

    def counts() -> tuple[int, int]:
        with demo_store.read() as conn:
            return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                         for t in (monitor_outputs, monitor_signals))  # type: ignore[return-value]

    first = run_days(demo_store, demo, start, 6)
    once = counts()
    second = run_days(demo_store, demo, start, 6)
    assert once[0] == first.summary["Monitor (Cyberstride)"]["filter updates"]
    assert counts() == once
    assert second.state["monitor_tracker"].state.tobytes() == \
        first.state["monitor_tracker"].state.tobytes()


def test_series_api(demo_store: Store, demo) -> None:  # type: ignore[no-untyped-def]
    run_days(demo_store, demo, synthetic.STRIKE_START - timedelta(days=5), 8)
    client = TestClient(create_app(demo_store))
    ind = demo.indicators[0].id
    body = client.get(f"/api/v1/indicators/{ind}/series?limit=5").json()
    assert body["indicator"]["id"] == ind and len(body["points"]) == 5
    p = body["points"][-1]
    assert p["lower"] <= p["forecast"] <= p["upper"]
    assert abs(p["p_steady"] + p["p_step"] + p["p_slope"] + p["p_transient"] - 1) < 1e-9
    tri = client.get(f"/api/v1/indicators/{ind}:productivity/series").json()
    assert all(0 <= q["value"] <= 1 for q in tri["points"])
    missing = client.get("/api/v1/indicators/nope/series")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_detect_cli_on_a_csv(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(4)
    y = 50 + rng.normal(0, 1, 60)
    y[40:] -= 12
    lines = ["when,value"] + [f"2024-01-{1 + k // 24:02d}T{k % 24:02d}:00:00,{v}"
                              for k, v in enumerate(y)]
    path = tmp_path / "s.csv"
    path.write_text("\n".join(lines) + "\n")
    res = CliRunner().invoke(monitor_app, ["detect", str(path), "--time-column", "when",
                                           "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert len(rows) == 60 and [r["signal"] for r in rows if r["signal"]] == ["step"]
    assert rows[40]["signal"] == "step"


def test_detect_cli_names_the_bad_cell(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,value\n2024-01-01,1\n2024-01-02,abc\n")
    res = CliRunner().invoke(monitor_app, ["detect", str(path)])
    assert res.exit_code != 0
    assert "row 3" in str(res.exception) and "'value'" in str(res.exception)
