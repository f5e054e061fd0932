"""What the Opsroom reads from the councils package (councils, members, proposals, votes,
rounds of participatory planning), behind small functions that answer empty when the
package, or its tables, are not there yet.

Who sees which proposals is the councils package's rule (`cybersyn.councils.access.may_view`,
through `cybersyn.councils.views.proposals_for`): planners and admins every council's; a
member those of the councils they sit on and of the councils of units below them (a sector
council oversees its enterprises' councils); others none. Who may vote is decided by the
seat (`proposals_for`'s `may_vote`), and the councils package refuses any other ballot.
Plan approval outcomes (which councils approved a plan version) are public on the Plan
page.
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


def visible_councils(store: Store, who: Principal | None) -> set[str] | None:
    """Council ids whose proposals `who` may see: None = all, empty set = none (the
    councils package's `access.may_view`)."""
    if who is None:
        return set()
    access = _mod("access")
    if who.kind in access.OFFICE:
        return None

    def read(conn: sa.Connection) -> set[str]:
        ids = conn.execute(sa.select(_mod("tables").councils.c.id)).scalars()
        return {str(c) for c in ids if access.may_view(conn, who, c)}
    empty: set[str] = set()
    return _councils_read(store, read, empty)


def councils(store: Store) -> list[dict[str, Any]]:
    """Every council: id, unit_id, name, level, seats and seats filled by side."""
    out: list[dict[str, Any]] = _councils_read(
        store, lambda c: _mod("membership").list_councils(c), [])
    return out


def _names(conn: sa.Connection) -> dict[str, str]:
    t = _mod("tables").councils
    return {str(i): str(n) for i, n in conn.execute(sa.select(t.c.id, t.c.name))}


def flatten(p: dict[str, Any], names: dict[str, str], may_vote: bool,
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
            "may_vote": may_vote, "my_vote": mine}


def proposals(store: Store, who: Principal | None,
              council_id: str | None = None) -> list[dict[str, Any]]:
    """Proposals `who` may see (open first, newest first), optionally of one council;
    `may_vote` only where `who` holds a seat and the proposal is open."""
    if who is None:
        return []

    def read(conn: sa.Connection) -> list[dict[str, Any]]:
        names = _names(conn)
        rows = _mod("views").proposals_for(conn, who)
        return [flatten(p, names, bool(p["may_vote"]), p["my_vote"]) for p in rows
                if council_id is None or p["council_id"] == council_id]
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
        return [{**flatten(props.get_proposal(conn, i), names, False, None),
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
        visible = visible_councils(store, who)
        council["sees_proposals"] = visible is None or council["id"] in visible
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
