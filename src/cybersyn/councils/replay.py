"""Outcomes recomputed from the audit log alone.

The log holds, for each proposal, `proposal.open` (rules and seats), every `vote.cast`
(member, side, choice) and `proposal.close` (the outcome as recorded). `replay_outcome`
takes each member's last ballot before the close and applies the rules again;
`check_proposal` compares that with the stored outcome, with the votes table and with the
chain's own check, so an altered or deleted vote is found.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from cybersyn.councils.proposals import ballots, stored_outcome, subject
from cybersyn.councils.rules import Ballot, Outcome, VoteRules, decide
from cybersyn.errors import NotFound
from cybersyn.store import audit
from cybersyn.store.audit import AuditEntry


def replay_ballots(entries: Iterable[AuditEntry], proposal_id: int) -> tuple[
        dict[str, Any], dict[str, Ballot], dict[str, Any] | None]:
    """(open payload, final ballot per member, close payload or None) from log entries."""
    subj = subject(proposal_id)
    opened: dict[str, Any] | None = None
    final: dict[str, Ballot] = {}
    closed = None
    for e in entries:
        if e.subject != subj:
            continue
        if e.action == "proposal.open":
            opened = e.payload
        elif e.action == "vote.cast" and closed is None:
            p = e.payload
            final[p["member_id"]] = Ballot(p["member_id"], p["side"], p["choice"])
        elif e.action == "proposal.close":
            closed = e.payload
    if opened is None:
        raise NotFound(f"the audit log has no opening of proposal {proposal_id}")
    return opened, final, closed


def replay_outcome(entries: Iterable[AuditEntry], proposal_id: int) -> Outcome:
    """The outcome the log's ballots give under the rules the proposal was opened with."""
    opened, final, _ = replay_ballots(entries, proposal_id)
    rules = VoteRules.from_dict(opened["rules"])
    return decide(rules, int(opened["seats"]), sorted(final.values(),
                                                      key=lambda b: b.member_id))


def check_proposal(conn: sa.Connection, proposal_id: int) -> list[str]:
    """Every disagreement between the log, the votes table and the stored outcome, plus any
    break in the hash chain; empty when the record of the decision is intact."""
    problems = list(audit.verify(conn))
    entries = audit.entries(conn, subject=subject(proposal_id))
    _, final, closed = replay_ballots(entries, proposal_id)
    table = {b.member_id: b for b in ballots(conn, proposal_id)}
    if table != final:
        differ = sorted(m for m in set(table) | set(final) if table.get(m) != final.get(m))
        problems.append(f"proposal {proposal_id}: votes table and audit log differ for "
                        f"{differ}")
    stored = stored_outcome(conn, proposal_id)
    if stored is not None:
        again = replay_outcome(entries, proposal_id)
        if again != stored:
            problems.append(f"proposal {proposal_id}: stored outcome {stored.result} "
                            f"({stored.yes}/{stored.no}/{stored.abstain}) differs from the "
                            f"log's {again.result} ({again.yes}/{again.no}/{again.abstain})")
        if closed is not None and closed["outcome"] != again.to_dict():
            problems.append(f"proposal {proposal_id}: the recorded close disagrees with the "
                            "ballots in the log")
    return problems
