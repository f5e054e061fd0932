"""Plan versions in the database: draft -> proposed -> approved | rejected.

Every save and status change is written to the hash-chained audit log in the caller's
transaction. Councils approve or reject through `set_version_status`.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from cybersyn.errors import Conflict, InvalidInput, NotFound
from cybersyn.plan.explain import explain
from cybersyn.plan.multiperiod import MultiPeriodResult
from cybersyn.plan.problem import PlanResult
from cybersyn.plan.tables import plan_lines, plan_versions
from cybersyn.store import audit

STATUSES = ("draft", "proposed", "approved", "rejected")
TRANSITIONS = {"draft": {"proposed", "rejected"}, "proposed": {"approved", "rejected", "draft"},
               "approved": set(), "rejected": set()}


def _lines(result: PlanResult | MultiPeriodResult) -> list[dict[str, Any]]:
    p = result.problem
    if isinstance(result, MultiPeriodResult):
        x, net, t, price = result.x, result.net, result.targets, result.prices
    else:
        x, net = result.x[None, : p.n], result.net[None, :]
        t, price = p.targets[None, :], result.prices[None, :]
    return [{"period": k + 1, "product_code": code, "target": float(t[k, i]),
             "net_output": float(net[k, i]), "gross_output": float(x[k, i]),
             "price": float(price[k, i])}
            for k in range(x.shape[0]) for i, code in enumerate(p.product_names)]


def _explanation(result: PlanResult | MultiPeriodResult) -> dict[str, Any]:
    if isinstance(result, MultiPeriodResult):
        return {"objective": result.objective, "lam": result.lam, "method": result.method,
                "binding_by_period": [[b.sentence() for b in bb] for bb in result.binding]}
    return explain(result).to_dict()


def save_version(conn: sa.Connection, plan_result: PlanResult | MultiPeriodResult, *,
                 label: str, actor: str) -> str:
    """Store a solved plan as a draft version; returns its id."""
    if not label.strip():
        raise InvalidInput("label must not be empty")
    vid = uuid.uuid4().hex[:16]
    now = datetime.now(UTC)
    p = plan_result.problem
    periods = plan_result.periods
    used = (float(plan_result.labour_used[0]) if isinstance(plan_result, MultiPeriodResult)
            else plan_result.labour_used())
    conn.execute(plan_versions.insert().values(
        id=vid, label=label, objective=plan_result.objective, status="draft",
        value=float(plan_result.value), lam=float(plan_result.lam), periods=periods,
        method=plan_result.method[:256], labour_hours_used=used,
        labour_hours_available=(float(p.labour_available) if np.isfinite(p.labour_available)
                                else None),
        explanation=json.dumps(_explanation(plan_result), default=float),
        created_at=now, created_by=actor, status_changed_at=now, note=""))
    rows = [{"version_id": vid, **r} for r in _lines(plan_result)]
    for k in range(0, len(rows), 5000):
        conn.execute(plan_lines.insert(), rows[k:k + 5000])
    audit.append(conn, actor, "plan.save", f"plan/{vid}",
                 {"label": label, "objective": plan_result.objective,
                  "lam": float(plan_result.lam), "periods": periods}, at=now)
    return vid


def _row(conn: sa.Connection, version_id: str) -> sa.Row[Any]:
    row = conn.execute(sa.select(plan_versions).where(plan_versions.c.id == version_id)).first()
    if row is None:
        raise NotFound(f"plan version {version_id!r} not found")
    return row


def _summary(row: sa.Row[Any]) -> dict[str, Any]:
    return {"id": row.id, "label": row.label, "objective": row.objective,
            "status": row.status, "value": row.value, "lam": row.lam, "periods": row.periods,
            "method": row.method, "labour_hours_used": row.labour_hours_used,
            "labour_hours_available": row.labour_hours_available,
            "created_at": row.created_at.isoformat(), "created_by": row.created_by,
            "status_changed_at": row.status_changed_at.isoformat(), "note": row.note}


def get_version(conn: sa.Connection, version_id: str) -> dict[str, Any]:
    """A version with its first-period targets, net and gross outputs per product code,
    `products` (code -> all figures), `by_period` for multi-period plans, and explanation."""
    row = _row(conn, version_id)
    out = _summary(row)
    lines = conn.execute(sa.select(plan_lines).where(plan_lines.c.version_id == version_id)
                         .order_by(plan_lines.c.period)).all()
    first = [r for r in lines if r.period == 1]
    out["targets"] = {r.product_code: r.target for r in first}
    out["net_outputs"] = {r.product_code: r.net_output for r in first}
    out["gross_outputs"] = {r.product_code: r.gross_output for r in first}
    out["products"] = {r.product_code: {"target": r.target, "net_output": r.net_output,
                                        "gross_output": r.gross_output, "price": r.price}
                       for r in first}
    if row.periods > 1:
        out["by_period"] = [{r.product_code: {"target": r.target, "net_output": r.net_output,
                                              "gross_output": r.gross_output}
                             for r in lines if r.period == k}
                            for k in range(1, row.periods + 1)]
    out["explanation"] = json.loads(row.explanation)
    return out


def list_versions(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every version, newest first, without lines."""
    rows = conn.execute(sa.select(plan_versions).order_by(plan_versions.c.created_at.desc(),
                                                          plan_versions.c.id)).all()
    return [_summary(r) for r in rows]


def set_version_status(conn: sa.Connection, version_id: str, status: str, actor: str,
                       note: str = "") -> dict[str, Any]:
    """Move a version along draft -> proposed -> approved | rejected (proposed may go back
    to draft); writes the audit log. Raises Conflict for a transition not allowed."""
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {STATUSES}, got {status!r}")
    row = _row(conn, version_id)
    if status not in TRANSITIONS[row.status]:
        raise Conflict(f"plan version {version_id} is {row.status}: cannot become {status}")
    now = datetime.now(UTC)
    conn.execute(plan_versions.update().where(plan_versions.c.id == version_id)
                 .values(status=status, status_changed_at=now, note=note))
    audit.append(conn, actor, f"plan.{status}", f"plan/{version_id}",
                 {"from": row.status, "to": status, "note": note}, at=now)
    return _summary(_row(conn, version_id))


def export_version(conn: sa.Connection, version_id: str, path: str | Path) -> Path:
    """Write the version's lines to CSV or Parquet (by the file's suffix)."""
    _row(conn, version_id)
    path = Path(path)
    rows = [dict(r._mapping) for r in conn.execute(
        sa.select(plan_lines).where(plan_lines.c.version_id == version_id)
        .order_by(plan_lines.c.period, plan_lines.c.product_code))]
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    elif path.suffix == ".csv":
        import csv

        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(plan_lines.c.keys()))
            w.writeheader()
            w.writerows(rows)
    else:
        raise InvalidInput(f"export to .csv or .parquet, got {path.name!r}")
    return path
