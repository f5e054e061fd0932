from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import OFFICE, T0, member, open_one
from cybersyn.auth import Principal
from cybersyn.councils.proposals import cast_vote, close_proposal, get_proposal
from cybersyn.councils.replay import check_proposal, replay_outcome
from cybersyn.councils.tables import votes
from cybersyn.errors import Conflict, Forbidden, InvalidInput
from cybersyn.store import Store, audit
from cybersyn.store.schema import audit_log

H = timedelta(hours=2)


def vote_all(store: Store, pid: int, choices: dict[str, str]) -> None:
    with store.write() as conn:
        for mid, choice in choices.items():
            counter = {"outputs": {"copper": 90.0}} if choice == "no" else None
            cast_vote(conn, member(conn, mid), pid, choice, T0 + H, counter=counter)


def test_vote_change_counts_once_and_outcome_recorded(store: Store,
                                                      council: Callable[..., str]) -> None:
    council()
    pid = open_one(store)
    vote_all(store, pid, {"e1w1": "no", "e1w2": "yes", "e1w3": "yes", "e1g1": "no",
                          "e1g2": "abstain", "e1g3": "no"})
    vote_all(store, pid, {"e1w1": "yes"})                   # changed before closing
    with store.write() as conn:
        out = close_proposal(conn, OFFICE, pid, T0 + timedelta(days=3))
    assert (out["result"], out["yes"], out["no"], out["abstain"]) == ("approved", 3, 2, 1)
    with store.read() as conn:
        assert check_proposal(conn, pid) == []
        entries = audit.entries(conn, subject=f"proposal/{pid}")
        assert replay_outcome(entries, pid).to_dict() == {
            k: v for k, v in out.items() if k not in ("proposal_id", "counters")}
        assert get_proposal(conn, pid)["outcome"]["result"] == "approved"


def test_rejection_carries_counter_proposals(store: Store, council: Callable[..., str]) -> None:
    council()
    pid = open_one(store)
    vote_all(store, pid, {"e1w1": "no", "e1w2": "no", "e1w3": "yes", "e1g1": "no",
                          "e1g2": "yes", "e1g3": "abstain"})
    with store.write() as conn:
        out = close_proposal(conn, OFFICE, pid, T0 + timedelta(days=3))
    assert out["result"] == "rejected"
    assert [c["member_id"] for c in out["counters"]] == ["e1g1", "e1w1", "e1w2"]
    with store.read() as conn:
        assert get_proposal(conn, pid)["outcome"]["counter_proposals"] == out["counters"]


def test_only_members_vote_and_not_after_closing(store: Store,
                                                 council: Callable[..., str]) -> None:
    council()
    council(unit_id="E2")
    pid = open_one(store)
    with store.write() as conn:
        outsider = member(conn, "e2w1")
        with pytest.raises(Forbidden, match="do not sit"):
            cast_vote(conn, outsider, pid, "yes", T0 + H)
        with pytest.raises(Forbidden):
            cast_vote(conn, Principal("enterprise", "e1w1"), pid, "yes", T0 + H)
        with pytest.raises(InvalidInput, match="choice"):
            cast_vote(conn, member(conn, "e1w1"), pid, "maybe", T0 + H)
        with pytest.raises(Conflict, match="closed"):
            cast_vote(conn, member(conn, "e1w1"), pid, "yes", T0 + timedelta(days=3))
        with pytest.raises(Conflict, match="have not voted"):
            close_proposal(conn, OFFICE, pid, T0 + H)
        close_proposal(conn, OFFICE, pid, T0 + timedelta(days=3))
    with store.write() as conn, pytest.raises(Conflict):
        cast_vote(conn, member(conn, "e1w1"), pid, "yes", T0 + H)   # closed early: refused
    with store.read() as conn:
        assert get_proposal(conn, pid)["outcome"]["result"] == "no_quorum"


def test_altered_vote_in_the_log_is_detected(store: Store, council: Callable[..., str]) -> None:
    council()
    pid = open_one(store)
    vote_all(store, pid, {m: "yes" for m in ("e1w1", "e1w2", "e1w3", "e1g1", "e1g2", "e1g3")})
    with store.write() as conn:
        close_proposal(conn, OFFICE, pid, T0 + timedelta(days=3))
    with store.write() as conn:
        seq = conn.execute(sa.select(audit_log.c.seq).where(
            audit_log.c.action == "vote.cast").order_by(audit_log.c.seq)).scalars().first()
        payload = conn.execute(sa.select(audit_log.c.payload)
                               .where(audit_log.c.seq == seq)).scalar_one()
        conn.execute(audit_log.update().where(audit_log.c.seq == seq)
                     .values(payload=payload.replace('"yes"', '"no"')))
    with store.read() as conn:
        problems = check_proposal(conn, pid)
    assert any(f"entry {seq}" in p and "altered" in p for p in problems)


def test_deleted_vote_in_the_log_is_detected(store: Store, council: Callable[..., str]) -> None:
    council()
    pid = open_one(store)
    vote_all(store, pid, {m: "yes" for m in ("e1w1", "e1w2", "e1w3", "e1g1", "e1g2", "e1g3")})
    with store.write() as conn:
        seq = conn.execute(sa.select(sa.func.max(audit_log.c.seq))
                           .where(audit_log.c.action == "vote.cast")).scalar_one()
        conn.execute(audit_log.delete().where(audit_log.c.seq == seq))
    with store.read() as conn:
        problems = check_proposal(conn, pid)
    assert any("missing" in p or "deleted" in p for p in problems)
    assert any("votes table and audit log differ" in p for p in problems)


def test_altered_votes_table_is_detected(store: Store, council: Callable[..., str]) -> None:
    council()
    pid = open_one(store)
    vote_all(store, pid, {m: "yes" for m in ("e1w1", "e1w2", "e1w3", "e1g1", "e1g2", "e1g3")})
    with store.write() as conn:
        close_proposal(conn, OFFICE, pid, T0 + timedelta(days=3))
        conn.execute(votes.update().where(votes.c.member_id == "e1w1").values(choice="no"))
    with store.read() as conn:
        problems = check_proposal(conn, pid)
        assert audit.verify(conn) == []
    assert any("e1w1" in p for p in problems)
