"""Reconciliation per point, good and period:

    opening + received + transferred_in = handed_out + transferred_out + lost + closing

`closing` is the book stock; when the committee counted the stock, counted - book is the
discrepancy. Every discrepancy, negative book stock and entitlement/journal mismatch is
listed. The arithmetic is a pure function over arrays (`reconcile_arrays`); the shell
aggregates the journal with two GROUP BY queries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from cybersyn.store import audit
from cybersyn.supply import tables as t
from cybersyn.supply.ledger import _check_period

FLOWS = ("opening", "received", "transferred_in", "handed_out", "transferred_out", "lost")


@dataclass(frozen=True)
class Reconciliation:
    period: str
    rows: list[dict[str, Any]]
    discrepancies: list[str]

    @property
    def balanced(self) -> bool:
        return not self.discrepancies


def reconcile_arrays(flows: dict[str, np.ndarray], counted: np.ndarray) -> dict[str, np.ndarray]:
    """flows: arrays of shape (n,) for each name in FLOWS (units); counted (n,), NaN where
    no count was made. Returns closing (book) and discrepancy = counted - closing (NaN
    where not counted)."""
    closing = (flows["opening"] + flows["received"] + flows["transferred_in"]
               - flows["handed_out"] - flows["transferred_out"] - flows["lost"])
    return {"closing": closing, "discrepancy": counted - closing}


_FLOW_OF = {("receive", "debit"): "received", ("transfer", "debit"): "transferred_in",
            ("transfer", "credit"): "transferred_out", ("handout", "credit"): "handed_out",
            ("loss", "credit"): "lost"}


def _aggregate(conn: sa.Connection, period: str, point: str | None
               ) -> dict[tuple[str, str], dict[str, int]]:
    j = t.journal
    acc: dict[tuple[str, str], dict[str, int]] = {}
    for side in ("debit", "credit"):
        col = j.c[side]
        q = (sa.select(col, j.c.good, j.c.kind, j.c.period, sa.func.sum(j.c.quantity))
             .where(j.c.period <= period, j.c.kind != "count", col.like("point:%"))
             .group_by(col, j.c.good, j.c.kind, j.c.period))
        if point is not None:
            q = q.where(col == f"point:{point}")
        for account, good, kind, per, qty in conn.execute(q):
            current = per == period
            flows = acc.setdefault((account[6:], good), dict.fromkeys(FLOWS, 0))
            sign = 1 if side == "debit" else -1
            if not current:
                flows["opening"] += sign * int(qty)
            elif (kind, side) in _FLOW_OF:
                flows[_FLOW_OF[(kind, side)]] += int(qty)
    return acc


def _counts(conn: sa.Connection, period: str) -> dict[tuple[str, str], int]:
    j = t.journal
    q = (sa.select(j.c.point_id, j.c.good, j.c.quantity)
         .where(j.c.kind == "count", j.c.period == period).order_by(j.c.at, j.c.id))
    return {(p, g): int(qty) for p, g, qty in conn.execute(q)}


def _entitlement_mismatches(conn: sa.Connection, period: str,
                            districts: frozenset[str] | None = None) -> list[str]:
    j, e = t.journal, t.entitlements
    sums = sa.select(j.c.card_id, j.c.good, sa.func.sum(j.c.quantity).label("q")).where(
        j.c.kind == "handout", j.c.period == period).group_by(j.c.card_id, j.c.good).subquery()
    q = sa.select(e.c.card_id, e.c.good, e.c.handed_out, sums.c.q).select_from(
        e.outerjoin(sums, sa.and_(sums.c.card_id == e.c.card_id, sums.c.good == e.c.good))
    ).where(e.c.period == period, e.c.handed_out != sa.func.coalesce(sums.c.q, 0))
    if districts is not None:
        h = t.households
        q = q.where(e.c.card_id.in_(sa.select(h.c.card_id).where(
            h.c.district_id.in_(sorted(districts)))))
    return [f"card {c} {g}: entitlement records {h} handed out, journal {q_ or 0}"
            for c, g, h, q_ in conn.execute(q)]


def points_in(conn: sa.Connection, districts: frozenset[str]) -> set[str]:
    """Ids of the distribution points of `districts`."""
    return set(conn.execute(sa.select(t.points.c.id).where(
        t.points.c.district_id.in_(sorted(districts)))).scalars())


def reconcile(conn: sa.Connection, period: str, point: str | None = None,
              districts: frozenset[str] | None = None) -> Reconciliation:
    """Reconcile every point (or one, or those of `districts`) for `period` (YYYY-MM);
    read-only. Card mismatches are listed without `point`, for `districts`' cards."""
    _check_period(period)
    acc = _aggregate(conn, period, point)
    counts = _counts(conn, period)
    keys = sorted(set(acc) | {k for k in counts if point is None or k[0] == point})
    if districts is not None:
        mine = points_in(conn, districts)
        keys = [k for k in keys if k[0] in mine]
    flows = {f: np.array([acc.get(k, {}).get(f, 0) for k in keys], dtype=float)
             for f in FLOWS}
    counted = np.array([counts.get(k, np.nan) for k in keys], dtype=float)
    res = reconcile_arrays(flows, counted)
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for i, (p, g) in enumerate(keys):
        closing = int(res["closing"][i])
        seen = None if np.isnan(counted[i]) else int(counted[i])
        rows.append({"point": p, "good": g, **{f: int(flows[f][i]) for f in FLOWS},
                     "closing": closing, "counted": seen})
        if closing < 0:
            problems.append(f"point {p} {g}: book stock {closing} is negative "
                            "(hand-outs or transfers without a receipt)")
        if seen is not None and seen != closing:
            problems.append(f"point {p} {g}: counted {seen}, book {closing} "
                            f"(discrepancy {seen - closing:+d})")
    if point is None:
        problems += _entitlement_mismatches(conn, period, districts)
    return Reconciliation(period, rows, problems)


def journal_digest(conn: sa.Connection, period: str) -> dict[str, Any]:
    """Count, last id and SHA-256 over (id, key, kind, quantity) of the period's journal."""
    j = t.journal
    h = hashlib.sha256()
    n, last = 0, 0
    q = sa.select(j.c.id, j.c.idem_key, j.c.kind, j.c.quantity).where(
        j.c.period == period).order_by(j.c.id)
    for rid, key, kind, qty in conn.execute(q):
        h.update(f"{rid}|{key}|{kind}|{qty}\n".encode())
        n, last = n + 1, rid
    return {"movements": n, "last_id": last, "sha256": h.hexdigest()}


def reconcile_and_record(conn: sa.Connection, period: str, actor: str, at: datetime,
                         point: str | None = None) -> Reconciliation:
    """Reconcile and write the outcome, with the journal digest, to the audit log."""
    rec = reconcile(conn, period, point)
    audit.append(conn, actor, "supply.reconcile", point or "all",
                 {"period": period, "rows": len(rec.rows),
                  "discrepancies": rec.discrepancies[:50],
                  "n_discrepancies": len(rec.discrepancies), **journal_digest(conn, period)},
                 at=at)
    return rec
