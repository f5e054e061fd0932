"""Shell around detection: features from the ledger, citizen price reports, findings table."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from cybersyn.errors import InvalidInput, NotFound
from cybersyn.store import audit
from cybersyn.supply import tables as t
from cybersyn.supply.detection import DetectParams, point_findings, price_findings
from cybersyn.supply.ledger import _check_period

CLOSING_WINDOW_MIN = 30


def report_price(conn: sa.Connection, point: str, good: str, price_cents: int,
                 reporter: str, at: datetime) -> int:
    """A citizen's report of the price paid at a point."""
    if price_cents <= 0:
        raise InvalidInput("price_cents must be > 0")
    if not conn.execute(sa.select(t.points.c.id).where(t.points.c.id == point)).first():
        raise NotFound(f"distribution point {point!r} does not exist")
    if not conn.execute(sa.select(t.goods.c.code).where(t.goods.c.code == good)).first():
        raise NotFound(f"unknown good {good!r}")
    return int(conn.execute(t.price_reports.insert().values(
        point_id=point, good=good, price_cents=price_cents, reporter=reporter,
        reported_at=at).returning(t.price_reports.c.id)).scalar_one())


def ledger_features(conn: sa.Connection, period: str
                    ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(point ids, districts (n,), features (n, 3)) for every point with entitlements."""
    j, e, h, p = t.journal, t.entitlements, t.households, t.points
    ent = dict(conn.execute(sa.select(h.c.point_id, sa.func.sum(e.c.entitled)).select_from(
        e.join(h, h.c.card_id == e.c.card_id)).where(e.c.period == period)
        .group_by(h.c.point_id)).all())
    sums: dict[tuple[str, str], int] = {}
    for pid, kind, q in conn.execute(sa.select(j.c.point_id, j.c.kind, sa.func.sum(j.c.quantity))
                                     .where(j.c.period == period).group_by(j.c.point_id,
                                                                          j.c.kind)):
        sums[(pid, kind)] = int(q)
    closes = dict(conn.execute(sa.select(p.c.id, p.c.closes_minute)).all())
    late: dict[str, int] = {}
    for pid, at, q in conn.execute(sa.select(j.c.point_id, j.c.at, j.c.quantity).where(
            j.c.period == period, j.c.kind == "handout")):
        if at.hour * 60 + at.minute >= closes.get(pid, 1140) - CLOSING_WINDOW_MIN:
            late[pid] = late.get(pid, 0) + int(q)
    district = dict(conn.execute(sa.select(p.c.id, p.c.district_id)).all())
    ids = sorted(pid for pid in ent if ent[pid])
    feats = []
    for pid in ids:
        handed = sums.get((pid, "handout"), 0)
        received = sums.get((pid, "receive"), 0)
        feats.append([handed / ent[pid], late.get(pid, 0) / handed if handed else 0.0,
                      sums.get((pid, "loss"), 0) / received if received else 0.0])
    return ids, np.array([district.get(i, "?") for i in ids]), np.array(feats).reshape(-1, 3)


def detect(conn: sa.Connection, period: str, actor: str, at: datetime,
           params: DetectParams | None = None) -> list[dict[str, Any]]:
    """Run detection for `period`, replace its findings, audit the run; the findings."""
    _check_period(period)
    params = params or DetectParams()
    ids, groups, x = ledger_features(conn, period)
    found = point_findings(ids, x, groups, params) if ids else []
    official = dict(conn.execute(sa.select(t.goods.c.code, t.goods.c.price_cents))
                    .all())
    start, end = _month_bounds(period)
    reports = conn.execute(sa.select(t.price_reports.c.point_id, t.price_reports.c.good,
                                     t.price_reports.c.price_cents).where(
        t.price_reports.c.reported_at >= start, t.price_reports.c.reported_at < end))
    found += price_findings(list(reports), official, params)
    conn.execute(t.findings.delete().where(t.findings.c.period == period))
    if found:
        conn.execute(t.findings.insert(), [
            {"period": period, "point_id": f["point"], "kind": f["kind"], "score": f["score"],
             "evidence": json.dumps(f["evidence"]), "created_at": at} for f in found])
    audit.append(conn, actor, "supply.detect", period,
                 {"points": len(ids), "findings": len(found)}, at=at)
    return found


def _month_bounds(period: str) -> tuple[datetime, datetime]:
    from datetime import UTC

    y, m = int(period[:4]), int(period[5:])
    start = datetime(y, m, 1, tzinfo=UTC)
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
    return start, end


def list_findings(conn: sa.Connection, period: str | None = None,
                  districts: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """Findings (highest score first), of one period and of `districts`' points if given."""
    q = sa.select(t.findings).order_by(t.findings.c.score.desc())
    if period is not None:
        q = q.where(t.findings.c.period == period)
    if districts is not None:
        q = q.where(t.findings.c.point_id.in_(sa.select(t.points.c.id).where(
            t.points.c.district_id.in_(sorted(districts)))))
    return [{"id": r.id, "period": r.period, "point": r.point_id, "kind": r.kind,
             "score": r.score, "evidence": json.loads(r.evidence)} for r in conn.execute(q)]
