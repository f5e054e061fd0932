"""The Plan, Supply and Simulate pages over HTTP, checked against figures computed here
from the stored data (the seeds are in conftest.py)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from cybersyn.economy import Economy
from cybersyn.store import Store
from cybersyn.store.schema import observations
from cybersyn.web.charts import bar_widths, paired_bars

HTML = {"accept": "text/html"}


def _cells(html: str, table_id: str) -> list[list[str]]:
    """Text of each body row's cells of the table with `table_id`."""
    body = html[html.index(f'id="{table_id}"'):]
    body = body[body.index("<tbody>"):body.index("</tbody>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", r, re.S)]
            for r in rows]


def _num(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def test_bar_widths_scale_each_row_to_its_larger_value() -> None:
    assert bar_widths(200.0, 150.0, 400) == (400.0, 300.0)
    assert bar_widths(0.0, 0.0) == (0.0, 0.0)
    svg = str(paired_bars(["a", "b"], [10.0, 4.0], [5.0, 4.0]))
    assert svg.count('class="row') == 2 and svg.count('class="row short"') == 1
    assert "(50.0%)" in svg and "(100.0%)" in svg
    with pytest.raises(ValueError, match="same length"):
        paired_bars(["a"], [1.0, 2.0], [1.0])


def test_plan_page_shows_the_proposed_version_against_the_api(client: Any,
                                                              demo: Economy) -> None:
    versions = client.get("/api/v1/plans").json()
    proposed = next(v for v in versions if v["status"] == "proposed")
    plan = client.get(f"/api/v1/plans/{proposed['id']}").json()
    html = client.get("/plan", headers=HTML).text
    assert 'id="plan-status">proposed<' in html
    rows = {r[0].split()[-1]: r for r in _cells(html, "plan-table")}
    assert set(rows) == set(demo.io.product_codes)
    for code, line in plan["products"].items():
        assert _num(rows[code][3]) == pytest.approx(line["net_output"], rel=1e-2, abs=1)
        met = 100 * line["net_output"] / line["target"]
        assert _num(rows[code][4]) == pytest.approx(met, abs=0.051)
    assert html.count('<g class="row') == len(demo.products)
    assert f"{100 * plan['lam']:.2f}%" in html


def test_plan_page_achieved_is_latest_daily_output_times_365(client: Any, web_store: Store,
                                                             demo: Economy) -> None:
    outputs = {i.id: i.product_code for i in demo.indicators if i.product_code}
    with web_store.read() as conn:
        rows = conn.execute(sa.select(observations.c.indicator_id, observations.c.observed_at,
                                      observations.c.value)).all()
    latest: dict[str, tuple[datetime, float]] = {}
    for ind, at, v in rows:
        if ind in outputs and (ind not in latest or at > latest[ind][0]):
            latest[ind] = (at, v)
    expected: dict[str, float] = {}
    for ind, (_at, v) in latest.items():
        expected[outputs[ind]] = expected.get(outputs[ind], 0.0) + 365 * v
    html = client.get("/plan", headers=HTML).text
    got = {r[0].split()[-1]: r[6] for r in _cells(html, "plan-table")}
    for code, value in expected.items():
        assert _num(got[code]) == pytest.approx(value, rel=1e-3, abs=1)


def test_plan_page_diff_and_unmet_targets(client: Any) -> None:
    versions = client.get("/api/v1/plans").json()
    draft = next(v for v in versions if v["status"] == "draft")
    html = client.get("/plan", headers=HTML).text
    assert "From <em>draft, less labour</em>" in html
    unmet = _cells(html, "unmet")
    assert unmet and all("binds" in r[4] or "trades" in r[4] for r in unmet)
    page = client.get("/plan", params={"version": draft["id"]}, headers=HTML)
    assert page.status_code == 200 and 'id="plan-status">draft<' in page.text
    assert client.get("/plan", params={"version": "nope"}, headers=HTML).status_code == 404


def test_supply_page_entitlements_met_by_hand(client: Any) -> None:
    html = client.get("/supply", headers=HTML).text
    totals = {r[0]: r for r in _cells(html, "supply-totals")}
    # entitled: milk 15 per child (2+1+0+3 children = 90), flour 4 per person (14 = 56);
    # handed out: milk 30, flour 10 + 8
    assert totals["milk"][1].startswith("90 ") and totals["milk"][2] == "30"
    assert totals["milk"][3] == "33%" and totals["milk"][4].startswith("60 ")
    assert totals["flour"][1].startswith("56 ") and totals["flour"][3] == "32%"
    d01 = _cells(html, "districts")[0]
    assert d01[0].endswith("D01") and d01[3] == f"{100 * 48 / 146:.0f}%"
    plot = html[html.index('<svg class="route-plot"'):]
    plot = plot[:plot.index("</svg>")]
    assert plot.count('<polyline class="truck"') == 1 and plot.count('class="unserved"') == 1
    assert "1 unserved" in html


def test_supply_findings_only_for_allowed_roles(client: Any, planner_token: str,
                                                operator_token: str) -> None:
    visitor = client.get("/supply", headers=HTML).text
    assert 'id="findings-hidden"' in visitor and "D01-P2" not in visitor
    operator = client.get("/supply", headers={**HTML,
                                              "authorization": f"Bearer {operator_token}"})
    assert 'id="findings-hidden"' in operator.text
    planner = client.get("/supply", headers={**HTML,
                                             "authorization": f"Bearer {planner_token}"}).text
    assert "counted 70, book 92 (discrepancy -22)" in planner
    assert _cells(planner, "findings")[0][:2] == ["D01-P2", "price_above_official"]


def test_route_svg_draws_each_stop_once_in_the_square() -> None:
    from cybersyn.web.charts import route_svg

    plan = {"name": "t", "trucks_used": 2, "points_served": 3, "points_unserved": 1,
            "locations": [{"id": i, "x_km": x, "y_km": y} for i, x, y in
                          (("d", 0, 0), ("a", 10, 0), ("b", 0, 10), ("c", -10, 0),
                           ("e", 0, -10))],
            "routes": [["a", "b"], ["c"]], "unserved": ["e"]}
    svg = str(route_svg(plan, size=100))
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 3
    xy = [float(v) for v in re.findall(r'c[xy]="([\d.]+)"', svg)]
    assert all(14 <= v <= 86 for v in xy)
    assert 'points="50.0,50.0 86.0,50.0 50.0,14.0 50.0,50.0"' in svg  # north is up


def test_supply_route_plot_is_a_png(client: Any) -> None:
    plan = client.get("/api/v1/supply/routes").json()[0]
    r = client.get(f"/api/v1/supply/routes/{plan['id']}/plot.png")
    assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_supply_unknown_month_is_404(client: Any) -> None:
    assert client.get("/supply", params={"period": "1999-01"}, headers=HTML).status_code == 404


def test_simulate_page_lists_scenarios_and_runs(client: Any) -> None:
    html = client.get("/simulate", headers=HTML).text
    assert '<option value="october-1972"' in html
    runs = client.get("/api/v1/simulate/runs").json()
    assert runs and all(r["id"] in html for r in runs[:2])
    assert html.count(" checked>") == min(2, len(runs))
