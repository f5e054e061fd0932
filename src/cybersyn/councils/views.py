"""Read-only views for the Opsroom pages (`cybersyn.web.councils_source` may call these):
plain dicts in the shapes the pages use, filtered by what the viewer may see."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from cybersyn.auth import Principal
from cybersyn.councils import access
from cybersyn.councils.membership import council_members, list_councils
from cybersyn.councils.proposals import _seat, list_proposals, my_vote
from cybersyn.councils.tables import councils as councils_t
from cybersyn.councils.tables import outcomes, planning_rounds, planning_runs, proposals
from cybersyn.errors import NotFound

TOP_EXCESS = 8


def approvals_for_plan(conn: sa.Connection, version_id: str) -> list[dict[str, Any]]:
    """[{council, unit_id, proposal_id, title, status, result, yes, no, abstain, reason}]."""
    q = (sa.select(proposals.c.id, proposals.c.council_id, proposals.c.title,
                   proposals.c.status, councils_t.c.name, outcomes.c.result, outcomes.c.yes,
                   outcomes.c.no, outcomes.c.abstain, outcomes.c.reason)
         .join(councils_t, councils_t.c.id == proposals.c.council_id)
         .outerjoin(outcomes, outcomes.c.proposal_id == proposals.c.id)
         .where(proposals.c.plan_version_id == version_id).order_by(proposals.c.council_id))
    return [{"council": r.name, "unit_id": r.council_id, "proposal_id": r.id,
             "title": r.title, "status": r.status, "result": r.result, "yes": r.yes,
             "no": r.no, "abstain": r.abstain, "reason": r.reason} for r in conn.execute(q)]


def proposals_for(conn: sa.Connection, who: Principal | None) -> list[dict[str, Any]]:
    """Proposals the viewer may see (open first); `may_vote`, `my_vote` for members."""
    if who is None:
        return []
    ids = None if who.kind in access.OFFICE else {
        c for c in conn.execute(sa.select(councils_t.c.id)).scalars()
        if access.may_view(conn, who, c)}
    now = datetime.now(UTC)
    out = list_proposals(conn, ids)
    for p in out:
        seated = _seat(conn, p["council_id"], who.id, now) is not None
        p["may_vote"] = seated and p["status"] == "open"
        p["my_vote"] = my_vote(conn, p["id"], who.id) if seated else None
    return out


def councils_overview(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every council: id, unit_id, name, seats, members."""
    return [{"id": c["id"], "unit_id": c["unit_id"], "name": c["name"],
             "seats": c["worker_seats"] + c["government_seats"],
             "members": council_members(conn, c["id"])} for c in list_councils(conn)]


def council_of_unit(conn: sa.Connection, unit_id: str,
                    who: Principal | None) -> dict[str, Any] | None:
    """The unit's council with members and (for those who may see them) open proposals."""
    row = conn.execute(sa.select(councils_t).where(councils_t.c.unit_id == unit_id)).first()
    if row is None:
        return None
    visible = who is not None and access.may_view(conn, who, row.id)
    return {"id": row.id, "unit_id": row.unit_id, "name": row.name,
            "seats": row.worker_seats + row.government_seats,
            "members": council_members(conn, row.id),
            "open_proposals": list_proposals(conn, {row.id}, "open") if visible else []}


def stored_rounds(conn: sa.Connection) -> dict[str, Any] | None:
    """The latest stored run as the Councils page's rounds summary, or None."""
    run = conn.execute(sa.select(planning_runs).order_by(planning_runs.c.id.desc())
                       .limit(1)).first()
    if run is None:
        return None
    rows = conn.execute(sa.select(planning_rounds).where(planning_rounds.c.run_id == run.id)
                        .order_by(planning_rounds.c.number)).all()
    if not rows:
        raise NotFound(f"planning run {run.id} has no rounds")
    codes = json.loads(run.product_codes)
    last = {k: json.loads(getattr(rows[-1], k)) for k in ("excess", "prices", "outputs")}
    order = sorted(range(len(codes)), key=lambda i: -abs(last["excess"][i]))[:TOP_EXCESS]
    return {"stored": True, "converged": bool(run.converged),
            "number": [r.number for r in rows],
            "max_excess_pct": [100 * r.max_excess for r in rows],
            "labour_hours": [r.labour_hours for r in rows],
            "gap_pct": run.gap_pct,
            "final": [{"product": codes[i], "excess": last["excess"][i],
                       "price": last["prices"][i], "output": last["outputs"][i]}
                      for i in order]}
