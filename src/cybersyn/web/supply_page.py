"""The Supply page: each district's entitlements met and shortages for a month, ledger
discrepancies and diversion findings (for planners, admins and supply committees only:
they accuse people), and the latest day's delivery routes with their plots.

Reads the supply package's tables through its own functions (`ledger.district_summary`,
`reconcile.reconcile`, `findings.list_findings`, `plans.list_plans`) plus one aggregate of
entitlements per district; answers an empty page when the package or tables are missing.
"""

from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from cybersyn.auth import Principal
from cybersyn.errors import NotFound
from cybersyn.store import Store
from cybersyn.web import charts, session, sources
from cybersyn.web.pages import render

router = APIRouter(include_in_schema=False)
MAX_ROUTE_PLOTS = 4


@router.get("/supply", response_class=HTMLResponse)
def supply_page(request: Request, period: str | None = Query(
        None, pattern=r"^\d{4}-\d{2}$")) -> HTMLResponse:
    who = session.principal_of(request)
    ctx: dict[str, Any] = {"available": sources.has("supply.api"), "findings_allowed": False,
                           "period": None, "districts": [], "routes": []}
    if ctx["available"]:
        try:
            ctx.update(supply_context(request.app.state.store, period, who))
        except sa.exc.DatabaseError:
            ctx["available"] = False
    return render(request, "supply.html", **ctx)


def findings_scope(conn: sa.Connection, who: Principal | None
                   ) -> tuple[bool, frozenset[str] | None]:
    """(may see any findings, the districts whose findings: None = all), by the supply
    package's own rule: planners and admins everything, a committee its districts."""
    if who is None:
        return False, frozenset()
    access = importlib.import_module("cybersyn.supply.access")
    ledger = importlib.import_module("cybersyn.supply.ledger")
    districts = access.districts_of(who, ledger.district_ids(conn))
    return districts is None or bool(districts), districts


def supply_context(store: Store, period: str | None,
                   who: Principal | None) -> dict[str, Any]:
    ledger = importlib.import_module("cybersyn.supply.ledger")
    plans = importlib.import_module("cybersyn.supply.plans")
    with store.read() as conn:
        periods = entitlement_periods(conn)
        if period is not None and period not in periods:
            raise NotFound(f"no entitlements issued for {period}")
        period = period or (periods[0] if periods else None)
        met = entitlements_by_district(conn, period) if period else {}
        units = goods_units(conn)
        districts = district_rows(ledger.district_summary(conn), met)
        routes = [{**r, "svg": charts.route_svg(plans.get_plan(conn, r["id"]))}
                  for r in todays_routes(plans.list_plans(conn))]
        out: dict[str, Any] = {"period": period, "periods": periods, "districts": districts,
                               "goods": sorted({g for d in met.values() for g in d}),
                               "units": units, "routes": routes,
                               "totals": totals(met)}
        allowed, scope = findings_scope(conn, who)
        out["findings_allowed"] = allowed
        if allowed and period:
            out.update(discrepancies_and_findings(conn, period, scope))
    return out


def entitlement_periods(conn: sa.Connection) -> list[str]:
    """Months with entitlements issued, newest first."""
    e = importlib.import_module("cybersyn.supply.tables").entitlements
    rows = conn.execute(sa.select(e.c.period).distinct().order_by(e.c.period.desc()))
    return [str(p) for (p,) in rows]


def entitlements_by_district(conn: sa.Connection, period: str
                             ) -> dict[str, dict[str, tuple[int, int]]]:
    """{district: {good: (entitled, handed out)}} summed over the district's cards."""
    t = importlib.import_module("cybersyn.supply.tables")
    e, h = t.entitlements, t.households
    q = (sa.select(h.c.district_id, e.c.good, sa.func.sum(e.c.entitled),
                   sa.func.sum(e.c.handed_out))
         .join(h, h.c.card_id == e.c.card_id).where(e.c.period == period)
         .group_by(h.c.district_id, e.c.good))
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for district, good, entitled, handed in conn.execute(q):
        out.setdefault(str(district), {})[str(good)] = (int(entitled), int(handed))
    return out


def goods_units(conn: sa.Connection) -> dict[str, str]:
    g = importlib.import_module("cybersyn.supply.tables").goods
    return {str(c): str(u) for c, u in conn.execute(sa.select(g.c.code, g.c.unit))}


def met_pct(entitled: int, handed: int) -> float | None:
    """Share of the entitlement handed out, in percent (None when nothing was due)."""
    return None if entitled <= 0 else 100.0 * handed / entitled


def district_rows(summary: list[dict[str, Any]], met: dict[str, dict[str, tuple[int, int]]]
                  ) -> list[dict[str, Any]]:
    """Districts with entitlements first (lowest share met first), then the rest by id."""
    rows = []
    for d in summary:
        goods = met.get(d["id"], {})
        due = sum(e for e, _h in goods.values())
        given = sum(h for _e, h in goods.values())
        rows.append({**d, "entitled": due, "handed_out": given, "met_pct": met_pct(due, given),
                     "by_good": {g: {"met_pct": met_pct(e, h), "short": e - h}
                                 for g, (e, h) in goods.items()}})
    return sorted(rows, key=lambda r: (r["met_pct"] is None, r["met_pct"] or 0.0, r["id"]))


def totals(met: dict[str, dict[str, tuple[int, int]]]) -> dict[str, dict[str, Any]]:
    """Per good over all districts: entitled, handed out, share met, shortage."""
    acc: dict[str, list[int]] = {}
    for goods in met.values():
        for g, (e, h) in goods.items():
            a = acc.setdefault(g, [0, 0])
            a[0] += e
            a[1] += h
    return {g: {"entitled": e, "handed_out": h, "met_pct": met_pct(e, h), "short": e - h}
            for g, (e, h) in sorted(acc.items())}


def discrepancies_and_findings(conn: sa.Connection, period: str,
                               districts: frozenset[str] | None = None) -> dict[str, Any]:
    reconcile = importlib.import_module("cybersyn.supply.reconcile")
    findings = importlib.import_module("cybersyn.supply.findings")
    rec = reconcile.reconcile(conn, period, districts=districts)
    return {"discrepancies": rec.discrepancies, "reconciled_rows": len(rec.rows),
            "findings": findings.list_findings(conn, period, districts=districts)}


def todays_routes(plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The route plans made on the newest plan's day (newest first, at most a few)."""
    if not plans:
        return []
    day = max(p["created_at"][:10] for p in plans)
    return [p for p in plans if p["created_at"][:10] == day][:MAX_ROUTE_PLOTS]
