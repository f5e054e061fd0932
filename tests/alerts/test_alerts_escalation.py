"""Escalation climbs exactly one level per missed deadline, never skips or repeats, and
does not depend on how often it runs (property tests over random trees and clocks)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cybersyn.alerts.escalation import EscalationParams, climb

T0 = datetime(1972, 10, 9, tzinfo=UTC)
LEVELS = ("nation", "sector", "enterprise", "plant", "line")


@st.composite
def trees(draw: st.DrawFn) -> tuple[dict[str, str | None], dict[str, str]]:
    """A random rooted tree: parent map and level (= depth name)."""
    n = draw(st.integers(1, 30))
    parent: dict[str, str | None] = {"u0": None}
    for k in range(1, n):
        parent[f"u{k}"] = f"u{draw(st.integers(0, k - 1))}"
    level = {}
    for u in parent:
        d, p = 0, parent[u]
        while p is not None:
            d, p = d + 1, parent[p]
        level[u] = LEVELS[min(d, len(LEVELS) - 1)]
    return parent, level


params_st = st.builds(EscalationParams, st.fixed_dictionaries(
    {lv: st.floats(0.1, 10.0) for lv in LEVELS}))
hours = st.integers(0, 24 * 40)


def _run(parent, level, params, unit, deadline, clocks):
    path, steps = [unit], []
    for now in clocks:
        new = climb(path[-1], deadline, now, parent.get, level.__getitem__, params)
        steps += new
        if new:
            path += [s.to_unit for s in new]
            deadline = new[-1].deadline
    return path, steps, deadline


@settings(max_examples=200, deadline=None)
@given(trees(), params_st, st.data(), st.lists(hours, min_size=1, max_size=6))
def test_one_level_per_missed_deadline(tree, params, data, offsets):
    parent, level = tree
    unit = data.draw(st.sampled_from(sorted(parent)))
    deadline = T0 + params.response(level[unit])
    clocks = sorted(T0 + timedelta(hours=h) for h in offsets)
    path, steps, last_deadline = _run(parent, level, params, unit, deadline, clocks)
    # never skips, never repeats: each step goes to the parent of the previous holder
    for a, b in itertools.pairwise(path):
        assert parent[a] == b
    assert len(set(path)) == len(path)
    # each step happened because its deadline was missed, in order, and chained
    for s in steps:
        assert s.missed <= clocks[-1]
        assert s.deadline == s.missed + params.response(level[s.to_unit])
    for s1, s2 in itertools.pairwise(steps):
        assert s2.missed == s1.deadline
    # stops exactly where it should: at the root, or before a deadline not yet passed
    assert parent[path[-1]] is None or last_deadline > clocks[-1]
    # the same result as running once at the last clock (frequency does not matter)
    once = _run(parent, level, params, unit, deadline, [clocks[-1]])
    assert once[0] == path and once[2] == last_deadline
    # running again at the same clock changes nothing
    assert climb(path[-1], last_deadline, clocks[-1], parent.get, level.__getitem__,
                 params) == []


def test_independent_count_by_hand():
    parent = {"n": None, "s": "n", "e": "s", "p": "e"}
    level = {"n": "nation", "s": "sector", "e": "enterprise", "p": "plant"}
    params = EscalationParams()  # plant 1, enterprise 2, sector 3, nation 5 days
    deadline = T0 + timedelta(days=1)
    cases = {0.99: [], 1: ["e"], 2.9: ["e"], 3: ["e", "s"], 5.9: ["e", "s"], 6: ["e", "s", "n"],
             100: ["e", "s", "n"]}
    for days, expected in cases.items():
        steps = climb("p", deadline, T0 + timedelta(days=days), parent.get, level.get, params)
        assert [s.to_unit for s in steps] == expected, days


@pytest.mark.parametrize("bad", [{"plant": 0}, {"plant": -1}, {"plant": 400}])
def test_params_validated(bad):
    with pytest.raises(ValueError, match="Expected response days"):
        EscalationParams(bad)


def test_params_from_toml(tmp_path):
    f = tmp_path / "esc.toml"
    f.write_text("[response_days]\nplant = 0.5\n")
    p = EscalationParams.from_toml(f)
    assert p.response("plant") == timedelta(hours=12)
    assert p.response("sector") == timedelta(days=3)
