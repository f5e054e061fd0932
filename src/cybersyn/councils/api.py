"""JSON API of the councils (mounted under /api/v1): /councils, /proposals, /votes.

Credentials: `Authorization: Bearer <token>` or the Opsroom's `cybersyn_session` cookie;
POST /councils/sessions exchanges a username and password for a token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from cybersyn import auth
from cybersyn.auth import Principal
from cybersyn.councils import access, membership, plan_link, proposals, replay
from cybersyn.councils.approval import get_approval, open_approval
from cybersyn.councils.auth import login
from cybersyn.councils.participatory import ParticipatoryParams
from cybersyn.councils.rounds import run_and_store, run_report
from cybersyn.councils.tables import councils
from cybersyn.errors import InvalidInput
from cybersyn.store import Store, audit

router = APIRouter(tags=["councils"])
COOKIE = "cybersyn_session"


def _store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def _now() -> datetime:
    return datetime.now(UTC)


def _principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    token = token or request.cookies.get(COOKIE)
    with _store(request).read() as conn:
        return auth.authenticate(conn, token)


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


@router.post("/councils/sessions", status_code=201)
def create_session(body: LoginIn, request: Request) -> dict[str, Any]:
    """A session token for a member (slowed after repeated failures: 429)."""
    with _store(request).write() as conn:
        token = login(conn, body.username, body.password, _now())
    return {"token": token, "cookie": COOKIE}


@router.get("/councils")
def list_councils(request: Request) -> list[dict[str, Any]]:
    """The councils visible to the caller."""
    who = _principal(request)
    with _store(request).read() as conn:
        return [c for c in membership.list_councils(conn)
                if access.may_view(conn, who, c["id"])]


@router.get("/councils/rounds/latest")
def latest_rounds(request: Request) -> dict[str, Any]:
    """The latest stored run of participatory planning (every round and the final state)."""
    _principal(request)
    with _store(request).read() as conn:
        return run_report(conn)


class RoundsIn(BaseModel):
    tolerance: float = Field(0.01, gt=0, lt=1)
    max_rounds: int = Field(60, ge=1, le=10_000)


@router.post("/councils/rounds", status_code=201)
def run_rounds(body: RoundsIn, request: Request) -> dict[str, Any]:
    """Run participatory planning on the loaded economy (planning office)."""
    who = _principal(request)
    access.require_office(who)
    store = _store(request)
    economy = store.load_economy()
    params = ParticipatoryParams(tolerance=body.tolerance, max_rounds=body.max_rounds)
    with store.write() as conn:
        return run_and_store(conn, economy, _now(), who.id, params)


@router.get("/councils/{council_id}")
def get_council(council_id: str, request: Request) -> dict[str, Any]:
    """A council with its members (the caller's own councils and those below them)."""
    who = _principal(request)
    with _store(request).read() as conn:
        row = membership.get_council(conn, council_id)
        access.require_view(conn, who, council_id)
        return {"id": row.id, "unit_id": row.unit_id, "name": row.name, "level": row.level,
                "worker_seats": row.worker_seats, "government_seats": row.government_seats,
                "rules": membership.council_rules(row).to_dict(),
                "members": membership.council_members(conn, council_id)}


class SeatIn(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    name: str = Field(min_length=1, max_length=256)
    side: Literal["worker", "government"]
    chair: bool = False
    password: str | None = Field(None, min_length=8, max_length=1024)
    assembly: dict[str, int] | None = Field(
        None, description="yes, no, abstain, electorate: an elected member's tally")


@router.post("/councils/{council_id}/members", status_code=201)
def add_member(council_id: str, body: SeatIn, request: Request) -> dict[str, Any]:
    """Appoint a member, or record an assembly's election (with `assembly`)."""
    who = _principal(request)
    access.require_office(who)
    with _store(request).write() as conn:
        if body.assembly is None:
            mid: str | None = membership.seat_member(
                conn, council_id, body.username, body.name, body.side, _now(), who.id,
                chair=body.chair, password=body.password)
        else:
            t = body.assembly
            try:
                counts = {k: int(t[k]) for k in ("yes", "no", "electorate")}
            except KeyError as e:
                raise InvalidInput(f"assembly: missing {e.args[0]!r}") from None
            mid = membership.elect_member(
                conn, council_id, body.username, body.name, body.side, _now(), who.id,
                abstain=int(t.get("abstain", 0)), chair=body.chair, password=body.password,
                **counts)
    return {"member_id": mid, "council_id": council_id, "elected": mid is not None}


class ProposalIn(BaseModel):
    council_id: str
    kind: Literal["plan_targets", "plan_version", "investment", "production_change",
                  "equipment_transfer"]
    title: str = Field(min_length=1, max_length=256)
    body: dict[str, Any] = Field(default_factory=dict)
    closes_at: datetime | None = None
    plan_version_id: str | None = None


def _closes(value: datetime | None) -> datetime:
    if value is None:
        return _now() + timedelta(days=7)
    if value.tzinfo is None:
        raise InvalidInput("closes_at: give a time zone (e.g. 2026-05-01T18:00:00Z)")
    return value.astimezone(UTC)


@router.post("/proposals", status_code=201)
def create_proposal(body: ProposalIn, request: Request) -> dict[str, Any]:
    """Open a proposal (planning office, or a member of the council)."""
    who = _principal(request)
    with _store(request).write() as conn:
        pid = proposals.open_proposal(
            conn, who, council_id=body.council_id, kind=body.kind, title=body.title,
            body=body.body, closes_at=_closes(body.closes_at), now=_now(),
            plan_version_id=body.plan_version_id)
        return proposals.get_proposal(conn, pid)


@router.get("/proposals")
def list_proposals(request: Request, council: str | None = None,
                   status: Literal["open", "closed"] | None = None) -> list[dict[str, Any]]:
    """Proposals of the councils the caller may see (open first)."""
    who = _principal(request)
    with _store(request).read() as conn:
        ids = None if who.kind in access.OFFICE else {
            c for c in conn.execute(sa.select(councils.c.id)).scalars()
            if access.may_view(conn, who, c)}
        if council is not None:
            access.require_view(conn, who, council)
            ids = {council}
        return proposals.list_proposals(conn, ids, status)


@router.get("/proposals/{proposal_id}")
def get_proposal(proposal_id: int, request: Request) -> dict[str, Any]:
    who = _principal(request)
    with _store(request).read() as conn:
        p = proposals.get_proposal(conn, proposal_id)
        access.require_view(conn, who, p["council_id"])
        p["my_vote"] = proposals.my_vote(conn, proposal_id, who.id)
        return p


@router.post("/proposals/{proposal_id}/close")
def close_proposal(proposal_id: int, request: Request) -> dict[str, Any]:
    """Count and record the outcome (after closing time, or once every member voted)."""
    who = _principal(request)
    with _store(request).write() as conn:
        return proposals.close_proposal(conn, who, proposal_id, _now())


@router.get("/proposals/{proposal_id}/audit")
def audit_proposal(proposal_id: int, request: Request) -> dict[str, Any]:
    """The decision recomputed from the audit log, and any disagreement with the record."""
    who = _principal(request)
    with _store(request).read() as conn:
        p = proposals.get_proposal(conn, proposal_id)
        access.require_view(conn, who, p["council_id"])
        entries = audit.entries(conn, subject=proposals.subject(proposal_id))
        again = replay.replay_outcome(entries, proposal_id)
        return {"proposal_id": proposal_id, "recorded": p["outcome"],
                "replayed": again.to_dict(),
                "problems": replay.check_proposal(conn, proposal_id),
                "entries": [{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                             "payload": e.payload, "hash": e.hash} for e in entries]}


class VoteIn(BaseModel):
    proposal_id: int
    choice: Literal["yes", "no", "abstain"]
    counter: dict[str, Any] | None = None


@router.post("/votes", status_code=201)
def vote(body: VoteIn, request: Request) -> dict[str, Any]:
    """Vote (or change one's vote) on a proposal of a council one sits on."""
    who = _principal(request)
    with _store(request).write() as conn:
        return proposals.cast_vote(conn, who, body.proposal_id, body.choice, _now(),
                                   counter=body.counter)


class ApprovalIn(BaseModel):
    plan_version_id: str
    closes_at: datetime | None = None


@router.post("/proposals/approvals", status_code=201)
def create_approval(body: ApprovalIn, request: Request) -> dict[str, Any]:
    """Put a stored plan version to every council it concerns (planning office)."""
    who = _principal(request)
    access.require_office(who)
    store = _store(request)
    economy = store.load_economy()
    with store.write() as conn:
        v = plan_link.get_version(conn, body.plan_version_id)
        if v is None:
            raise InvalidInput("plan versions need the plan package, which is not installed")
        aid = open_approval(conn, who, economy, outputs=dict(v["gross_outputs"]),
                            closes_at=_closes(body.closes_at), now=_now(),
                            plan_version_id=body.plan_version_id)
        return get_approval(conn, aid)


@router.get("/proposals/approvals/{approval_id}")
def approval(approval_id: int, request: Request) -> dict[str, Any]:
    _principal(request)
    with _store(request).read() as conn:
        return get_approval(conn, approval_id)
