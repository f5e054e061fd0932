"""What the Opsroom reads from the councils package (councils, members, proposals, votes,
rounds of participatory planning), behind small functions that answer empty when the
package, or its tables, are not there yet.

Who sees which proposals (decided here, as the councils' rule says a member sees and acts
only in the councils they sit on): planners and admins every council's; members those of
their councils; others none. Plan approval outcomes (which councils approved a plan
version) are public on the Plan page.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa

from cybersyn.auth import Principal
from cybersyn.errors import NotFound
from cybersyn.store import Store
from cybersyn.web import sources

T = TypeVar("T")
OFFICE = ("planner", "admin")
VOTERS = ("member", "planner")


def _councils_read(store: Store, fn: Callable[[sa.Connection], T], empty: T) -> T:
    """fn(conn) over the councils' tables, or `empty` when they are not there."""
    if not sources.has("councils.proposals"):
        return empty
    try:
        with store.read() as conn:
            return fn(conn)
    except (sa.exc.DatabaseError, NotFound):
        return empty


def _mod(name: str) -> Any:
    return importlib.import_module(f"cybersyn.councils.{name}")


def visible_councils(who: Principal | None) -> set[str] | None:
    """Council ids whose proposals `who` may see: None = all, empty set = none."""
    if who is None:
        return set()
    if who.kind in OFFICE:
        return None
    return set(who.units) if who.kind == "member" else set()


def councils(store: Store) -> list[dict[str, Any]]:
    """Every council: id, unit_id, name, level, seats and seats filled by side."""
    out: list[dict[str, Any]] = _councils_read(
        store, lambda c: _mod("membership").list_councils(c), [])
    return out


def _names(conn: sa.Connection) -> dict[str, str]:
    t = _mod("tables").councils
    return {str(i): str(n) for i, n in conn.execute(sa.select(t.c.id, t.c.name))}


def flatten(p: dict[str, Any], names: dict[str, str], who: Principal | None,
            mine: str | None) -> dict[str, Any]:
    """A councils proposal (`proposals.get_proposal`) as one row of the page."""
    out = p.get("outcome") or {}
    tally = out if out else p.get("ballots", {})
    counters = [c.get("counter") for c in out.get("counter_proposals", [])]
    return {"id": p["id"], "council_id": p["council_id"], "unit_id": p["council_id"],
            "council_name": names.get(p["council_id"], p["council_id"]),
            "title": p["title"], "kind": p["kind"], "status": p["status"],
            "plan_version_id": p.get("plan_version_id"), "closes_at": p["closes_at"][:16],
            "yes": tally.get("yes", 0), "no": tally.get("no", 0),
            "abstain": tally.get("abstain", 0), "result": out.get("result"),
            "reason": out.get("reason", ""), "quorum": out.get("quorum"),
            "counter_proposal": "; ".join(str(c) for c in counters if c) or None,
            "may_vote": (p["status"] == "open" and who is not None and who.kind in VOTERS
                         and p["council_id"] in who.units),
            "my_vote": mine}


def proposals(store: Store, who: Principal | None,
              council_id: str | None = None) -> list[dict[str, Any]]:
    """Proposals `who` may see (open first, newest first), optionally of one council."""
    allowed = visible_councils(who)
    if council_id is not None:
        allowed = {council_id} if allowed is None or council_id in allowed else set()
    if allowed is not None and not allowed:
        return []

    def read(conn: sa.Connection) -> list[dict[str, Any]]:
        props = _mod("proposals")
        names = _names(conn)
        rows = props.list_proposals(conn, allowed)
        return [flatten(p, names, who, props.my_vote(conn, p["id"], who.id)
                        if who is not None else None) for p in rows]
    out: list[dict[str, Any]] = _councils_read(store, read, [])
    return out


def approvals_for_plan(store: Store, version_id: str) -> list[dict[str, Any]]:
    """One row per council a plan version was put to: its proposal, tally and outcome."""
    def read(conn: sa.Connection) -> list[dict[str, Any]]:
        props = _mod("proposals")
        p = _mod("tables").proposals
        names = _names(conn)
        ids = conn.execute(sa.select(p.c.id).where(p.c.plan_version_id == version_id)
                           .order_by(p.c.council_id)).scalars().all()
        return [{**flatten(props.get_proposal(conn, i), names, None, None),
                 "proposal_id": i} for i in ids]
    out: list[dict[str, Any]] = _councils_read(store, read, [])
    return out


def council_of_unit(store: Store, unit_id: str,
                    who: Principal | None) -> dict[str, Any] | None:
    """The unit's council: name, seats, members, and the open proposals `who` may see."""
    def read(conn: sa.Connection) -> dict[str, Any] | None:
        t = _mod("tables").councils
        row = conn.execute(sa.select(t).where(t.c.unit_id == unit_id)).first()
        if row is None:
            return None
        members = _mod("membership").council_members(conn, row.id)
        return {"id": row.id, "name": row.name, "worker_seats": row.worker_seats,
                "government_seats": row.government_seats, "members": members}
    council = _councils_read(store, read, None)
    if council is not None:
        council["proposals"] = [p for p in proposals(store, who, council["id"])
                                if p["status"] == "open"]
        council["sees_proposals"] = visible_councils(who) is None or council["id"] in (
            visible_councils(who) or set())
    return council


def stored_rounds(store: Store, top: int = 8) -> dict[str, Any] | None:
    """The latest stored run of participatory rounds, shaped like
    `councils_page.rounds_summary` (None when no run is stored)."""
    def read(conn: sa.Connection) -> dict[str, Any] | None:
        rep = _mod("rounds").run_report(conn)
        final = rep["final"]
        codes = sorted(final["excess"], key=lambda c: -abs(final["excess"][c]))[:top]
        conv = rep["convergence"]
        return {"stored": True, "converged": bool(rep["converged"]), "id": rep["id"],
                "created_at": rep["created_at"], "gap_pct": rep.get("gap_pct"),
                "number": [int(r["number"]) for r in conv],
                "max_excess_pct": [float(r["max_excess_pct"]) for r in conv],
                "labour_hours": [float(r["labour_hours"]) for r in conv],
                "final": [{"product": c, "excess": float(final["excess"][c]),
                           "price": float(final["prices"][c]),
                           "output": float(final["outputs"][c])} for c in codes]}
    return _councils_read(store, read, None)


def cast_vote(store: Store, who: Principal, proposal_id: int, choice: str) -> None:
    """Vote through the councils package (it refuses non-members and closed proposals)."""
    from datetime import UTC, datetime

    with store.write() as conn:
        _mod("proposals").cast_vote(conn, who, proposal_id, choice, datetime.now(UTC))
