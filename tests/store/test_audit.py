from __future__ import annotations

import sqlalchemy as sa

from cybersyn.store import Store, audit
from cybersyn.store.schema import audit_log


def _fill(store: Store, n: int = 5) -> None:
    for k in range(n):
        with store.write() as conn:
            audit.append(conn, f"member-{k}", "vote.cast", "proposal-1", {"vote": "yes", "k": k})


def test_intact_chain_verifies(store: Store) -> None:
    _fill(store)
    with store.read() as conn:
        assert audit.verify(conn) == []
        assert [e.seq for e in audit.entries(conn)] == [1, 2, 3, 4, 5]


def test_altered_payload_is_detected(store: Store) -> None:
    _fill(store)
    with store.write() as conn:
        conn.execute(audit_log.update().where(audit_log.c.seq == 3)
                     .values(payload='{"k":2,"vote":"no"}'))
    with store.read() as conn:
        problems = audit.verify(conn)
    assert any("entry 3" in p and "altered" in p for p in problems)


def test_deleted_middle_and_tail_rows_are_detected(store: Store) -> None:
    _fill(store)
    with store.write() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 2))
    with store.read() as conn:
        assert any("missing" in p for p in audit.verify(conn))
    with store.write() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 5))
    with store.read() as conn:
        assert any("head records entry 5" in p for p in audit.verify(conn))


def test_rehashing_an_edit_still_breaks_the_chain(store: Store) -> None:
    """An attacker who recomputes the edited row's own hash breaks the next row's link."""
    _fill(store)
    with store.write() as conn:
        row = conn.execute(sa.select(audit_log).where(audit_log.c.seq == 2)).one()
        forged = audit.entry_hash(row.seq, row.at, "intruder", row.action, row.subject,
                                  row.payload, row.prev_hash)
        conn.execute(audit_log.update().where(audit_log.c.seq == 2)
                     .values(actor="intruder", hash=forged))
    with store.read() as conn:
        assert any("entry 3: does not follow" in p for p in audit.verify(conn))
