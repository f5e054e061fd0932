"""Opsroom server time per page with the demo economy scaled to ~10^4 units.

Builds a bigger tree from chile-1972 (each sector gets copies of its enterprises, each with
its plants and their indicators), stores 60 days of readings for the plants shown, raises
~300 alerts, then requests each page `--repeat` times through a live uvicorn server (a
logged-in planner, so every alert is visible) and prints one JSON line per page:
{"page", "units", "p50_ms", "p99_ms"}. Peers measured in the same run: the same pages on
the unscaled demo (303 units), and the lead's skeleton overview (economy loaded from the
store on every request, tree drawn by a recursive Jinja macro) on the scaled economy.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from rich.console import Console

from cybersyn.economy import Economy, Indicator, Unit, UnitTree, demo_economy
from cybersyn.store import Store
from cybersyn.store.schema import observations

err = Console(stderr=True)


def scaled_economy(target_units: int) -> Economy:
    """chile-1972 with each enterprise copied k times (plants and indicators with it)."""
    demo = demo_economy()
    per_copy = len(demo.units) - 1 - 13
    k = max(1, round((target_units - 14) / per_copy))
    units = [u for u in demo.units if u.level in ("nation", "sector")]
    inds: list[Indicator] = []
    by_unit: dict[str, list[Indicator]] = {}
    for ind in demo.indicators:
        by_unit.setdefault(ind.unit_id, []).append(ind)
    for c in range(k):
        sfx = "" if c == 0 else f"c{c}"
        for u in demo.units:
            if u.level not in ("enterprise", "plant"):
                continue
            ent = u.id if u.level == "enterprise" else u.parent
            assert ent is not None
            uid = _copy_id(u.id, ent, sfx)
            parent = u.parent if u.level == "enterprise" else _copy_id(ent, ent, sfx)
            units.append(Unit(uid, u.name + (f" ({c})" if c else ""), u.level, parent))
            inds += [replace(i, id=uid + "." + i.id.rsplit(".", 1)[1], unit_id=uid)
                     for i in by_unit.get(u.id, [])]
    return Economy(f"chile-1972 x{k}", UnitTree(units), demo.products, demo.io, tuple(inds),
                   demo.districts, dict(demo.producer))


def _copy_id(uid: str, ent: str, sfx: str) -> str:
    return uid.replace(ent, ent + sfx, 1) if sfx else uid


def prepare(eco: Economy, path: str, n_alerts: int) -> tuple[Store, str, list[str]]:
    """A store with `eco`, readings for sample plants, alerts; returns a planner token."""
    from cybersyn.alerts import service
    from cybersyn.intake.tokens import issue
    from cybersyn.signals import Signal

    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.save_economy(eco)
    plants = [u.id for u in eco.units if u.level == "plant"]
    rng = np.random.default_rng(0)
    sample = [plants[i] for i in rng.choice(len(plants), size=min(20, len(plants)),
                                            replace=False)]
    start = datetime(1972, 8, 1, tzinfo=UTC)
    rows = [{"indicator_id": i.id, "observed_at": start + timedelta(days=d),
             "value": float(50 + rng.normal()), "received_at": start, "source": "bench"}
            for i in eco.indicators if i.unit_id in sample for d in range(60)]
    with store.write() as conn:
        conn.execute(observations.insert(), rows)
    now = datetime.now(UTC)
    picks = rng.choice(len(eco.indicators), size=min(n_alerts, len(eco.indicators)),
                       replace=False)
    service.raise_from_signals(store, [Signal(eco.indicators[k].id, "step", 0.9, start, now,
                                              0.9) for k in picks], now)
    seed_modules(store, eco, rng)
    return store, issue(store, "planner", "bench").token, sample


def seed_modules(store: Store, eco: Economy, rng: np.random.Generator,
                 households: int = 4000) -> None:
    """What the Plan, Supply and Simulate pages show: two plan versions, entitlements and
    hand-outs for `households` cards over every district, a route plan, a simulation run."""
    from cybersyn.plan import kantorovich_plan, problem_from_economy
    from cybersyn.plan.versions import save_version, set_version_status

    with store.write() as conn:
        save_version(conn, kantorovich_plan(problem_from_economy(eco, labour_available=1e8)),
                     label="draft", actor="bench")
        vid = save_version(conn, kantorovich_plan(problem_from_economy(eco)), label="plan",
                           actor="bench")
        set_version_status(conn, vid, "proposed", "bench")
    _seed_supply(store, eco, rng, households)
    _seed_simulation(store, eco)


def _seed_supply(store: Store, eco: Economy, rng: np.random.Generator, n: int) -> None:
    from cybersyn.supply import ledger, plans
    from cybersyn.supply.routing import Routes

    at = datetime(1972, 10, 20, 9, tzinfo=UTC)
    ds = [d.id for d in eco.districts]
    with store.write() as conn:
        for d in ds:
            ledger.add_point(conn, f"{d}-P1", d, f"JAP {d}", "shop", float(rng.normal()),
                             float(rng.normal()))
        ledger.set_good(conn, "milk", "Milk", "litre", 120)
        ledger.set_good(conn, "flour", "Flour", "kg", 90)
        ledger.set_rule(conn, "milk", "child", 15)
        ledger.set_rule(conn, "flour", "person", 4)
        for k in range(n):
            d = ds[k % len(ds)]
            ledger.register(conn, ledger.Household(f"C{k}", d, f"{d}-P1", f"J{k}", f"{k}-K",
                                                   4, 1), at)
        ledger.issue_entitlements(conn, "1972-10")
        for k in range(0, n, 2):
            d = ds[k % len(ds)]
            ledger.receive(conn, f"r{k}", f"{d}-P1", "flour", 16, "1972-10", at, "depot")
            ledger.hand_out(conn, f"h{k}", f"C{k}", "flour", 12, f"{d}-P1", "1972-10", at,
                            "jap")
        xy = rng.normal(size=(len(ds) + 1, 2))
        ids = ["depot", *(f"{d}-P1" for d in ds)]
        routes = Routes(tuple(tuple(range(k, min(k + 8, len(ds) + 1)))
                              for k in range(1, len(ds) + 1, 8)), 0, (), True, "bench")
        plans.save_plan(conn, "bench round", ids, xy, np.full(len(ids), 100), routes,
                        len(routes.routes), 100.0, at)


def _seed_simulation(store: Store, eco: Economy) -> None:
    import json as _json
    import tomllib
    import uuid

    from cybersyn.simulate.api import run_body
    from cybersyn.simulate.run import run_scenario
    from cybersyn.simulate.scenario import parse_scenario, read_scenario_text
    from cybersyn.simulate.tables import simulate_runs

    data = tomllib.loads(read_scenario_text("october-1972")[1])
    body = run_body(run_scenario(parse_scenario(data, eco, "bench"), eco))
    with store.write() as conn:
        conn.execute(simulate_runs.insert().values(
            id=str(uuid.uuid4()), scenario="october-1972", created_at=datetime.now(UTC),
            actor="bench", request="{}", result=_json.dumps(body)))


def serve(app: Any) -> tuple[uvicorn.Server, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="critical"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def measure(http: httpx.Client, path: str, repeat: int) -> tuple[float, float]:
    http.get(path).raise_for_status()  # warm: template compile, caches
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = http.get(path, headers={"accept": "text/html"})
        times.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def pages(eco: Economy, sample: list[str]) -> dict[str, str]:
    plant = sample[0]
    ent = eco.units[plant].parent
    return {"overview": "/", "unit-sector": "/units/CL.copper", "unit-enterprise": f"/units/{ent}",
            "unit-plant": f"/units/{plant}", "algedonic": "/algedonic", "plan": "/plan",
            "councils": "/councils", "supply": "/supply", "simulate": "/simulate",
            "login": "/login", "api-state": "/api/v1/opsroom/state",
            "supply-plot": "/api/v1/supply/routes/1/plot.png",
            "api-alerts": "/api/v1/alerts?status=open"}


def skeleton_overview(store: Store) -> Any:
    """The lead's skeleton overview: load_economy per request, recursive Jinja macro."""
    from jinja2 import Environment

    tpl = Environment(autoescape=True).from_string(
        "{% macro branch(uid) %}{% set u = eco.units[uid] %}<li><span class=\"unit\">"
        "{{ u.name }}</span> <small>{{ u.level }}</small>{% set kids = eco.units.children(uid)"
        " %}{% if kids %}<ul>{% for c in kids %}{{ branch(c.id) }}{% endfor %}</ul>{% endif %}"
        "</li>{% endmacro %}<ul class=\"tree\">{{ branch(eco.units.root) }}</ul>")
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    def overview() -> str:
        return tpl.render(eco=store.load_economy())
    return app


def run(target: int, repeat: int, n_alerts: int, as_json: bool) -> None:
    from cybersyn.web.app import create_app

    cases = [("demo", demo_economy()), ("scaled", scaled_economy(target))]
    with tempfile.TemporaryDirectory() as tmp:
        for label, eco in cases:
            err.print(f"[bold]{label}[/]: {len(eco.units)} units, "
                      f"{len(eco.indicators)} indicators: preparing store")
            store, token, sample = prepare(eco, f"{tmp}/{label}.db",
                                           n_alerts if label == "scaled" else 30)
            server, base = serve(create_app(store))
            with httpx.Client(base_url=base, timeout=60,
                              cookies={"cybersyn_session": token}) as http:
                for page, path in pages(eco, sample).items():
                    p50, p99 = measure(http, path, repeat)
                    emit({"page": page, "units": len(eco.units), "p50_ms": round(p50, 2),
                          "p99_ms": round(p99, 2), "economy": eco.name}, as_json)
            server.should_exit = True
            if label == "scaled":
                peer, pbase = serve(skeleton_overview(store))
                with httpx.Client(base_url=pbase, timeout=60) as http:
                    p50, p99 = measure(http, "/", max(3, repeat // 4))
                emit({"page": "overview", "units": len(eco.units), "p50_ms": round(p50, 2),
                      "p99_ms": round(p99, 2), "peer": "skeleton (load per request, "
                      "recursive Jinja macro)"}, as_json)
                peer.should_exit = True
            store.close()


def emit(row: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(row), flush=True)
    else:
        err.print(row)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="one JSON line per page on stdout")
    ap.add_argument("--units", type=int, default=10_000, help="target units (default 1e4)")
    ap.add_argument("--repeat", type=int, default=40, help="requests per page")
    ap.add_argument("--alerts", type=int, default=300, help="open alerts in the scaled run")
    a = ap.parse_args(argv)
    run(a.units, a.repeat, a.alerts, a.json)


if __name__ == "__main__":
    sys.exit(main())
