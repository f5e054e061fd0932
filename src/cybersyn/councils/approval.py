"""Approval flowing up the tree: a plan (a stored plan version, or the result of the
participatory rounds) is put to every council it concerns, each for its own part; it is
approved when all of them approve, and rejected when any rejects, the rejecting councils'
counter-proposals going back to the planning office with it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cybersyn.auth import Principal
from cybersyn.councils import plan_link
from cybersyn.councils.proposals import open_proposal
from cybersyn.councils.tables import approvals, councils, outcomes, proposals
from cybersyn.economy.model import Economy
from cybersyn.errors import Forbidden, InvalidInput, NotFound
from cybersyn.store import audit


def unit_products(economy: Economy) -> dict[str, dict[str, float]]:
    """unit id -> {product code: its share of the product's output}, from the products its
    plants' output indicators measure (shares split by plant count); sectors and the nation
    sum their children's shares."""
    plants: dict[str, list[tuple[str, str]]] = {}
    for ind in economy.indicators:
        if ind.product_code and ind.id.endswith(".output"):
            parent = economy.units.parent(ind.unit_id) or economy.units[ind.unit_id]
            plants.setdefault(ind.product_code, []).append((ind.unit_id, parent.id))
    shares: dict[str, dict[str, float]] = {}
    for code, where in plants.items():
        for plant_id, enterprise_id in where:
            for uid in [plant_id, enterprise_id,
                        *(u.id for u in economy.units.ancestors(enterprise_id))]:
                part = shares.setdefault(uid, {})
                part[code] = part.get(code, 0.0) + 1.0 / len(where)
    return shares


def parts(economy: Economy, outputs: dict[str, float],
          council_ids: list[str]) -> dict[str, dict[str, float]]:
    """Each council's part of the plan: {council id: {product code: units per year}}."""
    shares = unit_products(economy)
    out = {}
    for cid in council_ids:
        mine = shares.get(cid, {})
        out[cid] = {c: round(outputs[c] * s, 3) for c, s in sorted(mine.items())
                    if c in outputs}
    return out


def open_approval(conn: sa.Connection, who: Principal, economy: Economy, *,
                  outputs: dict[str, float], closes_at: datetime, now: datetime,
                  plan_version_id: str | None = None, subject: str | None = None,
                  council_ids: list[str] | None = None) -> int:
    """Put a plan (gross outputs per product code) to the councils it concerns: by default
    every council whose unit makes one of its products, and the nation's."""
    if who.kind not in ("planner", "admin"):
        raise Forbidden("only the planning office puts plans to the councils")
    if plan_version_id is not None:
        version = plan_link.get_version(conn, plan_version_id)
        if version is not None and version["status"] == "draft":
            plan_link.set_status(conn, plan_version_id, "proposed", who.id,
                                 note="put to the councils")
    ids = council_ids or list(conn.execute(sa.select(councils.c.id)
                                           .order_by(councils.c.id)).scalars())
    split = {cid: part for cid, part in parts(economy, outputs, ids).items() if part}
    if not split:
        raise InvalidInput("no council is concerned by this plan (set up councils first)")
    subj = subject or (f"plan/{plan_version_id}" if plan_version_id else "plan/unnamed")
    aid = int(conn.execute(approvals.insert().values(
        subject=subj, plan_version_id=plan_version_id, status="open",
        created_at=now)).inserted_primary_key[0])  # type: ignore[index]
    audit.append(conn, who.id, "approval.open", f"approval/{aid}",
                 {"subject": subj, "plan_version_id": plan_version_id,
                  "councils": sorted(split)})
    kind = "plan_version" if plan_version_id else "participatory_plan"
    for cid, part in sorted(split.items()):
        open_proposal(conn, who, council_id=cid, kind=kind, title=f"Approve {subj}: your part",
                      body={"outputs": part}, closes_at=closes_at, now=now,
                      plan_version_id=plan_version_id, approval_id=aid)
    return aid


def _approval_and_parts(conn: sa.Connection, approval_id: int) -> tuple[Any, list[Any]]:
    """The approval row and its proposals (with outcomes), in council order."""
    a = conn.execute(sa.select(approvals).where(approvals.c.id == approval_id)).first()
    if a is None:
        raise NotFound(f"approval {approval_id} not found")
    rows = conn.execute(sa.select(proposals.c.id, proposals.c.council_id, proposals.c.status,
                                  outcomes.c.result, outcomes.c.counter_proposals)
                        .outerjoin(outcomes, outcomes.c.proposal_id == proposals.c.id)
                        .where(proposals.c.approval_id == approval_id)
                        .order_by(proposals.c.council_id)).all()
    return a, list(rows)


def settle(conn: sa.Connection, approval_id: int, actor: str, now: datetime) -> str:
    """Decide the approval once every part is closed: approved if all approved, else
    rejected with the counter-proposals; updates the plan version. Returns the status."""
    a, rows = _approval_and_parts(conn, approval_id)
    if a.status != "open" or any(r.status == "open" for r in rows):
        return str(a.status)
    refused = [r for r in rows if r.result != "approved"]
    status = "rejected" if refused else "approved"
    counters = [{"council_id": r.council_id, "proposal_id": r.id, "result": r.result,
                 "counter_proposals": json.loads(r.counter_proposals or "[]")}
                for r in refused]
    conn.execute(approvals.update().where(approvals.c.id == approval_id)
                 .values(status=status, decided_at=now))
    audit.append(conn, actor, f"approval.{status}", f"approval/{approval_id}",
                 {"subject": a.subject, "parts": len(rows), "refused": counters})
    if a.plan_version_id:
        note = ("approved by all councils concerned" if not refused else
                "rejected; counter-proposals: " + json.dumps(counters, sort_keys=True))
        plan_link.set_status(conn, a.plan_version_id, status, actor, note=note[:4000])
    return status


def get_approval(conn: sa.Connection, approval_id: int) -> dict[str, Any]:
    a, rows = _approval_and_parts(conn, approval_id)
    return {"id": a.id, "subject": a.subject, "plan_version_id": a.plan_version_id,
            "status": a.status, "created_at": a.created_at.isoformat(),
            "decided_at": None if a.decided_at is None else a.decided_at.isoformat(),
            "parts": [{"proposal_id": r.id, "council_id": r.council_id, "status": r.status,
                       "result": r.result,
                       "counter_proposals": json.loads(r.counter_proposals or "[]")}
                      for r in rows]}
