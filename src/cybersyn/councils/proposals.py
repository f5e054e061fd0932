"""Proposals put to a council, members' votes, and the recorded outcome.

A proposal is opened with a closing time; each member of the council holds one vote
(yes / no / abstain, a `no` may carry a counter-proposal) and may change it until closing;
closing counts the final ballots with the council's rules (`rules.decide`) and records the
outcome. Every step is appended to the audit log in the same transaction, so the outcome
can be recomputed from the log alone (`replay`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cybersyn.auth import Principal
from cybersyn.councils.membership import council_rules, get_council
from cybersyn.councils.rules import CHOICES, Ballot, Outcome, VoteRules, decide
from cybersyn.councils.tables import outcomes, proposals, seats, votes
from cybersyn.errors import Conflict, Forbidden, InvalidInput, NotFound
from cybersyn.store import audit

KINDS = ("plan_targets", "plan_version", "investment", "production_change",
         "equipment_transfer", "participatory_plan")
OFFICE = ("planner", "admin")


def subject(proposal_id: int) -> str:
    return f"proposal/{proposal_id}"


def _seat(conn: sa.Connection, council_id: str, member_id: str,
          now: datetime) -> sa.Row[Any] | None:
    row = conn.execute(sa.select(seats).where(seats.c.council_id == council_id,
                                              seats.c.member_id == member_id)).first()
    if row is None or row.term_start > now or (row.term_end is not None
                                               and now >= row.term_end):
        return None
    return row


def open_proposal(conn: sa.Connection, who: Principal, *, council_id: str, kind: str,
                  title: str, body: dict[str, Any], closes_at: datetime, now: datetime,
                  plan_version_id: str | None = None, approval_id: int | None = None) -> int:
    """Open a proposal for a council; the planning office or a member of the council may."""
    council = get_council(conn, council_id)
    if who.kind not in OFFICE and _seat(conn, council_id, who.id, now) is None:
        raise Forbidden(f"only the planning office or members of council {council_id!r} "
                        "may put proposals to it")
    if kind not in KINDS:
        raise InvalidInput(f"kind: expected one of {KINDS}, got {kind!r}")
    if not title.strip():
        raise InvalidInput("title: must not be empty")
    if closes_at <= now:
        raise InvalidInput("closes_at: must be after the opening time")
    rules = council_rules(council)
    n_seats = council.worker_seats + council.government_seats
    pid = int(conn.execute(proposals.insert().values(
        council_id=council_id, approval_id=approval_id, kind=kind, title=title.strip(),
        body=json.dumps(body, sort_keys=True, default=float), plan_version_id=plan_version_id,
        rules=json.dumps(rules.to_dict()), seats=n_seats, status="open", opened_by=who.id,
        opened_at=now, closes_at=closes_at)).inserted_primary_key[0])  # type: ignore[index]
    audit.append(conn, who.id, "proposal.open", subject(pid), {
        "council_id": council_id, "kind": kind, "title": title.strip(), "body": body,
        "plan_version_id": plan_version_id, "approval_id": approval_id,
        "rules": rules.to_dict(), "seats": n_seats, "closes_at": closes_at.isoformat()})
    return pid


def _locked_proposal(conn: sa.Connection, proposal_id: int) -> sa.Row[Any]:
    row = conn.execute(sa.select(proposals).where(proposals.c.id == proposal_id)
                       .with_for_update()).first()
    if row is None:
        raise NotFound(f"proposal {proposal_id} not found")
    return row


def _upsert_vote(conn: sa.Connection, values: dict[str, Any]) -> None:
    """Insert or change a vote. Safe without ON CONFLICT: the caller holds the proposal's
    row lock (PostgreSQL) or the single writer (SQLite), so one member's votes on one
    proposal never race."""
    key = (votes.c.proposal_id == values["proposal_id"]) & (
        votes.c.member_id == values["member_id"])
    changed = conn.execute(votes.update().where(key).values(
        choice=values["choice"], counter=values["counter"], cast_at=values["cast_at"],
        changes=votes.c.changes + 1))
    if not changed.rowcount:
        conn.execute(votes.insert().values(**values))


def cast_vote(conn: sa.Connection, who: Principal, proposal_id: int, choice: str,
              now: datetime, counter: dict[str, Any] | None = None) -> dict[str, Any]:
    """Record (or change) `who`'s vote; only members seated on the council, only while open."""
    if choice not in CHOICES:
        raise InvalidInput(f"choice: expected one of {CHOICES}, got {choice!r}")
    if counter is not None and choice != "no":
        raise InvalidInput("counter: a counter-proposal goes with a 'no' vote only")
    p = _locked_proposal(conn, proposal_id)
    if p.status != "open" or now >= p.closes_at:
        raise Conflict(f"voting on proposal {proposal_id} closed at "
                       f"{p.closes_at.isoformat(timespec='seconds')}")
    seat = _seat(conn, p.council_id, who.id, now)
    if who.kind not in ("member", "planner") or seat is None:
        raise Forbidden(f"you do not sit on council {p.council_id!r}: only its members vote")
    counter_json = None if counter is None else json.dumps(counter, sort_keys=True)
    _upsert_vote(conn, {"proposal_id": proposal_id, "member_id": who.id, "side": seat.side,
                        "choice": choice, "counter": counter_json, "cast_at": now,
                        "changes": 0})
    audit.append(conn, who.id, "vote.cast", subject(proposal_id), {
        "proposal_id": proposal_id, "member_id": who.id, "side": seat.side,
        "choice": choice, "counter": counter, "cast_at": now.isoformat()})
    return {"proposal_id": proposal_id, "member_id": who.id, "choice": choice}


def ballots(conn: sa.Connection, proposal_id: int) -> list[Ballot]:
    rows = conn.execute(sa.select(votes).where(votes.c.proposal_id == proposal_id)
                        .order_by(votes.c.member_id))
    return [Ballot(r.member_id, r.side, r.choice) for r in rows]


def _counters(conn: sa.Connection, proposal_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(votes.c.member_id, votes.c.counter).where(
        votes.c.proposal_id == proposal_id, votes.c.choice == "no",
        votes.c.counter.is_not(None)).order_by(votes.c.member_id))
    return [{"member_id": r.member_id, "counter": json.loads(r.counter)} for r in rows]


def _may_close(conn: sa.Connection, who: Principal, p: sa.Row[Any], now: datetime,
               cast: int) -> None:
    seat = _seat(conn, p.council_id, who.id, now)
    if who.kind not in OFFICE and seat is None:
        raise Forbidden(f"only the planning office or members of council {p.council_id!r} "
                        "may close its proposals")
    seated = conn.execute(sa.select(sa.func.count()).select_from(seats)
                          .where(seats.c.council_id == p.council_id)).scalar_one()
    if now < p.closes_at and cast < seated:
        raise Conflict(f"proposal {p.id} closes at {p.closes_at.isoformat(timespec='seconds')}"
                       f" and {seated - cast} members have not voted yet")


def close_proposal(conn: sa.Connection, who: Principal, proposal_id: int,
                   now: datetime) -> dict[str, Any]:
    """Count the final ballots, record the outcome (and counter-proposals on rejection)."""
    p = _locked_proposal(conn, proposal_id)
    if p.status != "open":
        raise Conflict(f"proposal {proposal_id} is already closed")
    final = ballots(conn, proposal_id)
    _may_close(conn, who, p, now, len(final))
    outcome = decide(VoteRules.from_dict(json.loads(p.rules)), p.seats, final)
    counters = [] if outcome.approved else _counters(conn, proposal_id)
    entry = audit.append(conn, who.id, "proposal.close", subject(proposal_id), {
        "proposal_id": proposal_id, "outcome": outcome.to_dict(), "counters": counters,
        "ballots": len(final), "closed_at": now.isoformat()})
    conn.execute(proposals.update().where(proposals.c.id == proposal_id)
                 .values(status="closed"))
    conn.execute(outcomes.insert().values(
        proposal_id=proposal_id, result=outcome.result, yes=outcome.yes, no=outcome.no,
        abstain=outcome.abstain, seats=outcome.seats, quorum=outcome.quorum,
        reason=outcome.reason, counter_proposals=json.dumps(counters), decided_at=now,
        audit_seq=entry.seq))
    if p.approval_id is not None:
        from cybersyn.councils.approval import settle

        settle(conn, int(p.approval_id), who.id, now)
    return {**outcome.to_dict(), "proposal_id": proposal_id, "counters": counters}


def stored_outcome(conn: sa.Connection, proposal_id: int) -> Outcome | None:
    r = conn.execute(sa.select(outcomes).where(outcomes.c.proposal_id == proposal_id)).first()
    if r is None:
        return None
    return Outcome(r.seats, r.yes, r.no, r.abstain, r.quorum, r.result != "no_quorum",
                   r.result, r.reason)


def get_proposal(conn: sa.Connection, proposal_id: int) -> dict[str, Any]:
    p = conn.execute(sa.select(proposals).where(proposals.c.id == proposal_id)).first()
    if p is None:
        raise NotFound(f"proposal {proposal_id} not found")
    return _describe(conn, p)


def _describe(conn: sa.Connection, p: sa.Row[Any]) -> dict[str, Any]:
    out = conn.execute(sa.select(outcomes).where(outcomes.c.proposal_id == p.id)).first()
    tally = {c: 0 for c in CHOICES}
    for b in ballots(conn, p.id):
        tally[b.choice] += 1
    return {"id": p.id, "council_id": p.council_id, "approval_id": p.approval_id,
            "kind": p.kind, "title": p.title, "body": json.loads(p.body),
            "plan_version_id": p.plan_version_id, "rules": json.loads(p.rules),
            "seats": p.seats, "status": p.status, "opened_by": p.opened_by,
            "opened_at": p.opened_at.isoformat(), "closes_at": p.closes_at.isoformat(),
            "ballots": tally,
            "outcome": None if out is None else {
                "result": out.result, "yes": out.yes, "no": out.no, "abstain": out.abstain,
                "quorum": out.quorum, "reason": out.reason,
                "counter_proposals": json.loads(out.counter_proposals),
                "decided_at": out.decided_at.isoformat(), "audit_seq": out.audit_seq}}


def list_proposals(conn: sa.Connection, council_ids: set[str] | None = None,
                   status: str | None = None) -> list[dict[str, Any]]:
    """Proposals (open first, newest first), limited to `council_ids` when given."""
    q = sa.select(proposals).order_by(proposals.c.status.desc(), proposals.c.id.desc())
    if council_ids is not None:
        q = q.where(proposals.c.council_id.in_(sorted(council_ids)))
    if status is not None:
        q = q.where(proposals.c.status == status)
    return [_describe(conn, p) for p in conn.execute(q)]


def my_vote(conn: sa.Connection, proposal_id: int, member_id: str) -> str | None:
    return conn.execute(sa.select(votes.c.choice).where(
        votes.c.proposal_id == proposal_id, votes.c.member_id == member_id)).scalar_one_or_none()
