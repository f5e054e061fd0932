"""The Councils page and the unit page's council: who sees which proposals, voting from the
page (the councils package enforces membership), results, stored rounds; login through the
councils' credentials. Seeds in conftest.py (`seed_councils`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from cybersyn.store import Store

HTML = {"accept": "text/html"}
PASSWORD = "correct horse 1972"


@contextmanager
def login(live_url: str, username: str) -> Iterator[httpx.Client]:
    """A client holding the session cookie the /login form sets for `username`."""
    with httpx.Client(base_url=live_url, timeout=30) as c:
        r = c.post("/login", data={"username": username, "password": PASSWORD,
                                   "next": "/councils"})
        assert r.status_code == 303 and r.headers["location"] == "/councils"
        assert "cybersyn_session" in c.cookies
        yield c


def _proposal_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="proposal-(\d+)"', html)]


def _ballots(store: Store, pid: int) -> dict[str, str]:
    from cybersyn.councils.proposals import ballots

    with store.read() as conn:
        return {b.member_id: b.choice for b in ballots(conn, pid)}


def _open(store: Store, council: str) -> int:
    from cybersyn.councils.proposals import list_proposals

    with store.read() as conn:
        return int(list_proposals(conn, {council}, "open")[0]["id"])


def test_visitor_sees_no_proposals_but_the_rounds(client: Any, web_store: Store) -> None:
    from cybersyn.councils.rounds import run_report

    html = client.get("/councils", headers=HTML).text
    assert 'id="proposals-hidden"' in html and _proposal_ids(html) == []
    data = re.search(r'id="rounds-data">(.*?)</script>', html, re.S)
    assert data is not None
    rounds = json.loads(data.group(1))
    with web_store.read() as conn:
        report = run_report(conn)
    assert rounds["stored"] is True
    assert rounds["max_excess_pct"] == pytest.approx(
        [r["max_excess_pct"] for r in report["convergence"]])


def test_member_sees_own_council_and_votes(live_url: str, web_store: Store) -> None:
    copper, steel = _open(web_store, "CL.copper.e01"), _open(web_store, "CL.steel.e01")
    with login(live_url, "beto") as beto:
        html = beto.get("/councils", headers=HTML).text
        assert copper in _proposal_ids(html) and steel not in _proposal_ids(html)
        for choice in ("no", "yes"):  # a vote may be changed until closing
            r = beto.post(f"/councils/proposals/{copper}/vote", data={"choice": choice})
            assert r.status_code == 303
            assert _ballots(web_store, copper)["beto"] == choice
        html = beto.get("/councils", params={"voted": copper}, headers=HTML).text
        row = html[html.index(f'id="proposal-{copper}"'):]
        assert re.search(r'value="yes" aria-pressed="true"', row[:row.index("</tr>")])
        refused = beto.post(f"/councils/proposals/{steel}/vote", data={"choice": "yes"},
                            headers=HTML)
        assert refused.status_code == 403 and "beto" not in _ballots(web_store, steel)
        bad = beto.post(f"/councils/proposals/{copper}/vote", data={"choice": "maybe"},
                        headers=HTML)
        assert bad.status_code == 422


def test_visitor_vote_is_refused(client: Any, web_store: Store) -> None:
    pid = _open(web_store, "CL.copper.e01")
    r = client.post(f"/councils/proposals/{pid}/vote", data={"choice": "yes"}, headers=HTML)
    assert r.status_code == 401


def test_planner_sees_every_council_and_results(client: Any, planner_token: str) -> None:
    html = client.get("/councils", headers={**HTML, "authorization":
                                            f"Bearer {planner_token}"}).text
    assert len(_proposal_ids(html)) == 2
    results = html[html.index('id="results"'):]
    assert "Plan 1973: your part" in results and "approved" in results
    assert "2 / 1 / 0" in results


def test_plan_page_shows_approval_by_council(client: Any) -> None:
    html = client.get("/plan", headers=HTML).text
    table = html[html.index('id="approvals"'):html.index("</table>", html.index('id="approvals"'))]
    assert "Council of" in table and "approved" in table and "2 / 1 / 0" in table


def test_unit_page_council_members_and_open_proposals(live_url: str, client: Any) -> None:
    visitor = client.get("/units/CL.copper.e01", headers=HTML).text
    section = visitor[visitor.index('id="council"'):]
    assert all(n in section for n in ("Ana Member", "Beto Member", "Carla Member"))
    assert "Shown to the council" in section
    with login(live_url, "carla") as carla:
        mine = carla.get("/units/CL.copper.e01", headers=HTML).text
    assert "New converter" in mine and "you may vote" in mine


def test_wrong_password_is_refused(client: Any) -> None:
    r = client.post("/login", data={"username": "dario", "password": "nope", "next": "/"},
                    headers=HTML)
    assert r.status_code in (401, 429) and "cybersyn_session" not in r.cookies


def test_sector_member_sees_the_councils_below(web_store: Store) -> None:
    """The councils package's rule (`access.may_view`): a member of the copper sector's
    council sees its enterprises' councils and proposals, not steel's, and votes in none."""
    from cybersyn.auth import Principal
    from cybersyn.web import councils_source

    sector = Principal("member", "sofia", units=frozenset({"CL.copper"}))
    assert councils_source.visible_councils(web_store, sector) == {"CL.copper.e01"}
    rows = councils_source.proposals(web_store, sector)
    assert rows and {p["council_id"] for p in rows} == {"CL.copper.e01"}
    assert not any(p["may_vote"] for p in rows)
    unit = councils_source.council_of_unit(web_store, "CL.copper.e01", sector)
    assert unit is not None and unit["sees_proposals"] and unit["proposals"]
    other = councils_source.council_of_unit(web_store, "CL.steel.e01", sector)
    assert other is not None and not other["sees_proposals"] and not other["proposals"]
    enterprise = Principal("member", "ana", units=frozenset({"CL.copper.e01"}))
    assert councils_source.visible_councils(web_store, enterprise) == {"CL.copper.e01"}
    assert councils_source.visible_councils(web_store, Principal("operator", "o",
                                                                 units=frozenset({"CL"}))) == set()
    assert councils_source.visible_councils(web_store, None) == set()
    assert councils_source.visible_councils(web_store, Principal("planner", "p")) is None
