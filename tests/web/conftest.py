"""Web fixtures: a SQLite store with the demo economy and 30 days of readings, a client,
and (marker `browser`) a live uvicorn server driven by headless Debian chromium."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
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
    yield store
    store.close()


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
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_url(web_store: Store) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(create_app(web_store), host="127.0.0.1", port=port,
                            log_level="warning", timeout_graceful_shutdown=1)
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
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian chromium at /usr/bin/chromium "
                    "(apt-get install -y chromium chromium-driver)")
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
