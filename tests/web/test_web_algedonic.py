"""The algedonic board in chromium: a new alert injected through the API appears without a
reload within 2 s; acknowledging it from the page updates the board; keyboard reaches every
action; a visitor sees no alerts and no actions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.browser

pytest.importorskip("cybersyn.alerts.api", reason="the alerts package is not installed")


def _inject(live_url: str, token: str, indicator: str) -> dict[str, Any]:
    r = httpx.post(f"{live_url}/api/v1/alerts", json={
        "indicator": indicator, "kind": "step", "probability": 0.93,
        "start": "1972-10-10T00:00:00Z"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_injected_alert_appears_live_and_is_acknowledged(page: Any, live_url: str,
                                                         planner_token: str) -> None:
    page.login_as(planner_token)
    page.goto("/algedonic")
    page.page.wait_for_load_state("networkidle")
    before = page.page.locator("#board tbody tr").count()
    alert = _inject(live_url, planner_token, "CL.copper.e01.p2.output")
    row = page.page.locator(f"#alert-{alert['id']}")
    row.wait_for(timeout=2000)  # pushed over SSE, no reload
    assert page.page.locator("#board tbody tr").count() == before + 1
    assert "Chuquicamata planta 2" in row.inner_text()
    page.shot("algedonic-live")

    row.locator("input").fill("crew sent to repair the crusher")
    row.locator("button[data-action=acknowledge]").focus()
    page.page.keyboard.press("Enter")
    page.page.wait_for_function(
        f"document.querySelector('#alert-{alert['id']} td:nth-child(8)')"
        ".textContent.startsWith('acknowledged')", timeout=3000)
    assert "crew sent to repair the crusher" in row.inner_text()
    got = httpx.get(f"{live_url}/api/v1/alerts/{alert['id']}",
                    headers={"Authorization": f"Bearer {planner_token}"}).json()
    assert got["status"] == "acknowledged"
    assert got["note"] == "crew sent to repair the crusher"
    assert page.errors == []


def test_keyboard_reaches_every_action(page: Any, live_url: str, planner_token: str) -> None:
    _inject(live_url, planner_token, "CL.copper.e01.p1.energy")
    page.login_as(planner_token)
    page.goto("/algedonic")
    page.page.wait_for_selector("#board tbody tr button")
    wanted = page.page.eval_on_selector_all(
        "#board button, #board input, header a, header button",
        "els => els.map(e => e.outerHTML)")
    reached: set[str] = set()
    for _ in range(len(wanted) + 12):
        page.page.keyboard.press("Tab")
        reached.add(page.page.evaluate("document.activeElement.outerHTML"))
    assert set(wanted) <= reached
    assert page.errors == []


def test_visitor_sees_no_alerts_and_no_actions(page: Any, live_url: str,
                                               planner_token: str) -> None:
    _inject(live_url, planner_token, "CL.copper.e02.p1.output")
    page.goto("/algedonic")
    page.page.wait_for_timeout(500)
    assert page.page.locator("#board tbody tr").count() == 0
    assert page.page.locator("#login-to-act").is_visible()
    r = httpx.post(f"{live_url}/api/v1/alerts/1/acknowledge", json={"note": "x"})
    assert r.status_code == 401
    assert page.errors == []


def test_operator_may_act_only_on_alerts_it_holds(page: Any, live_url: str,
                                                  planner_token: str,
                                                  operator_token: str) -> None:
    mine = _inject(live_url, planner_token, "CL.copper.e03.p1.output")
    other = _inject(live_url, planner_token, "CL.steel.e01.p1.output")
    page.login_as(operator_token)
    page.goto("/algedonic")
    page.page.locator(f"#alert-{mine['id']} button[data-action=resolve]").wait_for()
    # the operator of copper does not see steel's alert at all (it arose outside its units)
    assert page.page.locator(f"#alert-{other['id']}").count() == 0
    r = httpx.post(f"{live_url}/api/v1/alerts/{other['id']}/resolve", json={"note": "no"},
                   headers={"Cookie": f"cybersyn_session={operator_token}"})
    assert r.status_code in (403, 404)
    assert page.errors == []
