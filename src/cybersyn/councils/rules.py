"""Quorum and majority rules of a council and the deterministic outcome of a vote.

A pure function of (rules, seats, ballots): the outcome is a count, so it never depends on
the order the ballots arrived in. Defaults follow the administrative councils of the Social
Property Area (5 workers' + 5 government representatives; Normas Básicas de Participación,
1971): quorum 6 of 10 ballots (yes, no or abstain), a simple majority of the yes/no votes
cast, ties rejected; optionally a majority on each side (workers and government) as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

CHOICES = ("yes", "no", "abstain")
SIDES = ("worker", "government")
MAJORITIES = ("simple", "two_thirds", "absolute")


@dataclass(frozen=True)
class VoteRules:
    """quorum: ballots (yes + no + abstain) needed for a valid decision; None means a
    majority of the seats (6 of 10). majority: 'simple' (yes > no among votes cast),
    'two_thirds' (yes >= 2/3 of yes + no) or 'absolute' (yes > half the seats).
    each_side: also require yes > no among the workers' and among the government
    representatives who voted."""

    quorum: int | None = None
    majority: str = "simple"
    each_side: bool = False

    def __post_init__(self) -> None:
        if self.quorum is not None and self.quorum < 1:
            raise ValueError(f"Expected quorum >= 1 or None, got {self.quorum}.")
        if self.majority not in MAJORITIES:
            raise ValueError(f"Expected majority in {MAJORITIES}, got {self.majority!r}.")

    def quorum_for(self, seats: int) -> int:
        return self.quorum if self.quorum is not None else seats // 2 + 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VoteRules:
        return cls(quorum=d.get("quorum"), majority=d.get("majority", "simple"),
                   each_side=bool(d.get("each_side", False)))


@dataclass(frozen=True)
class Ballot:
    """One member's final ballot; `side` is 'worker' or 'government' (chairs vote too)."""

    member_id: str
    side: str
    choice: str

    def __post_init__(self) -> None:
        if self.choice not in CHOICES:
            raise ValueError(f"Expected choice in {CHOICES}, got {self.choice!r}.")
        if self.side not in SIDES:
            raise ValueError(f"Expected side in {SIDES}, got {self.side!r}.")


@dataclass(frozen=True)
class Outcome:
    """result: 'approved', 'rejected' or 'no_quorum'; `reason` says which rule decided."""

    seats: int
    yes: int
    no: int
    abstain: int
    quorum: int
    quorum_met: bool
    result: str
    reason: str

    @property
    def approved(self) -> bool:
        return self.result == "approved"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _count(ballots: Iterable[Ballot], side: str | None = None) -> dict[str, int]:
    counts = dict.fromkeys(CHOICES, 0)
    for b in ballots:
        if side is None or b.side == side:
            counts[b.choice] += 1
    return counts


def _majority(rules: VoteRules, seats: int, yes: int, no: int) -> bool:
    if rules.majority == "simple":
        return yes > no
    if rules.majority == "two_thirds":
        return yes + no > 0 and 3 * yes >= 2 * (yes + no)
    return 2 * yes > seats


def decide(rules: VoteRules, seats: int, ballots: Iterable[Ballot]) -> Outcome:
    """The outcome of one proposal from the final ballot of each member (one per member)."""
    ballots = list(ballots)
    ids = [b.member_id for b in ballots]
    if len(set(ids)) != len(ids):
        raise ValueError("Expected at most one ballot per member.")
    if seats < 1 or len(ballots) > seats:
        raise ValueError(f"Expected 1 <= ballots ({len(ballots)}) <= seats ({seats}).")
    c = _count(ballots)
    quorum = rules.quorum_for(seats)
    base = dict(seats=seats, yes=c["yes"], no=c["no"], abstain=c["abstain"], quorum=quorum)
    if len(ballots) < quorum:
        return Outcome(**base, quorum_met=False, result="no_quorum",
                       reason=f"{len(ballots)} ballots, quorum is {quorum}")
    if not _majority(rules, seats, c["yes"], c["no"]):
        why = "tie" if c["yes"] == c["no"] else f"no {rules.majority} majority"
        return Outcome(**base, quorum_met=True, result="rejected", reason=why)
    if rules.each_side:
        for side in SIDES:
            s = _count(ballots, side)
            if not s["yes"] > s["no"]:
                return Outcome(**base, quorum_met=True, result="rejected",
                               reason=f"no majority among the {side} representatives")
    return Outcome(**base, quorum_met=True, result="approved",
                   reason=f"{rules.majority} majority")
