"""The Opsroom in headless Debian chromium: pages load without console errors, the tree is
searchable and keyboard navigable, charts draw. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from cybersyn.economy import Economy

pytestmark = pytest.mark.browser

PAGES = {"overview": "/", "unit-enterprise": "/units/CL.copper.e01",
         "unit-plant": "/units/CL.copper.e01.p1", "algedonic": "/algedonic", "login": "/login",
         "plan": "/plan", "councils": "/councils", "supply": "/supply", "simulate": "/simulate"}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_without_console_errors(page: Any, name: str) -> None:
    resp = page.goto(PAGES[name])
    assert resp.status == 200
    page.page.wait_for_load_state("networkidle") if name != "overview" else None
    page.page.wait_for_timeout(300)
    page.shot(name)
    assert page.errors == []


def test_tree_keyboard_navigation_reaches_a_plant(page: Any, demo: Economy) -> None:
    page.goto("/")
    kb = page.page.keyboard
    page.page.focus('[role="treeitem"]')
    focused = lambda: page.page.evaluate("document.activeElement.dataset.id")  # noqa: E731
    assert focused() == "CL"
    kb.press("ArrowDown")
    first_sector = demo.units.children("CL")[0]
    assert focused() == first_sector.id
    kb.press("ArrowDown")
    enterprise = demo.units.children(first_sector.id)[0]
    assert focused() == enterprise.id
    kb.press("ArrowRight")  # open the enterprise
    kb.press("ArrowRight")  # to its first plant
    plant = demo.units.children(enterprise.id)[0]
    assert focused() == plant.id
    kb.press("ArrowLeft")  # back to the enterprise
    assert focused() == enterprise.id
    kb.press("Enter")
    page.page.wait_for_url(f"**/units/{enterprise.id}")
    assert page.errors == []


def test_search_shows_matches_and_their_ancestors_only(page: Any, demo: Economy) -> None:
    page.goto("/")
    page.page.fill("#search", "chuquicamata planta 2")
    page.page.wait_for_selector("#search-count:has-text('1 unit found')")
    shown = page.page.eval_on_selector_all(
        '[role="treeitem"]', "els => els.filter(e => e.offsetParent !== null)"
        ".map(e => e.dataset.id)")
    plant = next(u for u in demo.units if u.name == "Chuquicamata planta 2")
    assert shown == [*(u.id for u in reversed(demo.units.ancestors(plant.id))), plant.id]
    page.page.fill("#search", "")
    page.page.wait_for_timeout(300)
    assert page.page.locator(f'[data-id="{plant.parent}"]').is_visible()


def test_unit_page_draws_one_chart_per_indicator(page: Any, demo: Economy) -> None:
    page.goto("/units/CL.copper.e01.p1")
    n = sum(1 for i in demo.indicators if i.unit_id == "CL.copper.e01.p1")
    page.page.wait_for_function(f"document.querySelectorAll('.chart canvas').length >= {n}")
    assert page.page.locator(".chart").count() == n
    assert page.errors == []
