"""Who may see and change which supply records (enforced by the API, not by the pages).

Public (no credentials): the districts list, distribution points, official prices, route
plans, and the citizen's price report (POST). Everything else needs a principal.

A district's supply committee (JAP) is every `operator` or `member` principal whose
`units` contain the district id (e.g. "D01"); planners and admins act for every district.
Registry, households' entitlements, the review queue, the ledger's movements,
reconciliation and diversion findings are the district's business: its committee, the
planning office and admins only. Operations over all districts at once (issuing every
district's entitlements, recording a reconciliation or running detection nationally)
belong to the planning office and admins. Other principals (enterprises) see none of it.
"""

from __future__ import annotations

from fastapi import Request

from cybersyn.auth import Principal, authenticate
from cybersyn.errors import Forbidden, Unauthorized

OFFICE = ("planner", "admin")
COMMITTEE = ("operator", "member")


def principal(request: Request) -> Principal:
    """The caller behind the bearer token (the Opsroom's cookie arrives as one); 401."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    try:
        with request.app.state.store.read() as conn:
            return authenticate(conn, token)
    except Unauthorized as e:
        raise Unauthorized(f"supply records need credentials: {e}") from None


def is_office(who: Principal) -> bool:
    return who.kind in OFFICE


def districts_of(who: Principal, known: frozenset[str] | None = None
                 ) -> frozenset[str] | None:
    """The districts `who` acts for: None = all (office), else the committee's districts
    among `known` district ids (empty for enterprises and units that are no district)."""
    if is_office(who):
        return None
    mine = who.units if who.kind in COMMITTEE else frozenset()
    return mine if known is None else mine & known


def may_act_for(who: Principal, district_id: str) -> bool:
    mine = districts_of(who)
    return mine is None or district_id in mine


def require_district(who: Principal, district_id: str, what: str) -> None:
    if not may_act_for(who, district_id):
        raise Forbidden(f"{who.kind} {who.id} may not {what} of district {district_id}: "
                        "only its supply committee, planners and admins may")


def require_office(who: Principal, what: str) -> None:
    if not is_office(who):
        raise Forbidden(f"{who.kind} {who.id} may not {what}: planners and admins only "
                        "(a committee gives ?district= or ?point= of its own)")


def require_some_district(who: Principal, what: str, known: frozenset[str] | None = None
                          ) -> frozenset[str] | None:
    """districts_of(who, known), refusing (403) principals with no district at all."""
    mine = districts_of(who, known)
    if mine is not None and not mine:
        raise Forbidden(f"{who.kind} {who.id} may not {what}: only supply committees, "
                        "planners and admins may")
    return mine
