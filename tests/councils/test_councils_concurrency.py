from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from conftest import OFFICE, member
from cybersyn.councils.proposals import cast_vote, close_proposal, open_proposal
from cybersyn.councils.replay import check_proposal
from cybersyn.store import Store
from cybersyn.testing import private_pg_schema

VOTERS = 100


PG_URL = os.environ.get("CYBERSYN_TEST_PG_URL", "")
pytestmark = [pytest.mark.pg, pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL tests skipped: set CYBERSYN_TEST_PG_URL (CI sets it)")]


@pytest.fixture
def store_url() -> Iterator[str]:
    """PostgreSQL only (a private schema): SQLite has one writer, nothing to race."""
    with private_pg_schema(PG_URL) as url:
        yield url


def test_hundred_parallel_voters_counted_exactly_once(
        store_url: str, council: Callable[..., str]) -> None:
    council(VOTERS // 2)
    now = datetime.now(UTC)
    store = Store(store_url, pool_size=20)
    with store.write() as conn:
        pid = open_proposal(conn, OFFICE, council_id="E1", kind="investment",
                            title="Parallel", body={}, closes_at=now + timedelta(hours=1),
                            now=now)
        voters = [member(conn, f"e1{s}{k}") for s in "wg" for k in range(1, VOTERS // 2 + 1)]
    choice = {v.id: ("yes", "no", "abstain")[k % 3] for k, v in enumerate(voters)}

    def vote(k: int) -> None:
        who = voters[k]
        with store.write() as conn:
            cast_vote(conn, who, pid, choice[who.id], datetime.now(UTC))
        if k % 10 == 0:                       # some change their vote to the same choice
            with store.write() as conn:
                cast_vote(conn, who, pid, choice[who.id], datetime.now(UTC))

    with ThreadPoolExecutor(max_workers=VOTERS) as pool:
        list(pool.map(vote, range(VOTERS)))
    with store.write() as conn:
        out = close_proposal(conn, OFFICE, pid, datetime.now(UTC))
    expected = {c: sum(v == c for v in choice.values()) for c in ("yes", "no", "abstain")}
    assert {c: out[c] for c in expected} == expected
    with store.read() as conn:
        assert check_proposal(conn, pid) == []
    store.close()
