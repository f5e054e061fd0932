"""Councils (one per unit of the recursion tree) and their members' seats.

Default composition: 5 workers' + 5 government representatives, as in the administrative
councils of the Social Property Area (Normas Básicas de Participación, CUT-Gobierno, 1971);
configurable per council. A seat is filled by appointment or by a recorded assembly vote
(elected when yes > no and at least half of the electorate took part).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cybersyn.councils.auth import check_username, hash_password
from cybersyn.councils.rules import SIDES, VoteRules
from cybersyn.councils.tables import councils, members, seats
from cybersyn.economy.model import Economy, Unit
from cybersyn.errors import Conflict, InvalidInput, NotFound
from cybersyn.store import audit

COUNCIL_LEVELS = ("nation", "sector", "enterprise")


@dataclass(frozen=True)
class Composition:
    """Seats of a council by side; rules for its votes."""

    worker_seats: int = 5
    government_seats: int = 5
    rules: VoteRules = field(default_factory=VoteRules)

    def __post_init__(self) -> None:
        if self.worker_seats < 0 or self.government_seats < 0:
            raise ValueError("Expected worker_seats and government_seats >= 0.")
        if self.worker_seats + self.government_seats < 1:
            raise ValueError("Expected at least one seat.")

    @property
    def seats(self) -> int:
        return self.worker_seats + self.government_seats


def create_council(conn: sa.Connection, unit: Unit, now: datetime, actor: str,
                   composition: Composition | None = None) -> str:
    """A council for `unit` (its id is the unit's id); Conflict if it already has one."""
    c = composition or Composition()
    if conn.execute(sa.select(councils.c.id).where(councils.c.id == unit.id)).first():
        raise Conflict(f"unit {unit.id!r} already has a council")
    conn.execute(councils.insert().values(
        id=unit.id, unit_id=unit.id, name=f"Council of {unit.name}", level=unit.level,
        worker_seats=c.worker_seats, government_seats=c.government_seats,
        rules=json.dumps(c.rules.to_dict()), created_at=now))
    audit.append(conn, actor, "council.create", f"council/{unit.id}",
                 {"worker_seats": c.worker_seats, "government_seats": c.government_seats,
                  "rules": c.rules.to_dict()})
    return unit.id


def setup_councils(conn: sa.Connection, economy: Economy, now: datetime, actor: str,
                   levels: tuple[str, ...] = COUNCIL_LEVELS) -> list[str]:
    """A default council for every unit at `levels` that has none yet; returns new ids."""
    existing = set(conn.execute(sa.select(councils.c.id)).scalars())
    made = []
    for unit in economy.units:
        if unit.level in levels and unit.id not in existing:
            made.append(create_council(conn, unit, now, actor))
    return made


def get_council(conn: sa.Connection, council_id: str) -> sa.Row[Any]:
    row = conn.execute(sa.select(councils).where(councils.c.id == council_id)).first()
    if row is None:
        raise NotFound(f"council {council_id!r} not found")
    return row


def council_rules(row: sa.Row[Any]) -> VoteRules:
    return VoteRules.from_dict(json.loads(row.rules))


def _check_free_seat(conn: sa.Connection, council: sa.Row[Any], side: str,
                     member_id: str) -> None:
    if side not in SIDES:
        raise InvalidInput(f"side: expected one of {SIDES}, got {side!r}")
    taken = conn.execute(sa.select(seats.c.member_id).where(
        seats.c.council_id == council.id, seats.c.side == side)).scalars().all()
    if member_id in taken:
        raise Conflict(f"{member_id!r} already sits on council {council.id!r}")
    limit = council.worker_seats if side == "worker" else council.government_seats
    if len(taken) >= limit:
        raise Conflict(f"council {council.id!r} has no free {side} seat ({limit} seats)")


def ensure_member(conn: sa.Connection, username: str, name: str, now: datetime, *,
                  password: str | None = None, kind: str = "member") -> str:
    """The member with `username`, created if new (a password may be set at creation)."""
    username = check_username(username.strip().lower())
    if not name.strip():
        raise InvalidInput("name: must not be empty")
    if conn.execute(sa.select(members.c.id).where(members.c.id == username)).first():
        return username
    conn.execute(members.insert().values(
        id=username, username=username, name=name.strip(), kind=kind, created_at=now,
        password_hash=None if password is None else hash_password(password)))
    return username


def seat_member(conn: sa.Connection, council_id: str, username: str, name: str, side: str,
                now: datetime, actor: str, *, chair: bool = False, how: str = "appointed",
                term_end: datetime | None = None, assembly: dict[str, int] | None = None,
                password: str | None = None) -> str:
    """Give a member (created if new) a seat on a council; recorded in the audit log."""
    council = get_council(conn, council_id)
    member_id = ensure_member(conn, username, name, now, password=password)
    _check_free_seat(conn, council, side, member_id)
    conn.execute(seats.insert().values(
        council_id=council_id, member_id=member_id, side=side, chair=chair, how=how,
        term_start=now, term_end=term_end,
        assembly=None if assembly is None else json.dumps(assembly)))
    audit.append(conn, actor, f"member.{how}", f"council/{council_id}",
                 {"member_id": member_id, "side": side, "chair": chair,
                  "term_end": None if term_end is None else term_end.isoformat(),
                  "assembly": assembly})
    return member_id


def appoint_many(conn: sa.Connection, council_id: str,
                 people: list[tuple[str, str, str, bool]], now: datetime, actor: str) -> int:
    """Appoint new members [(username, name, side, chair)] to an empty council at once
    (one audit entry listing them all); for setting up many councils quickly."""
    council = get_council(conn, council_id)
    if conn.execute(sa.select(seats.c.member_id).where(seats.c.council_id == council_id)
                    .limit(1)).first():
        raise Conflict(f"council {council_id!r} already has members")
    for side in SIDES:
        limit = council.worker_seats if side == "worker" else council.government_seats
        if sum(p[2] == side for p in people) > limit:
            raise Conflict(f"council {council_id!r} has {limit} {side} seats")
    rows = [(check_username(u.strip().lower()), n, side, chair) for u, n, side, chair in people]
    conn.execute(members.insert(), [{"id": u, "username": u, "name": n, "kind": "member",
                                     "password_hash": None, "created_at": now}
                                    for u, n, _, _ in rows])
    conn.execute(seats.insert(), [{"council_id": council_id, "member_id": u, "side": side,
                                   "chair": chair, "how": "appointed", "term_start": now,
                                   "term_end": None, "assembly": None}
                                  for u, _, side, chair in rows])
    audit.append(conn, actor, "member.appointed", f"council/{council_id}",
                 {"members": [{"member_id": u, "side": side, "chair": chair}
                              for u, _, side, chair in rows]})
    return len(rows)


def elect_member(conn: sa.Connection, council_id: str, username: str, name: str, side: str,
                 now: datetime, actor: str, *, yes: int, no: int, abstain: int,
                 electorate: int, **kw: Any) -> str | None:
    """Seat a member elected by an assembly: yes > no and turnout >= half the electorate.
    The tally is recorded with the seat and in the audit log; a failed election is recorded
    too, and returns None."""
    tally = {"yes": yes, "no": no, "abstain": abstain, "electorate": electorate}
    if min(tally.values()) < 0 or yes + no + abstain > electorate:
        raise InvalidInput("assembly tally: counts must be >= 0 and at most the electorate")
    if yes <= no or 2 * (yes + no + abstain) < electorate:
        audit.append(conn, actor, "member.not_elected", f"council/{council_id}",
                     {"username": username, "side": side, "assembly": tally})
        return None
    return seat_member(conn, council_id, username, name, side, now, actor, how="elected",
                       assembly=tally, **kw)


def add_planner(conn: sa.Connection, username: str, name: str, password: str | None,
                now: datetime, actor: str) -> str:
    """A member of the planning office (kind 'planner'): opens proposals, sees every council."""
    member_id = ensure_member(conn, username, name, now, password=password, kind="planner")
    audit.append(conn, actor, "member.planner", f"member/{member_id}", {"name": name})
    return member_id


def set_password(conn: sa.Connection, username: str, password: str, actor: str) -> None:
    hashed = hash_password(password)
    done = conn.execute(members.update().where(members.c.id == username.strip().lower())
                        .values(password_hash=hashed))
    if not done.rowcount:
        raise NotFound(f"member {username!r} not found")
    audit.append(conn, actor, "member.password", f"member/{username}", {})


def list_councils(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every council with its seats filled by side."""
    filled: dict[str, dict[str, int]] = {}
    for s in conn.execute(sa.select(seats.c.council_id, seats.c.side)):
        side = filled.setdefault(s.council_id, {"worker": 0, "government": 0})
        side[s.side] += 1
    return [{"id": c.id, "unit_id": c.unit_id, "name": c.name, "level": c.level,
             "worker_seats": c.worker_seats, "government_seats": c.government_seats,
             "filled": filled.get(c.id, {"worker": 0, "government": 0}),
             "rules": json.loads(c.rules)}
            for c in conn.execute(sa.select(councils).order_by(councils.c.id))]


def council_members(conn: sa.Connection, council_id: str) -> list[dict[str, Any]]:
    q = (sa.select(seats, members.c.name).join(members, members.c.id == seats.c.member_id)
         .where(seats.c.council_id == council_id).order_by(seats.c.side, seats.c.member_id))
    return [{"member_id": r.member_id, "name": r.name, "side": r.side, "chair": r.chair,
             "how": r.how, "term_start": r.term_start.isoformat(),
             "term_end": None if r.term_end is None else r.term_end.isoformat(),
             "assembly": None if r.assembly is None else json.loads(r.assembly)}
            for r in conn.execute(q)]
