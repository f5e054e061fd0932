"""The Plan page: targets vs planned vs achieved, labour values, unmet targets with their
explanations, the difference from another version, and approval by the councils.

Reads `cybersyn.plan.versions` (stored versions) and, where the councils package keeps
proposals for a version, their outcomes; answers an empty page when neither is there.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cybersyn.economy.model import Economy
from cybersyn.errors import NotFound
from cybersyn.store import Store
from cybersyn.store.schema import indicators, observations
from cybersyn.web import charts, councils_source, sources
from cybersyn.web.cache import Loaded
from cybersyn.web.pages import loaded, render

router = APIRouter(include_in_schema=False)
DAYS_PER_YEAR = 365.0


@router.get("/plan", response_class=HTMLResponse)
def plan_page(request: Request, version: str | None = None,
              compare: str | None = None) -> HTMLResponse:
    ld = loaded(request)
    store = request.app.state.store
    versions = list_versions(store)
    ctx: dict[str, Any] = {"available": sources.has("plan.versions"), "versions": versions,
                           "plan": None, "councils": sources.has("councils.api")}
    chosen = pick_version(versions, version)
    if chosen is not None:
        ctx.update(version_context(store, ld, chosen, versions, compare))
    return render(request, "plan.html", **ctx)


def list_versions(store: Store) -> list[dict[str, Any]]:
    """Stored plan versions, newest first ([] without the plan package or its tables)."""
    if not sources.has("plan.versions"):
        return []
    versions = importlib.import_module("cybersyn.plan.versions")
    try:
        with store.read() as conn:
            out: list[dict[str, Any]] = versions.list_versions(conn)
    except sa.exc.DatabaseError:
        return []
    return out


def pick_version(versions: list[dict[str, Any]], wanted: str | None) -> str | None:
    """The version asked for, else the newest approved or proposed one, else the newest."""
    if wanted is not None:
        if not any(v["id"] == wanted for v in versions):
            raise NotFound(f"plan version {wanted!r} does not exist")
        return wanted
    for status in ("approved", "proposed"):
        for v in versions:
            if v["status"] == status:
                return str(v["id"])
    return str(versions[0]["id"]) if versions else None


def version_context(store: Store, ld: Loaded, vid: str, versions: list[dict[str, Any]],
                    compare: str | None) -> dict[str, Any]:
    vmod = importlib.import_module("cybersyn.plan.versions")
    with store.read() as conn:
        plan = vmod.get_version(conn, vid)
        other = compare or next((v["id"] for v in versions if v["id"] != vid), None)
        if other is not None and not any(v["id"] == other for v in versions):
            raise NotFound(f"plan version {other!r} does not exist")
        diff = _diff(plan, vmod.get_version(conn, other)) if other else None
    achieved, seen_at = achieved_by_product(store)
    rows = product_rows(ld.economy, plan, achieved)
    return {"plan": plan, "rows": rows, "diff": diff, "compare": other,
            "achieved_at": seen_at, "unmet": plan["explanation"].get("unmet", []),
            "binding": plan["explanation"].get("binding", []),
            "labour": labour_rows(ld.economy),
            "chart": charts.paired_bars([r["code"] for r in rows],
                                        [r["target"] for r in rows],
                                        [r["net"] for r in rows],
                                        title="Targets vs planned net output"),
            "approvals": councils_source.approvals_for_plan(store, vid)}


def _diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    from cybersyn.plan.explain import diff

    out: dict[str, Any] = diff(b, a)  # from the other version to this one
    out["other_label"] = b["label"]
    return out


def product_rows(eco: Economy, plan: dict[str, Any],
                 achieved: dict[str, float]) -> list[dict[str, Any]]:
    """One row per product: target and planned net output, planned gross output, achieved
    (annual rate at the latest observed day) and achieved / planned gross."""
    rows = []
    for p in eco.products:
        line = plan["products"].get(p.code)
        if line is None:
            continue
        got = achieved.get(p.code)
        gross = float(line["gross_output"])
        rows.append({"code": p.code, "name": p.name, "uom": p.unit_of_measure,
                     "target": float(line["target"]), "net": float(line["net_output"]),
                     "gross": gross, "achieved": got,
                     "achieved_pct": None if got is None or gross <= 0 else 100 * got / gross,
                     "met_pct": (100 * float(line["net_output"]) / float(line["target"])
                                 if line["target"] > 0 else None)})
    return rows


def labour_rows(eco: Economy) -> list[dict[str, Any]]:
    """Labour values v = v A + l (hours per unit), highest first, from the plan package."""
    if not sources.has("plan.leontief"):
        return []
    leontief = importlib.import_module("cybersyn.plan.leontief")
    v = np.asarray(leontief.labour_values(eco.io.A, eco.io.labour), dtype=float)
    direct = eco.io.labour
    rows = [{"code": p.code, "name": p.name, "uom": p.unit_of_measure, "hours": float(v[i]),
             "direct": float(direct[i])} for i, p in enumerate(eco.products)]
    return sorted(rows, key=lambda r: -r["hours"])


def achieved_by_product(store: Store) -> tuple[dict[str, float], str | None]:
    """{product code: sum over its output indicators of the latest observed value × 365}
    (indicators measure per day, plans per year) and the latest day seen."""
    last = (sa.select(observations.c.indicator_id,
                      sa.func.max(observations.c.observed_at).label("at"))
            .join(indicators, indicators.c.id == observations.c.indicator_id)
            .where(indicators.c.product_code.is_not(None))
            .group_by(observations.c.indicator_id).subquery())
    q = (sa.select(indicators.c.product_code, sa.func.sum(observations.c.value),
                   sa.func.max(observations.c.observed_at))
         .join(last, sa.and_(last.c.indicator_id == observations.c.indicator_id,
                             last.c.at == observations.c.observed_at))
         .join(indicators, indicators.c.id == observations.c.indicator_id)
         .group_by(indicators.c.product_code))
    with store.read() as conn:
        rows = conn.execute(q).all()
    seen = [at for _c, _v, at in rows if isinstance(at, datetime)]
    return ({str(c): float(v) * DAYS_PER_YEAR for c, v, _at in rows},
            max(seen).isoformat() if seen else None)
