"""The distribution ledger: registry, entitlements, double-entry stock movements.

Every function takes a connection inside the caller's transaction (`store.write()`), so a
refused or failed operation rolls back whole and an acknowledged one is committed.
Hand-outs are idempotent by key: a retry with the same key and content returns the first
result and changes nothing; the same key with other content is a Conflict.
Receipts, transfers, losses, counts and reconciliations are written to the audit log;
hand-outs (the high-volume path) are append-only journal rows, covered by the digest in
each reconciliation's audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from cybersyn.errors import Conflict, InvalidInput, NotFound
from cybersyn.store import audit
from cybersyn.supply import tables as t

BASES = ("person", "child", "pregnant_or_nursing", "household", "special_needs")
KINDS = ("receive", "handout", "transfer", "loss", "count")


@dataclass(frozen=True)
class Household:
    card_id: str
    district_id: str
    point_id: str
    head_name: str
    head_national_id: str
    members: int
    children: int = 0
    pregnant_or_nursing: int = 0
    special_needs: int = 0

    def __post_init__(self) -> None:
        if self.members < 1:
            raise InvalidInput(f"household {self.card_id}: members must be >= 1")
        if min(self.children, self.pregnant_or_nursing, self.special_needs) < 0:
            raise InvalidInput(f"household {self.card_id}: counts must be >= 0")
        if self.children + self.pregnant_or_nursing > self.members:
            raise InvalidInput(f"household {self.card_id}: more children and pregnant or "
                               "nursing women than members")

    def count(self, basis: str) -> int:
        return {"person": self.members, "child": self.children,
                "pregnant_or_nursing": self.pregnant_or_nursing, "household": 1,
                "special_needs": self.special_needs}[basis]


@dataclass(frozen=True)
class HandOut:
    id: int
    card_id: str
    good: str
    quantity: int
    remaining: int
    replayed: bool


def _normal(name: str) -> str:
    return " ".join(name.lower().split())


# -- registry -----------------------------------------------------------------------------
def add_point(conn: sa.Connection, point_id: str, district_id: str, name: str,
              kind: str = "shop", x_km: float = 0.0, y_km: float = 0.0) -> None:
    if kind not in ("shop", "depot"):
        raise InvalidInput(f"point {point_id}: kind must be 'shop' or 'depot', got {kind!r}")
    conn.execute(t.points.insert().values(id=point_id, district_id=district_id, name=name,
                                          kind=kind, x_km=x_km, y_km=y_km))


def register(conn: sa.Connection, h: Household, at: datetime) -> str:
    """Register a household; returns its status: 'active', or 'review' when the head looks
    like somebody already registered (same national id anywhere, or same name in the same
    district): a person registered twice waits in the review queue."""
    if conn.execute(sa.select(t.households.c.card_id)
                    .where(t.households.c.card_id == h.card_id)).first():
        raise Conflict(f"card {h.card_id} is already registered")
    if not conn.execute(sa.select(t.points.c.id).where(t.points.c.id == h.point_id)).first():
        raise NotFound(f"distribution point {h.point_id!r} does not exist")
    dup = _duplicate_of(conn, h)
    status = "review" if dup else "active"
    conn.execute(t.households.insert().values(**h.__dict__, status=status, registered_at=at))
    if dup:
        conn.execute(t.reviews.insert().values(card_id=h.card_id, duplicate_of=dup[0],
                                               reason=dup[1], status="open", created_at=at))
    return status


def _duplicate_of(conn: sa.Connection, h: Household) -> tuple[str, str] | None:
    hh = t.households
    live = hh.c.status != "rejected"
    row = conn.execute(sa.select(hh.c.card_id).where(
        hh.c.head_national_id == h.head_national_id, live)).first()
    if row:
        return row.card_id, f"same national id {h.head_national_id}"
    for r in conn.execute(sa.select(hh.c.card_id, hh.c.head_name).where(
            hh.c.district_id == h.district_id, live)):
        if _normal(r.head_name) == _normal(h.head_name):
            return r.card_id, f"same name {h.head_name!r} in district {h.district_id}"
    return None


def resolve_review(conn: sa.Connection, review_id: int, approve: bool, actor: str,
                   at: datetime) -> None:
    r = conn.execute(sa.select(t.reviews).where(t.reviews.c.id == review_id)).first()
    if r is None:
        raise NotFound(f"review {review_id} does not exist")
    if r.status != "open":
        raise Conflict(f"review {review_id} is already {r.status}")
    conn.execute(t.reviews.update().where(t.reviews.c.id == review_id)
                 .values(status="approved" if approve else "rejected"))
    conn.execute(t.households.update().where(t.households.c.card_id == r.card_id)
                 .values(status="active" if approve else "rejected"))
    audit.append(conn, actor, "supply.review", r.card_id,
                 {"review": review_id, "approved": approve, "duplicate_of": r.duplicate_of},
                 at=at)


def district_summary(conn: sa.Connection) -> list[dict[str, Any]]:
    """Each district with its active registered households and distribution points."""
    from cybersyn.store.schema import districts

    hh: dict[str, int] = dict(conn.execute(sa.select(t.households.c.district_id, sa.func.count())
                           .where(t.households.c.status == "active")
                           .group_by(t.households.c.district_id)).all())
    pts: dict[str, int] = dict(conn.execute(sa.select(t.points.c.district_id, sa.func.count())
                            .group_by(t.points.c.district_id)).all())
    rows = conn.execute(sa.select(districts).order_by(districts.c.id)).all()
    return [{**r._asdict(), "registered_households": hh.get(r.id, 0),
             "points": pts.get(r.id, 0)} for r in rows]


def open_reviews(conn: sa.Connection, districts: frozenset[str] | None = None
                 ) -> list[dict[str, Any]]:
    """The de-duplication review queue (open reviews, oldest first), of `districts`'
    households if given."""
    q = sa.select(t.reviews).where(t.reviews.c.status == "open").order_by(t.reviews.c.id)
    if districts is not None:
        h = t.households
        q = q.where(t.reviews.c.card_id.in_(sa.select(h.c.card_id).where(
            h.c.district_id.in_(sorted(districts)))))
    return [{"id": r.id, "card_id": r.card_id, "duplicate_of": r.duplicate_of,
             "reason": r.reason, "created_at": r.created_at.isoformat()}
            for r in conn.execute(q)]


# -- goods, rules, entitlements -------------------------------------------------------------
def set_good(conn: sa.Connection, code: str, name: str, unit: str, price_cents: int) -> None:
    if price_cents < 0:
        raise InvalidInput(f"good {code}: price_cents must be >= 0")
    conn.execute(t.goods.delete().where(t.goods.c.code == code))
    conn.execute(t.goods.insert().values(code=code, name=name, unit=unit,
                                         price_cents=price_cents))


def set_rule(conn: sa.Connection, good: str, basis: str, quantity_per_month: int,
             priority: int = 1) -> None:
    if basis not in BASES:
        raise InvalidInput(f"basis must be one of {BASES}, got {basis!r}")
    if quantity_per_month < 0:
        raise InvalidInput("quantity_per_month must be >= 0")
    conn.execute(t.entitlement_rules.delete().where(t.entitlement_rules.c.good == good,
                                                    t.entitlement_rules.c.basis == basis))
    conn.execute(t.entitlement_rules.insert().values(
        good=good, basis=basis, quantity_per_month=quantity_per_month, priority=priority))


def entitlement_of(h: Household, rules: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rules:
        out[r.good] = out.get(r.good, 0) + r.quantity_per_month * h.count(r.basis)
    return out


def issue_entitlements(conn: sa.Connection, period: str, district_id: str | None = None,
                       ) -> int:
    """Create this period's entitlement rows for every active household (once; a second
    call adds only households registered since). Returns the number of rows created."""
    _check_period(period)
    rules = list(conn.execute(sa.select(t.entitlement_rules)).all())
    q = sa.select(t.households).where(t.households.c.status == "active")
    if district_id is not None:
        q = q.where(t.households.c.district_id == district_id)
    have = {(r.card_id, r.good) for r in conn.execute(
        sa.select(t.entitlements.c.card_id, t.entitlements.c.good)
        .where(t.entitlements.c.period == period))}
    rows = []
    for r in conn.execute(q):
        h = Household(r.card_id, r.district_id, r.point_id, r.head_name, r.head_national_id,
                      r.members, r.children, r.pregnant_or_nursing, r.special_needs)
        rows += [{"card_id": h.card_id, "good": g, "period": period, "entitled": q_,
                  "handed_out": 0}
                 for g, q_ in entitlement_of(h, rules).items() if (h.card_id, g) not in have]
    if rows:
        conn.execute(t.entitlements.insert(), rows)
    return len(rows)


def _check_period(period: str) -> None:
    ok = len(period) == 7 and period[4] == "-" and period[:4].isdigit() and \
        period[5:].isdigit() and 1 <= int(period[5:]) <= 12
    if not ok:
        raise InvalidInput(f"period must be YYYY-MM, got {period!r}")


# -- journal -----------------------------------------------------------------------------
def _insert_once(conn: sa.Connection, row: dict[str, Any]) -> int | None:
    """Insert a journal row unless its idem_key exists; the new id or None (a replay)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(t.journal).values(**row).on_conflict_do_nothing(
        index_elements=["idem_key"]).returning(t.journal.c.id)
    return conn.execute(stmt).scalar_one_or_none()


def _existing(conn: sa.Connection, key: str) -> Any:
    return conn.execute(sa.select(t.journal).where(t.journal.c.idem_key == key)).one()


def _same(row: Any, expect: dict[str, Any]) -> bool:
    return all(getattr(row, k) == v for k, v in expect.items())


def _movement(conn: sa.Connection, key: str, kind: str, point: str, good: str, qty: int,
              debit: str, credit: str, period: str, at: datetime, actor: str,
              **extra: Any) -> tuple[int, bool]:
    if not key:
        raise InvalidInput("an idempotency key is required")
    if qty < 0 or (qty == 0 and kind != "count"):
        raise InvalidInput(f"quantity must be > 0, got {qty}")
    _check_period(period)
    row = {"idem_key": key, "at": at, "period": period, "kind": kind, "point_id": point,
           "good": good, "quantity": int(qty), "debit": debit, "credit": credit,
           "actor": actor, **extra}
    new = _insert_once(conn, row)
    if new is not None:
        return new, False
    old = _existing(conn, key)
    if not _same(old, {"kind": kind, "point_id": point, "good": good, "quantity": qty,
                       "debit": debit, "credit": credit}):
        raise Conflict(f"idempotency key {key!r} was already used for a different movement")
    return int(old.id), True


def _require_good(conn: sa.Connection, good: str) -> int:
    price = conn.execute(sa.select(t.goods.c.price_cents)
                         .where(t.goods.c.code == good)).scalar_one_or_none()
    if price is None:
        raise NotFound(f"unknown good {good!r}")
    return int(price)


def _audited(conn: sa.Connection, kind: str, key: str, point: str, good: str, qty: int,
             debit: str, credit: str, period: str, at: datetime, actor: str,
             **extra: Any) -> int:
    _require_good(conn, good)
    mid, replay = _movement(conn, key, kind, point, good, qty, debit, credit, period, at,
                            actor, **extra)
    if not replay:
        audit.append(conn, actor, f"supply.{kind}", point,
                     {"good": good, "quantity": qty, "debit": debit, "credit": credit,
                      "key": key, **{k: v for k, v in extra.items() if v is not None}}, at=at)
    return mid


def receive(conn: sa.Connection, key: str, point: str, good: str, qty: int, period: str,
            at: datetime, actor: str, source: str = "supplier") -> int:
    return _audited(conn, "receive", key, point, good, qty, f"point:{point}", source, period,
                    at, actor)


def transfer(conn: sa.Connection, key: str, point: str, to_point: str, good: str, qty: int,
             period: str, at: datetime, actor: str) -> int:
    if point == to_point:
        raise InvalidInput("a transfer needs two different points")
    return _audited(conn, "transfer", key, point, good, qty, f"point:{to_point}",
                    f"point:{point}", period, at, actor)


def declare_loss(conn: sa.Connection, key: str, point: str, good: str, qty: int,
                 reason: str, period: str, at: datetime, actor: str) -> int:
    if not reason.strip():
        raise InvalidInput("a loss needs a reason")
    return _audited(conn, "loss", key, point, good, qty, f"lost:{point}", f"point:{point}",
                    period, at, actor, reason=reason)


def count_stock(conn: sa.Connection, key: str, point: str, good: str, qty: int, period: str,
                at: datetime, actor: str) -> int:
    """The committee's physical count of closing stock (not a movement: debit == credit)."""
    return _audited(conn, "count", key, point, good, qty, "count", "count", period, at, actor)


def hand_out(conn: sa.Connection, key: str, card: str, good: str, qty: int, point: str,
             period: str, at: datetime, actor: str) -> HandOut:
    """Hand `qty` units of `good` to household `card` at `point`, at the official price.

    Refused (InvalidInput, nothing written) beyond the household's remaining entitlement
    for the period. A retry with the same key returns the first hand-out (replayed=True).
    Many at once, or concurrent requests sharing commits: `cybersyn.supply.handouts`.
    """
    from cybersyn.supply.handouts import HandOutRequest, hand_out_batch

    (out,) = hand_out_batch(conn, [HandOutRequest(key, card, good, qty, point, period, at,
                                                  actor)])
    if isinstance(out, HandOut):
        return out
    raise out


def _refuse(conn: sa.Connection, card: str, good: str, period: str, qty: int) -> None:
    e = t.entitlements
    row = conn.execute(sa.select(e.c.entitled, e.c.handed_out).where(
        e.c.card_id == card, e.c.good == good, e.c.period == period)).first()
    if row is None:
        raise InvalidInput(f"card {card} has no entitlement to {good} in {period} (unknown, "
                           "not active, or entitlements not issued)")
    raise InvalidInput(f"refused: card {card} has {row.entitled - row.handed_out} {good} "
                       f"left in {period}, asked for {qty}")


def remaining(conn: sa.Connection, card: str, period: str) -> dict[str, dict[str, int]]:
    e = t.entitlements
    rows = conn.execute(sa.select(e).where(e.c.card_id == card, e.c.period == period)).all()
    if not rows:
        raise NotFound(f"no entitlements for card {card} in {period}")
    return {r.good: {"entitled": r.entitled, "handed_out": r.handed_out,
                     "remaining": r.entitled - r.handed_out} for r in rows}


def district_of_point(conn: sa.Connection, point: str) -> str:
    d = conn.execute(sa.select(t.points.c.district_id).where(t.points.c.id == point)
                     ).scalar_one_or_none()
    if d is None:
        raise NotFound(f"distribution point {point!r} does not exist")
    return str(d)


def district_of_card(conn: sa.Connection, card: str) -> str:
    d = conn.execute(sa.select(t.households.c.district_id).where(
        t.households.c.card_id == card)).scalar_one_or_none()
    if d is None:
        raise NotFound(f"card {card} is not registered")
    return str(d)


def district_of_review(conn: sa.Connection, review_id: int) -> str:
    card = conn.execute(sa.select(t.reviews.c.card_id).where(t.reviews.c.id == review_id)
                        ).scalar_one_or_none()
    if card is None:
        raise NotFound(f"review {review_id} does not exist")
    return district_of_card(conn, str(card))


def district_ids(conn: sa.Connection) -> frozenset[str]:
    """Every district id: the foundation's districts and those of distribution points."""
    from cybersyn.store.schema import districts

    ids = set(conn.execute(sa.select(districts.c.id)).scalars())
    ids |= set(conn.execute(sa.select(t.points.c.district_id).distinct()).scalars())
    return frozenset(str(i) for i in ids)
