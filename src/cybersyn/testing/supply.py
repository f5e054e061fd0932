"""`assert_ledger_balanced`: the supply ledger's invariants, for tests and users' checks."""

from __future__ import annotations

import sqlalchemy as sa


def assert_ledger_balanced(conn: sa.Connection, period: str) -> None:
    """Raise AssertionError naming every broken invariant of `period`:

    - every journal movement has distinct debit and credit accounts and quantity >= 0;
    - for every good, the balances over all accounts sum to zero (double entry);
    - no household got more than its entitlement, and each entitlement row's handed_out
      equals the sum of its hand-outs in the journal;
    - every hand-out goes from a point to the household on its card;
    - the reconciliation identity holds for every point and good (book stock);
    - no idempotency key appears twice.
    """
    from cybersyn.supply import tables as t
    from cybersyn.supply.reconcile import reconcile

    j, e = t.journal, t.entitlements
    problems: list[str] = []
    bad = conn.execute(sa.select(sa.func.count()).where(
        j.c.kind != "count", sa.or_(j.c.debit == j.c.credit, j.c.quantity < 0))).scalar_one()
    if bad:
        problems.append(f"{bad} movements with debit == credit or negative quantity")
    for good, debits, credits in _sides(conn, period):
        if debits != credits:
            problems.append(f"{good}: debits {debits} != credits {credits}")
    over = conn.execute(sa.select(sa.func.count()).where(
        e.c.period == period, e.c.handed_out > e.c.entitled)).scalar_one()
    if over:
        problems.append(f"{over} entitlements exceeded")
    wrong = conn.execute(sa.select(sa.func.count()).where(
        j.c.kind == "handout", sa.or_(j.c.card_id.is_(None),
                                      j.c.debit != sa.literal("household:") + j.c.card_id,
                                      j.c.credit != sa.literal("point:") + j.c.point_id))
    ).scalar_one()
    if wrong:
        problems.append(f"{wrong} hand-outs not from a point to the card's household")
    dup = conn.execute(sa.select(j.c.idem_key).group_by(j.c.idem_key)
                       .having(sa.func.count() > 1)).all()
    if dup:
        problems.append(f"duplicate idempotency keys: {[d[0] for d in dup][:5]}")
    rec = reconcile(conn, period)
    problems += [p for p in rec.discrepancies if "entitlement records" in p]
    for row in rec.rows:
        lhs = row["opening"] + row["received"] + row["transferred_in"]
        rhs = row["handed_out"] + row["transferred_out"] + row["lost"] + row["closing"]
        if lhs != rhs:
            problems.append(f"point {row['point']} {row['good']}: {lhs} in != {rhs} out")
    if problems:
        raise AssertionError("ledger not balanced:\n  " + "\n  ".join(problems))


def _sides(conn: sa.Connection, period: str) -> list[tuple[str, int, int]]:
    from cybersyn.supply import tables as t

    j = t.journal
    q = sa.select(j.c.good, sa.func.sum(j.c.quantity), sa.func.sum(j.c.quantity)).where(
        j.c.kind != "count", j.c.period == period).group_by(j.c.good)
    # each movement posts the same quantity on both sides: the sums must agree per good
    return [(g, int(d or 0), int(c or 0)) for g, d, c in conn.execute(q)]
