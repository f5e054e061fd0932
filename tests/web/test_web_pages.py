"""Opsroom pages and the core JSON endpoints over HTTP (no browser)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cybersyn.economy import Economy

HTML = {"accept": "text/html"}


@pytest.mark.parametrize("path", ["/", "/units/CL", "/units/CL.copper.e01",
                                  "/units/CL.copper.e01.p1", "/algedonic", "/login", "/plan",
                                  "/councils", "/supply", "/simulate"])
def test_every_page_renders(client: Any, path: str) -> None:
    r = client.get(path, headers=HTML)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "<main" in r.text


def test_overview_tree_holds_every_unit_once(client: Any, demo: Economy) -> None:
    html = client.get("/", headers=HTML).text
    ids = re.findall(r'role="treeitem" id="t-([^"]+)"', html)
    assert sorted(ids) == sorted(u.id for u in demo.units)
    tree = html[html.index('role="tree"'):]
    assert tree.count("<ul ") + 1 == tree.count("</ul>")
    assert tree.count("<li ") == tree.count("</li>") == len(demo.units)


def test_overview_tree_nests_children_under_parents(client: Any, demo: Economy) -> None:
    from html.parser import HTMLParser

    parents: dict[str, str | None] = {}
    stack: list[str | None] = []

    class Walk(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "li" and a.get("role") == "treeitem":
                uid = a["data-id"]
                assert uid is not None
                parents[uid] = next((p for p in reversed(stack) if p), None)
                stack.append(uid)
            elif tag == "li":
                stack.append(None)

        def handle_endtag(self, tag: str) -> None:
            if tag == "li":
                stack.pop()

    Walk().feed(client.get("/", headers=HTML).text)
    assert parents == {u.id: u.parent for u in demo.units}


def test_unit_page_embeds_observed_series(client: Any, web_store: Any) -> None:
    import json

    html = client.get("/units/CL.copper.e01.p1", headers=HTML).text
    data = re.search(r'id="charts-data">(.*?)</script>', html, re.S)
    assert data is not None
    charts = {c["id"]: c for c in json.loads(data.group(1))}
    out = charts["CL.copper.e01.p1.output"]
    assert len(out["t"]) == len(out["y"]) == 30
    assert out["t"] == sorted(out["t"])
    assert out["triple"]["productivity"] == pytest.approx(
        sum(out["y"][-7:]) / 7 / out["capability"], abs=1e-3)


def test_unknown_unit_is_404_page_for_browsers_and_problem_for_api(client: Any) -> None:
    page = client.get("/units/nope", headers=HTML)
    assert page.status_code == 404 and "unit &#x27;nope&#x27; does not exist" in page.text
    api = client.get("/api/v1/units/nope")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["detail"] == "unit 'nope' does not exist"


def test_unit_api_lists_children_and_subtree(client: Any, demo: Economy) -> None:
    body = client.get("/api/v1/units/CL.copper").json()
    assert body["children"] == [u.id for u in demo.units.children("CL.copper")]
    assert body["subtree_units"] == len(list(demo.units.walk("CL.copper")))
    assert body["ancestors"] == ["CL"]


def test_state_stream_sends_one_state_event(client: Any, demo: Economy) -> None:
    r = client.get("/api/v1/opsroom/stream", params={"once": "true"})
    assert r.headers["content-type"].startswith("text/event-stream")
    assert "event: state" in r.text
    state = client.get("/api/v1/opsroom/state").json()
    assert state["latest_observation_at"].startswith("1972-10-19")


@pytest.mark.parametrize("target, expected", [
    ("/units/CL", "/units/CL"), ("https://evil.example/", "/"), ("//evil.example", "/"),
    ("/\\evil", "/")])
def test_login_never_redirects_off_site(target: str, expected: str) -> None:
    from cybersyn.web.pages import _safe_next

    assert _safe_next(target) == expected


def test_anonymous_cannot_act() -> None:
    from cybersyn.auth import Principal
    from cybersyn.web.session import may_act_on_unit, may_see_findings

    op = Principal("operator", "op1", units=frozenset({"CL.copper"}))
    assert not may_act_on_unit(None, "CL.copper.e01", ["CL.copper", "CL"])
    assert may_act_on_unit(op, "CL.copper.e01", ["CL.copper", "CL"])
    assert not may_act_on_unit(op, "CL.steel", ["CL"])
    assert may_act_on_unit(Principal("planner", "p"), "CL.steel", ["CL"])
    assert not may_see_findings(None) and not may_see_findings(op)
    assert may_see_findings(Principal("member", "m", roles=frozenset({"supply"})))
