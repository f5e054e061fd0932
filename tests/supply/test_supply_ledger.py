"""Ledger: registry and de-duplication, entitlements, idempotent hand-outs, refusals that
change nothing, reconciliation with discrepancies, invariants under random sequences."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cybersyn.errors import Conflict, InvalidInput
from cybersyn.store import Store, audit
from cybersyn.supply import ledger
from cybersyn.supply import tables as t
from cybersyn.supply.reconcile import reconcile, reconcile_and_record
from cybersyn.testing import assert_ledger_balanced

AT = datetime(1972, 10, 12, 15, 0, tzinfo=UTC)
P = "1972-10"


def setup_district(conn: sa.Connection) -> None:
    ledger.add_point(conn, "P1", "D01", "Almacén 1")
    ledger.add_point(conn, "P2", "D01", "Almacén 2")
    ledger.set_good(conn, "milk", "Milk", "litre", 120)
    ledger.set_good(conn, "flour", "Flour", "kg", 90)
    ledger.set_rule(conn, "milk", "child", 15, priority=0)
    ledger.set_rule(conn, "milk", "pregnant_or_nursing", 15, priority=0)
    ledger.set_rule(conn, "flour", "person", 4)
    ledger.register(conn, ledger.Household("C1", "D01", "P1", "Ana Pérez", "1-9", 4, 2), AT)
    ledger.register(conn, ledger.Household("C2", "D01", "P1", "Juan Soto", "2-7", 2, 0, 1), AT)
    ledger.register(conn, ledger.Household("C3", "D01", "P2", "Rosa Díaz", "3-5", 1), AT)
    ledger.issue_entitlements(conn, P)


@pytest.fixture
def jap(store: Store) -> Store:
    with store.write() as conn:
        setup_district(conn)
    return store


def test_entitlements_from_rules(jap: Store) -> None:
    with jap.read() as conn:
        assert ledger.remaining(conn, "C1", P) == {
            "milk": {"entitled": 30, "handed_out": 0, "remaining": 30},
            "flour": {"entitled": 16, "handed_out": 0, "remaining": 16}}
        assert ledger.remaining(conn, "C2", P)["milk"]["entitled"] == 15
        assert ledger.remaining(conn, "C3", P)["milk"]["entitled"] == 0


def test_duplicate_registration_goes_to_review(jap: Store) -> None:
    with jap.write() as conn:
        st1 = ledger.register(conn, ledger.Household("C9", "D02", "P2", "Other", "1-9", 3), AT)
        st2 = ledger.register(conn, ledger.Household("C8", "D01", "P2", "ana  PÉREZ".replace(
            "É", "é"), "8-8", 2), AT)
        assert (st1, st2) == ("review", "review")
        assert ledger.issue_entitlements(conn, P) == 0  # not active: no entitlement
        rid = conn.execute(sa.select(t.reviews.c.id).where(t.reviews.c.card_id == "C9")
                           ).scalar_one()
        ledger.resolve_review(conn, rid, False, "jap", AT)
        with pytest.raises(Conflict):
            ledger.resolve_review(conn, rid, True, "jap", AT)
    with jap.read() as conn:
        status = conn.execute(sa.select(t.households.c.status)
                              .where(t.households.c.card_id == "C9")).scalar_one()
        assert status == "rejected"


def test_hand_out_idempotent_and_refusal_changes_nothing(jap: Store) -> None:
    with jap.write() as conn:
        ledger.receive(conn, "r1", "P1", "milk", 100, P, AT, "depot")
        h1 = ledger.hand_out(conn, "h1", "C1", "milk", 20, "P1", P, AT, "jap")
    with jap.write() as conn:
        again = ledger.hand_out(conn, "h1", "C1", "milk", 20, "P1", P, AT, "jap")
    assert (h1.remaining, again.replayed, again.id) == (10, True, h1.id)
    with jap.read() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(t.journal)).scalar_one()
    with pytest.raises(InvalidInput, match="refused: card C1 has 10 milk left"), \
            jap.write() as conn:
        ledger.hand_out(conn, "h2", "C1", "milk", 11, "P1", P, AT, "jap")
    with pytest.raises(Conflict), jap.write() as conn:
        ledger.hand_out(conn, "h1", "C1", "milk", 5, "P1", P, AT, "jap")
    with jap.read() as conn:
        after = conn.execute(sa.select(sa.func.count()).select_from(t.journal)).scalar_one()
        assert after == before
        assert ledger.remaining(conn, "C1", P)["milk"]["remaining"] == 10
        assert_ledger_balanced(conn, P)


def test_reconciliation_lists_discrepancies(jap: Store) -> None:
    with jap.write() as conn:
        ledger.receive(conn, "r1", "P1", "flour", 50, P, AT, "depot")
        ledger.hand_out(conn, "h1", "C1", "flour", 16, "P1", P, AT, "jap")
        ledger.transfer(conn, "t1", "P1", "P2", "flour", 10, P, AT, "jap")
        ledger.declare_loss(conn, "l1", "P1", "flour", 2, "wet sacks", P, AT, "jap")
        ledger.hand_out(conn, "h2", "C3", "flour", 4, "P2", P, AT, "jap")
        ledger.count_stock(conn, "c1", "P1", "flour", 20, P, AT, "jap")   # book 22
        ledger.count_stock(conn, "c2", "P2", "flour", 6, P, AT, "jap")    # book 6
        rec = reconcile_and_record(conn, P, "jap", AT)
    rows = {(r["point"], r["good"]): r for r in rec.rows}
    assert rows[("P1", "flour")] == {
        "point": "P1", "good": "flour", "opening": 0, "received": 50, "transferred_in": 0,
        "handed_out": 16, "transferred_out": 10, "lost": 2, "closing": 22, "counted": 20}
    assert rows[("P2", "flour")]["closing"] == 6
    assert rec.discrepancies == ["point P1 flour: counted 20, book 22 (discrepancy -2)"]
    with jap.read() as conn:
        assert_ledger_balanced(conn, P)
        assert audit.verify(conn) == []
        assert [e.action for e in audit.entries(conn)][-1] == "supply.reconcile"
    with jap.read() as conn:  # next month opens with last month's book stock
        assert reconcile(conn, "1972-11").rows[0]["opening"] == 22


OPS = st.lists(st.tuples(st.sampled_from(["receive", "handout", "transfer", "loss", "retry"]),
                         st.sampled_from(["C1", "C2", "C3"]), st.sampled_from(["milk", "flour"]),
                         st.integers(1, 12), st.sampled_from(["P1", "P2"])),
               min_size=1, max_size=25)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_invariants_under_random_sequences(tmp_path_factory: pytest.TempPathFactory,
                                           ops: list[tuple[str, str, str, int, str]]) -> None:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('l')}/l.db")
    store.migrate()
    with store.write() as conn:
        setup_district(conn)
    given_out: dict[tuple[str, str], int] = {}
    for k, (op, card, good, qty, point) in enumerate(ops):
        try:
            with store.write() as conn:
                if op == "receive":
                    ledger.receive(conn, f"k{k}", point, good, qty, P, AT, "d")
                elif op == "transfer":
                    other = "P2" if point == "P1" else "P1"
                    ledger.transfer(conn, f"k{k}", point, other, good, qty, P, AT, "d")
                elif op == "loss":
                    ledger.declare_loss(conn, f"k{k}", point, good, qty, "spoilt", P, AT, "d")
                else:
                    key = f"k{k - 1}" if op == "retry" and k else f"k{k}"
                    h = ledger.hand_out(conn, key, card, good, qty, point, P, AT, "d")
                    if not h.replayed:
                        given_out[(card, good)] = given_out.get((card, good), 0) + qty
        except (InvalidInput, Conflict):
            pass
    with store.read() as conn:
        assert_ledger_balanced(conn, P)
        for (card, good), q in given_out.items():
            assert ledger.remaining(conn, card, P)[good]["handed_out"] == q
    store.close()
