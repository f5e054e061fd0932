from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cybersyn.auth import Principal
from cybersyn.councils.auth import principal_for
from cybersyn.councils.membership import Composition, create_council, seat_member
from cybersyn.councils.proposals import open_proposal
from cybersyn.economy import Unit
from cybersyn.store import Store

T0 = datetime(1972, 9, 1, 12, tzinfo=UTC)
OFFICE = Principal("planner", "office", roles=frozenset({"planner"}))


@pytest.fixture
def council(store: Store) -> Callable[..., str]:
    """Make a council 'E1' (a unit that need not exist in an economy) with n + n members
    w1..wn, g1..gn; returns its id."""
    def make(n: int = 5, unit_id: str = "E1", **rules: object) -> str:
        from cybersyn.councils.rules import VoteRules

        with store.write() as conn:
            create_council(conn, Unit(unit_id, f"Enterprise {unit_id}", "enterprise"), T0,
                           "test", Composition(n, n, VoteRules(**rules)))  # type: ignore[arg-type]
            for k in range(1, n + 1):
                seat_member(conn, unit_id, f"{unit_id.lower()}w{k}", f"Worker {k}", "worker",
                            T0, "test", chair=k == 1)
                seat_member(conn, unit_id, f"{unit_id.lower()}g{k}", f"Official {k}",
                            "government", T0, "test")
        return unit_id
    return make


def member(conn: sa.Connection, member_id: str) -> Principal:
    p = principal_for(conn, member_id, T0 + timedelta(hours=1))
    assert p is not None
    return p


def open_one(store: Store, council_id: str = "E1", days: int = 3) -> int:
    with store.write() as conn:
        return open_proposal(conn, OFFICE, council_id=council_id, kind="investment",
                             title="A new furnace", body={"cents": 120_000_000},
                             closes_at=T0 + timedelta(days=days), now=T0)
