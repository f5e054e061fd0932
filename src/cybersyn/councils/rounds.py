"""The shell around participatory planning: run the rounds on an economy, store every round,
compare with the central optimal plan, and record the run in the audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from cybersyn.councils.central import central_plan, gap_pct, labour_gap_pct
from cybersyn.councils.participatory import ParticipatoryParams, ParticipatoryResult, run_rounds
from cybersyn.councils.tables import planning_rounds, planning_runs
from cybersyn.economy.model import Economy
from cybersyn.errors import NotFound
from cybersyn.store import audit


def district_shares(economy: Economy) -> np.ndarray | None:
    """Each district's share of households, shape (k,), or None without districts."""
    h = np.array([d.households for d in economy.districts], dtype=float)
    return h / h.sum() if h.size and h.sum() > 0 else None


def _vec(a: np.ndarray) -> str:
    return json.dumps([round(float(v), 6) for v in a])


def _digest(result: ParticipatoryResult) -> str:
    h = hashlib.sha256()
    for r in result.rounds:
        for a in (r.prices, r.outputs, r.household_demand):
            h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()


def run_and_store(conn: sa.Connection, economy: Economy, now: datetime, actor: str,
                  params: ParticipatoryParams | None = None) -> dict[str, Any]:
    """Run the rounds on `economy`, store them, and return the run's report."""
    params = params or ParticipatoryParams()
    result = run_rounds(economy.io, district_shares(economy), params)
    optimal = central_plan(economy.io)
    final = result.final.outputs
    gap, lgap = gap_pct(final, optimal), labour_gap_pct(economy.io, final, optimal)
    run_id = int(conn.execute(planning_runs.insert().values(
        economy=economy.name, params=json.dumps(asdict(params)),
        product_codes=json.dumps(list(economy.io.product_codes)), converged=result.converged,
        rounds=len(result.rounds), gap_pct=gap, labour_gap_pct=lgap,
        created_at=now)).inserted_primary_key[0])  # type: ignore[index]
    conn.execute(planning_rounds.insert(), [
        {"run_id": run_id, "number": r.number, "max_excess": r.max_excess,
         "labour_hours": r.labour_hours, "prices": _vec(r.prices), "outputs": _vec(r.outputs),
         "household_demand": _vec(r.household_demand), "excess": _vec(r.excess)}
        for r in result.rounds])
    report = run_report(conn, run_id)
    audit.append(conn, actor, "rounds.run", f"rounds/{run_id}", {
        "economy": economy.name, "params": asdict(params), "rounds": len(result.rounds),
        "converged": result.converged, "max_excess": result.final.max_excess,
        "gap_pct": gap, "labour_gap_pct": lgap, "digest": _digest(result)})
    return report


def run_report(conn: sa.Connection, run_id: int | None = None) -> dict[str, Any]:
    """A stored run (the latest when `run_id` is None): convergence per round, the final
    outputs, prices and excess demand per product, and the gap to the central plan."""
    q = sa.select(planning_runs).order_by(planning_runs.c.id.desc()).limit(1)
    if run_id is not None:
        q = sa.select(planning_runs).where(planning_runs.c.id == run_id)
    run = conn.execute(q).first()
    if run is None:
        raise NotFound("no participatory planning run stored: run `cybersyn councils rounds "
                       "run`" if run_id is None else f"planning run {run_id} not found")
    rows = conn.execute(sa.select(planning_rounds).where(planning_rounds.c.run_id == run.id)
                        .order_by(planning_rounds.c.number)).all()
    codes = json.loads(run.product_codes)
    last = rows[-1]
    final = {k: dict(zip(codes, json.loads(getattr(last, k)), strict=True))
             for k in ("prices", "outputs", "household_demand", "excess")}
    return {"id": run.id, "economy": run.economy, "params": json.loads(run.params),
            "converged": run.converged, "rounds": run.rounds, "gap_pct": run.gap_pct,
            "labour_gap_pct": run.labour_gap_pct, "created_at": run.created_at.isoformat(),
            "convergence": [{"number": r.number, "max_excess_pct": 100 * r.max_excess,
                             "labour_hours": r.labour_hours} for r in rows],
            "final": final}
