"""Demo stage: ODEPLAN proposes the plan for 1973 — final demand grown 12% as in 1971, with
labour limited — solved as Kantorovich's plan, stored as a version and marked `proposed`."""

from __future__ import annotations

import numpy as np

from cybersyn.loop import DemoContext
from cybersyn.plan.explain import explain
from cybersyn.plan.kantorovich import kantorovich_plan
from cybersyn.plan.shell import problem_from_economy
from cybersyn.plan.versions import save_version, set_version_status

ACTOR = "odeplan"


def finish(ctx: DemoContext) -> None:
    problem = problem_from_economy(ctx.economy)
    result = kantorovich_plan(problem)
    with ctx.store.write() as conn:
        vid = save_version(conn, result, label="Plan 1973 (final demand +12%)", actor=ACTOR)
        set_version_status(conn, vid, "proposed", ACTOR, note="ODEPLAN proposal to councils")
    ctx.state["plan_version_id"] = vid
    ctx.state["plan_result"] = result
    ex = explain(result, top=5)
    unmet = [f"{u.product}: {u.share_met:.1%} of target; {u.reasons[0]}" for u in ex.unmet[:3]]
    ctx.summary["Plan (ODEPLAN)"] = {
        "version": vid,
        "status": "proposed",
        "lambda (share of every target met)": round(result.lam, 4),
        "labour used / available (hours)":
            f"{result.labour_used():,.0f} / {problem.labour_available:,.0f}",
        "unmet targets": len(ex.unmet),
        "binding": list(ex.binding[:3]),
        "examples": unmet,
        "top labour values (hours per unit)":
            {k: round(v, 1) for k, v in ex.labour_values.items()},
        "gross output vs capacity (max)": round(float(np.nanmax(
            result.x / problem.capacity)), 4) if problem.capacity is not None else None,
    }
