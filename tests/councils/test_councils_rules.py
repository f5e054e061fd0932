from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cybersyn.councils.rules import Ballot, VoteRules, decide


def ballots(**counts: int) -> list[Ballot]:
    """ballots(w_yes=3, g_no=2, ...) -> list of ballots with distinct member ids."""
    out = []
    for key, n in counts.items():
        side, choice = key.split("_")
        side = {"w": "worker", "g": "government"}[side]
        out += [Ballot(f"{side}-{choice}-{k}", side, choice) for k in range(n)]
    return out


def test_simple_majority_of_votes_cast() -> None:
    out = decide(VoteRules(), 10, ballots(w_yes=4, g_no=3, g_abstain=2))
    assert (out.result, out.yes, out.no, out.abstain, out.quorum) == ("approved", 4, 3, 2, 6)


def test_tie_is_rejected() -> None:
    out = decide(VoteRules(), 10, ballots(w_yes=3, g_no=3))
    assert out.result == "rejected" and out.reason == "tie"


def test_quorum_not_met_with_five_of_ten() -> None:
    out = decide(VoteRules(), 10, ballots(w_yes=5))
    assert out.result == "no_quorum" and not out.quorum_met


def test_abstentions_count_for_quorum_but_not_majority() -> None:
    # 6 ballots: quorum met; 1 yes vs 0 no among votes cast -> approved
    assert decide(VoteRules(), 10, ballots(w_yes=1, w_abstain=5)).result == "approved"
    # all abstain: no yes majority
    assert decide(VoteRules(), 10, ballots(w_abstain=3, g_abstain=3)).result == "rejected"


def test_each_side_majority() -> None:
    rules = VoteRules(each_side=True)
    split = ballots(w_yes=5, g_yes=1, g_no=3)          # 6 yes, 3 no overall
    assert decide(VoteRules(), 10, split).result == "approved"
    out = decide(rules, 10, split)
    assert out.result == "rejected" and "government" in out.reason


def test_two_thirds_and_absolute() -> None:
    b = ballots(w_yes=4, g_no=2, g_abstain=1)          # 4 of 6 cast = exactly 2/3
    assert decide(VoteRules(majority="two_thirds"), 10, b).result == "approved"
    assert decide(VoteRules(majority="absolute"), 10, b).result == "rejected"   # 4 <= 5
    assert decide(VoteRules(majority="absolute"), 10,
                  ballots(w_yes=5, g_yes=1)).result == "approved"


def test_custom_quorum_and_validation() -> None:
    assert decide(VoteRules(quorum=2), 10, ballots(w_yes=2)).result == "approved"
    with pytest.raises(ValueError, match="quorum"):
        VoteRules(quorum=0)
    with pytest.raises(ValueError, match="majority"):
        VoteRules(majority="most")
    with pytest.raises(ValueError, match="one ballot per member"):
        decide(VoteRules(), 10, [Ballot("a", "worker", "yes")] * 2)
    with pytest.raises(ValueError, match="choice"):
        Ballot("a", "worker", "maybe")


def _reference(rules: VoteRules, seats: int, bs: list[Ballot]) -> str:
    """Independent restatement of the rules, written plainly."""
    yes = sum(b.choice == "yes" for b in bs)
    no = sum(b.choice == "no" for b in bs)
    quorum = rules.quorum or seats // 2 + 1
    if len(bs) < quorum:
        return "no_quorum"
    ok = {"simple": yes > no, "two_thirds": yes + no > 0 and yes / (yes + no) >= 2 / 3 - 1e-12,
          "absolute": yes > seats / 2}[rules.majority]
    if ok and rules.each_side:
        for side in ("worker", "government"):
            sy = sum(b.choice == "yes" and b.side == side for b in bs)
            sn = sum(b.choice == "no" and b.side == side for b in bs)
            ok = ok and sy > sn
    return "approved" if ok else "rejected"


ballot_lists = st.lists(st.tuples(st.sampled_from(["worker", "government"]),
                                  st.sampled_from(["yes", "no", "abstain"])), max_size=12)
rules_st = st.builds(VoteRules, quorum=st.one_of(st.none(), st.integers(1, 12)),
                     majority=st.sampled_from(["simple", "two_thirds", "absolute"]),
                     each_side=st.booleans())


@given(ballot_lists, rules_st, st.randoms(use_true_random=False))
def test_outcome_never_depends_on_order(raw: list[tuple[str, str]], rules: VoteRules,
                                        rnd: object) -> None:
    bs = [Ballot(f"m{k}", side, choice) for k, (side, choice) in enumerate(raw)]
    seats = max(len(bs), 1)
    shuffled = list(bs)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert decide(rules, seats, bs) == decide(rules, seats, shuffled)
    assert decide(rules, seats, bs).result == _reference(rules, seats, bs)
