"""The Opsroom's HTML pages: server-rendered (Jinja2), enhanced by small static scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cybersyn.errors import CybersynError, NotFound
from cybersyn.web import councils_source, session, sources, tree
from cybersyn.web.cache import Loaded
from cybersyn.web.triple import triple_index

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)

NAV = (("/", "Overview"), ("/algedonic", "Algedonic"), ("/plan", "Plan"),
       ("/councils", "Councils"), ("/supply", "Supply"), ("/simulate", "Simulate"))


def loaded(request: Request) -> Loaded:
    result: Loaded = request.app.state.economy.get()
    return result


def render(request: Request, name: str, **ctx: Any) -> HTMLResponse:
    principal = session.principal_of(request)
    base = {"nav": NAV, "path": request.url.path, "me": session.describe(principal)}
    return templates.TemplateResponse(request, name, {**base, **ctx})


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> HTMLResponse:
    ld = loaded(request)
    units = ld.economy.units
    who = session.principal_of(request)
    alerts = sources.open_alerts(request.app.state.store, who)
    states = tree.unit_states(units, alerts)
    html = tree_template(ld).render(states, tree.alerts_below(units, alerts))
    counts = {s: sum(1 for v in states.values() if v == s) for s in ("warning", "alarm")}
    counts["steady"] = len(units) - counts["warning"] - counts["alarm"]
    return render(request, "overview.html", eco=ld.economy, tree=html, unit_counts=counts,
                  alert_counts=tree.count_by_level(alerts), n_alerts=len(alerts),
                  latest=sources.latest_observation_at(request.app.state.store),
                  sees_alerts=sources.viewer_of_alerts(who) is not None)


@router.get("/units/{unit_id}", response_class=HTMLResponse)
def unit_page(request: Request, unit_id: str) -> HTMLResponse:
    ld = loaded(request)
    units = ld.economy.units
    if unit_id not in units:
        raise NotFound(f"unit {unit_id!r} does not exist")
    store = request.app.state.store
    inds = _shown_indicators(ld, unit_id)
    series = sources.recent_observations(store, [i.id for i in inds])
    subtree = set(units.walk(unit_id))
    who = session.principal_of(request)
    alerts = [a for a in sources.open_alerts(store, who)
              if a.get("unit_id") in subtree or a.get("origin_unit_id") in subtree]
    states = tree.unit_states(units, alerts)
    charts = [_chart(i, series.get(i.id, []), units[i.unit_id].name) for i in inds]
    ancestors = [u.id for u in units.ancestors(unit_id)]
    return render(
        request, "unit.html", unit=units[unit_id], ancestors=units.ancestors(unit_id)[::-1],
        children=units.children(unit_id), states=states, alerts=alerts, charts=charts,
        charts_json=script_json(charts), monitor=sources.has("monitor.api"),
        council=councils_source.council_of_unit(store, unit_id, who),
        may_act=session.may_act_on_unit(who, unit_id, ancestors))


def _shown_indicators(ld: Loaded, unit_id: str, cap: int = 24) -> list[Any]:
    """The unit's own indicators, else those of its children (plants of an enterprise)."""
    own = list(ld.indicators_of.get(unit_id, ()))
    if own:
        return own[:cap]
    kids = [ind for c in ld.economy.units.children(unit_id)
            for ind in ld.indicators_of.get(c.id, ())]
    return kids[:cap]


def _chart(ind: Any, points: list[tuple[str, float]], unit_name: str) -> dict[str, Any]:
    triple = triple_index([v for _t, v in points], ind.capability, ind.potentiality)
    return {"id": ind.id, "name": ind.name, "unit": unit_name, "uom": ind.unit_of_measure,
            "t": [t for t, _v in points], "y": [v for _t, v in points],
            "capability": ind.capability, "potentiality": ind.potentiality,
            "triple": None if triple is None else {
                "actuality": round(triple.actuality, 3),
                "productivity": round(triple.productivity, 3),
                "latency": round(triple.latency, 3),
                "performance": round(triple.performance, 3)}}


@router.get("/algedonic", response_class=HTMLResponse)
def algedonic(request: Request) -> HTMLResponse:
    ld = loaded(request)
    who = session.principal_of(request)
    me = session.describe(who)
    return render(request, "algedonic.html", eco=ld.economy,
                  alerts_api=sources.has("alerts.api"), units_json=units_json(ld),
                  can_read=sources.viewer_of_alerts(who) is not None,
                  me_json=script_json(me))


def tree_template(ld: Loaded) -> tree.TreeTemplate:
    """The overview tree's fixed markup, built once per loaded economy."""
    cached = _TREES.get(id(ld))
    if cached is None or cached[0] is not ld:
        _TREES.clear()
        _TREES[id(ld)] = cached = (ld, tree.TreeTemplate(ld.economy.units, ld.order))
    return cached[1]


_TREES: dict[int, tuple[Loaded, tree.TreeTemplate]] = {}


def units_json(ld: Loaded) -> str:
    """{unit id: [name, level, parent id]} as JSON, computed once per loaded economy."""
    cached = _UNITS_JSON.get(id(ld))
    if cached is None or cached[0] is not ld:
        text = script_json({u.id: [u.name, u.level, u.parent] for u in ld.economy.units})
        _UNITS_JSON.clear()
        _UNITS_JSON[id(ld)] = cached = (ld, text)
    return cached[1]


_UNITS_JSON: dict[int, tuple[Loaded, str]] = {}


def script_json(obj: Any) -> str:
    """JSON safe inside <script type="application/json"> (no '</' can close the tag)."""
    return json.dumps(obj, separators=(",", ":")).replace("</", "<\\/")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", next=_safe_next(next), error=None,
                  available=sources.has("councils.auth"))


@router.post("/login", response_model=None)
def login_submit(request: Request, username: str = Form(""), password: str = Form(""),
                 next: str = Form("/")) -> Response:
    try:
        token = session.login(request, username, password)
    except CybersynError as e:
        detail = e.detail or "wrong username or password"
        resp = render(request, "login.html", next=_safe_next(next), error=detail,
                      available=sources.has("councils.auth"))
        resp.status_code = e.status
        return resp
    redirect = RedirectResponse(_safe_next(next), status_code=303)
    redirect.set_cookie(session.COOKIE, token, httponly=True, samesite="lax", path="/",
                    secure=request.url.scheme == "https")
    return redirect


@router.post("/logout")
def logout() -> RedirectResponse:
    resp = RedirectResponse("/", status_code=303)
    resp.delete_cookie(session.COOKIE, path="/")
    return resp


def _safe_next(target: str) -> str:
    """Only local paths: never redirect a login to another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return quote(target, safe="/?=&-_.~%")
