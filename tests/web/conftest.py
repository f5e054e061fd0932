"""Web fixtures: a SQLite store with the demo economy and 30 days of readings, a client,
and (marker `browser`) a live uvicorn server driven by headless Debian chromium."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn

from cybersyn import synthetic
from cybersyn.economy import Economy
from cybersyn.store import Store
from cybersyn.store.schema import observations
from cybersyn.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def web_store(tmp_path_factory: pytest.TempPathFactory, demo: Economy) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('web')}/web.db")
    store.migrate()
    store.save_economy(demo)
    start = datetime(1972, 9, 20, tzinfo=UTC)
    rows = [{"indicator_id": i, "observed_at": w, "value": v, "received_at": w,
             "source": "test"}
            for _when, readings in synthetic.daily_readings(demo, start, 30, 7)
            for i, w, v in readings]
    with store.write() as conn:
        conn.execute(observations.insert(), rows)
    vid = seed_plans(store, demo)
    seed_councils(store, demo, vid)
    seed_supply(store)
    seed_simulation(store, demo)
    yield store
    store.close()


def seed_plans(store: Store, demo: Economy) -> str:
    """Two plan versions: ODEPLAN's proposal (labour limited) and an older draft with 5% less
    labour, so the Plan page has a version, unmet targets and a diff."""
    from cybersyn.plan import kantorovich_plan, problem_from_economy
    from cybersyn.plan.shell import base_labour
    from cybersyn.plan.versions import save_version, set_version_status

    tight = problem_from_economy(demo, labour_available=1.05 * base_labour(demo))
    with store.write() as conn:
        save_version(conn, kantorovich_plan(tight), label="draft, less labour", actor="test")
    with store.write() as conn:
        vid = save_version(conn, kantorovich_plan(problem_from_economy(demo)),
                           label="Plan 1973", actor="test")
        set_version_status(conn, vid, "proposed", "test", note="to the councils")
    return vid


MEMBERS = {"ana": ("CL.copper.e01", "worker", True), "beto": ("CL.copper.e01", "worker", False),
           "carla": ("CL.copper.e01", "government", False),
           "dario": ("CL.steel.e01", "worker", False), "eva": ("CL.steel.e01", "government", False)}
PASSWORD = "correct horse 1972"


def seed_councils(store: Store, demo: Economy, plan_version: str) -> None:
    """Two small councils (copper e01: 2 workers + 1 government; steel e01: 1 + 1) whose
    members log in with PASSWORD; an open proposal in each; the plan version put to copper's
    council and approved 2 yes / 1 no; a stored run of participatory rounds."""
    from datetime import timedelta

    from cybersyn.auth import Principal
    from cybersyn.councils import Composition, create_council, run_and_store, seat_member
    from cybersyn.councils.proposals import cast_vote, close_proposal, open_proposal

    now = datetime.now(UTC)
    office = Principal("planner", "odeplan")
    who: dict[str, Principal] = {}
    with store.write() as conn:
        for uid, w, g in (("CL.copper.e01", 2, 1), ("CL.steel.e01", 1, 1)):
            create_council(conn, demo.units[uid], now, "test", Composition(w, g))
        for name, (council, side, chair) in MEMBERS.items():
            mid = seat_member(conn, council, name, name.capitalize() + " Member", side, now,
                              "test", chair=chair, password=PASSWORD)
            who[name] = Principal("member", mid, units=frozenset({council}))
        closes = now + timedelta(days=3)
        for council, title in (("CL.copper.e01", "New converter"),
                               ("CL.steel.e01", "Second blast furnace")):
            open_proposal(conn, office, council_id=council, kind="investment", title=title,
                          body={"escudos": 10**6}, closes_at=closes, now=now)
        pid = open_proposal(conn, office, council_id="CL.copper.e01", kind="plan_version",
                            title="Plan 1973: your part", body={}, closes_at=closes,
                            now=now, plan_version_id=plan_version)
        for name, choice in (("ana", "yes"), ("beto", "yes"), ("carla", "no")):
            cast_vote(conn, who[name], pid, choice, now)
        close_proposal(conn, office, pid, now)
        run_and_store(conn, demo, now, "test")


SUPPLY_PERIOD = "1972-10"


def seed_supply(store: Store) -> None:
    """District D01 with two shops, milk and flour rations for 4 households, hand-outs short
    of the entitlements, a stock count that disagrees with the books, an overpriced report
    (a finding), and a small route plan."""
    from cybersyn.supply import ledger, plans
    from cybersyn.supply.findings import detect, report_price
    from cybersyn.supply.routing import Routes

    at = datetime(1972, 10, 20, 9, tzinfo=UTC)
    with store.write() as conn:
        for pid, x in (("D01-P1", 1.0), ("D01-P2", -1.0)):
            ledger.add_point(conn, pid, "D01", f"JAP almacén {pid}", "shop", x, 0.5)
        ledger.set_good(conn, "milk", "Milk", "litre", 120)
        ledger.set_good(conn, "flour", "Flour", "kg", 90)
        ledger.set_rule(conn, "milk", "child", 15)
        ledger.set_rule(conn, "flour", "person", 4)
        for k, (members, kids) in enumerate(((4, 2), (3, 1), (2, 0), (5, 3))):
            ledger.register(conn, ledger.Household(
                f"D01-C{k}", "D01", f"D01-P{k % 2 + 1}", f"Jefe {k}", f"{k}-K", members,
                kids), at)
        ledger.issue_entitlements(conn, SUPPLY_PERIOD)
        for pid in ("D01-P1", "D01-P2"):
            for good, qty in (("milk", 200), ("flour", 100)):
                ledger.receive(conn, f"r-{pid}-{good}", pid, good, qty, SUPPLY_PERIOD, at,
                               "depot")
        for k, (good, qty) in enumerate((("milk", 30), ("flour", 10), ("flour", 8))):
            ledger.hand_out(conn, f"h{k}", f"D01-C{k}", good, qty, f"D01-P{k % 2 + 1}",
                            SUPPLY_PERIOD, at, "jap")
        ledger.count_stock(conn, "c1", "D01-P1", "flour", 70, SUPPLY_PERIOD, at, "jap")
        report_price(conn, "D01-P2", "milk", 500, "vecino", at)
        detect(conn, SUPPLY_PERIOD, "jap", at)
        xy = np.array([[0.0, 0.0], [1.0, 0.5], [-1.0, 0.5], [0.0, 2.0]])
        plans.save_plan(conn, "test round", ["depot", "D01-P1", "D01-P2", "D01-P3"], xy,
                        np.array([0, 300, 200, 100]),
                        Routes(((1, 2),), 5, (3,), True, "test", (500,)), 2, 4.4, at)


def seed_simulation(store: Store, demo: Economy) -> None:
    """One stored run of the bundled scenario, 80 days (through the API's own function)."""
    import json
    import tomllib
    import uuid

    from cybersyn.simulate.api import run_body
    from cybersyn.simulate.run import run_scenario
    from cybersyn.simulate.scenario import parse_scenario, read_scenario_text
    from cybersyn.simulate.tables import simulate_runs

    data = tomllib.loads(read_scenario_text("october-1972")[1])
    data["days"] = 80
    body = run_body(run_scenario(parse_scenario(data, demo, "test"), demo))
    with store.write() as conn:
        conn.execute(simulate_runs.insert().values(
            id=str(uuid.uuid4()), scenario="october-1972", created_at=datetime.now(UTC),
            actor="test", request="{}", result=json.dumps(body)))


@pytest.fixture(scope="session")
def client(live_url: str) -> Iterator[httpx.Client]:
    """HTTP client of the live server (starlette's TestClient warns on this httpx)."""
    with httpx.Client(base_url=live_url, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def planner_token(web_store: Store) -> str:
    """A planning-office token (intake issues it; the Opsroom takes it as a session)."""
    from cybersyn.intake.tokens import issue

    return issue(web_store, "planner", "oficina-de-planificacion").token


@pytest.fixture(scope="session")
def operator_token(web_store: Store) -> str:
    """An operator of the copper sector: may act on alerts held in its subtree only."""
    from cybersyn.intake.tokens import issue

    return issue(web_store, "operator", "CL.copper").token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` served by uvicorn in a thread on a free loopback port; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture(scope="session")
def serve() -> Callable[[Any], AbstractContextManager[str]]:
    """`with serve(app) as url:` for tests that need a server of their own."""
    return serving


@pytest.fixture(scope="session")
def live_url(web_store: Store) -> Iterator[str]:
    with serving(create_app(web_store)) as url:
        yield url


NO_CHROMIUM = ("browser tests need Debian chromium at /usr/bin/chromium "
               "(apt-get install -y chromium chromium-driver)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the browser are collected as skipped, with the reason, when chromium
    is not installed (.ci/run installs it)."""
    if CHROMIUM.exists():
        return
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.skipif(True, reason=NO_CHROMIUM))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    assert CHROMIUM.exists(), NO_CHROMIUM  # tests using this are skipped without it
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Page:
    """A playwright page that records console errors and uncaught exceptions."""

    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.base = base
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def login_as(self, token: str) -> None:
        """Hold `token` in the session cookie, as /login would set it."""
        self.context.add_cookies([{"name": "cybersyn_session", "value": token,
                                   "url": self.base, "httpOnly": True, "sameSite": "Lax"}])

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path


@pytest.fixture
def page(browser: Any, live_url: str) -> Iterator[Page]:
    p = Page(browser, live_url)
    yield p
    p.context.close()
