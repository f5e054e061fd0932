"""Plan, Supply and Simulate in headless chromium: key elements visible, actions reachable
by keyboard, a scenario run from the page appears in the comparison. Screenshots go to
artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until the element matching `selector` has focus (fails after `limit`)."""
    for _ in range(limit):
        page.page.keyboard.press("Tab")
        if page.page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_plan_chart_and_version_switch_by_keyboard(page: Any, client: Any) -> None:
    draft = next(v for v in client.get("/api/v1/plans").json() if v["status"] == "draft")
    page.goto("/plan")
    assert page.page.locator("#plan-chart svg.bars").is_visible()
    assert page.page.locator("#plan-chart g.row").count() == 20
    page.shot("plan-chart")
    _tab_to(page, "#version")
    page.page.select_option("#version", draft["id"])  # the select has focus
    _tab_to(page, ".pick button")
    page.page.keyboard.press("Enter")
    page.page.wait_for_url(f"**/plan?version={draft['id']}*")
    assert page.page.locator("#plan-status").inner_text() == "draft"
    assert page.errors == []


def test_supply_as_planner_shows_findings_and_route_plot(page: Any,
                                                         planner_token: str) -> None:
    page.login_as(planner_token)
    page.goto("/supply")
    page.page.wait_for_function(
        "[...document.querySelectorAll('.route img')].every(i => i.complete && "
        "i.naturalWidth > 0)")
    assert page.page.locator("#findings").is_visible()
    assert page.page.locator("#discrepancies li").count() == 1
    page.shot("supply-planner")
    assert page.errors == []


def test_simulate_run_from_the_page_by_keyboard(page: Any, client: Any,
                                                planner_token: str) -> None:
    page.login_as(planner_token)
    before = len(client.get("/api/v1/simulate/runs").json())
    page.goto("/simulate")
    page.page.wait_for_function("document.querySelectorAll('#compare canvas').length >= 3")
    page.page.focus("#days")
    page.page.fill("#days", "90")
    _tab_to(page, "#run-button")
    page.page.keyboard.press("Enter")
    page.page.wait_for_selector("#sim-status:has-text('ran october-1972')", timeout=20_000)
    assert len(client.get("/api/v1/simulate/runs").json()) == before + 1
    assert page.page.locator("#runs input:checked").count() == min(3, before + 1)
    page.page.wait_for_function("document.querySelectorAll('#summary tbody tr').length >= 6")
    _tab_to(page, "#runs input")
    page.page.keyboard.press("Space")  # untick the newest run: its lines leave the charts
    page.page.wait_for_function("document.querySelectorAll('#summary tbody tr').length === "
                                f"{3 * (min(3, before + 1) - 1)}")
    page.shot("simulate-compare")
    assert page.errors == []


def test_member_logs_in_and_votes_by_keyboard(page: Any, web_store: Any) -> None:
    from cybersyn.councils.proposals import ballots, list_proposals

    page.goto("/login?next=/councils")
    page.page.focus("#username")
    page.page.keyboard.type("ana")
    page.page.keyboard.press("Tab")
    page.page.keyboard.type("correct horse 1972")
    page.page.keyboard.press("Enter")
    page.page.wait_for_url("**/councils")
    with web_store.read() as conn:
        pid = list_proposals(conn, {"CL.copper.e01"}, "open")[0]["id"]
    page.page.wait_for_selector(f'#proposal-{pid} button[value="abstain"]')
    page.page.wait_for_load_state("networkidle")
    _tab_to(page, f'#proposal-{pid} button[value="abstain"]')
    page.page.keyboard.press("Enter")
    page.page.wait_for_url(f"**/councils?voted={pid}*")
    assert page.page.locator("#vote-status").inner_text().startswith("Your vote")
    pressed = page.page.locator(f'#proposal-{pid} button[aria-pressed="true"]')
    assert pressed.inner_text() == "abstain"
    with web_store.read() as conn:
        assert {b.member_id: b.choice for b in ballots(conn, pid)}["ana"] == "abstain"
    page.page.wait_for_function("document.querySelectorAll('#convergence canvas').length")
    page.shot("councils-member")
    page.goto("/units/CL.copper.e01")
    assert page.page.locator("#council-proposals li").count() == 1
    page.shot("unit-council")
    assert page.errors == []
