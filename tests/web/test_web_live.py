"""The loop while serving, seen in the browser: a new day's readings are filtered by the live
loop and the unit page redraws its charts without a reload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cybersyn import synthetic
from cybersyn.economy import Economy
from cybersyn.live import LiveLoop, data_clock
from cybersyn.loop import store_readings
from cybersyn.store import Store
from cybersyn.web.app import create_app

pytestmark = pytest.mark.browser
PLANT = "CL.copper.e01.p1"
START = datetime(1972, 9, 1, tzinfo=UTC)


@pytest.fixture
def live_store(tmp_path: Path, demo: Economy) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path}/live.db")
    store.migrate()
    store.save_economy(demo)
    for _when, readings in synthetic.daily_readings(demo, START, 12, seed=5):
        store_readings(store, [r for r in readings if r[0].startswith(PLANT)], "test")
    yield store
    store.close()


@pytest.fixture
def live_server(live_store: Store, serve: Any) -> Iterator[str]:
    with serve(create_app(live_store)) as url:
        yield url


def _points(page: Any) -> list[int]:
    return page.eval_on_selector_all(".chart", "els => els.map(e => +(e.dataset.points || 0))")


def test_unit_page_redraws_when_new_readings_are_filtered(browser: Any, live_store: Store,
                                                          live_server: str,
                                                          demo: Economy) -> None:
    loop = LiveLoop(live_store, data_clock(live_store))
    assert loop.tick()["times"] == 12
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server + f"/units/{PLANT}")
    n = sum(1 for i in demo.indicators if i.unit_id == PLANT)
    page.wait_for_function(f"document.querySelectorAll('.chart[data-points]').length >= {n}")
    before = _points(page)
    page.wait_for_timeout(1500)  # the stream's first state sets the page's baseline
    day = START + timedelta(days=12)
    store_readings(live_store, [(i.id, day, 50.0) for i in demo.indicators
                                if i.unit_id == PLANT], "test")
    assert loop.tick()["times"] == 1
    page.wait_for_function(
        "want => [...document.querySelectorAll('.chart')].every("
        "(e, k) => +(e.dataset.points || 0) > want[k])", arg=before, timeout=8000)
    assert all(a == b + 1 for a, b in zip(_points(page), before, strict=True))
    assert errors == []
    context.close()
