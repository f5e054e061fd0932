"""The councils' part of `cybersyn demo` (after the plan stage).

Councils for the nation, its 13 sectors and 95 enterprises, each with 5 workers' and 5
government representatives (deterministic names from the demo seed); participatory rounds
on the demo economy, stored; the planning office's plan version (if the plan stage made one)
and the participatory plan are each put to every council they concern. Votes are drawn
deterministically (seeded): a council asked to make more than it offered in the rounds is
less inclined to approve (p(yes) = 0.9 - 4 x overreach, at least 0.2), and a member voting
no sends back the council's own offer as the counter-proposal.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

from cybersyn.auth import Principal
from cybersyn.councils import plan_link
from cybersyn.councils.approval import get_approval, open_approval, parts
from cybersyn.councils.membership import add_planner, appoint_many, setup_councils
from cybersyn.councils.proposals import cast_vote, close_proposal
from cybersyn.councils.rounds import run_and_store
from cybersyn.councils.tables import councils, proposals, seats
from cybersyn.economy.model import Economy

FIRST = ("Ana", "Luis", "María", "Jorge", "Rosa", "Pedro", "Carmen", "Juan", "Elena", "Víctor",
         "Teresa", "Manuel", "Isabel", "Raúl", "Gladys", "Sergio", "Olga", "Hernán", "Inés",
         "Patricio", "Nelly", "Osvaldo", "Marta", "Fernando")
LAST = ("González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva",
        "Martínez", "Sepúlveda", "Morales", "Rodríguez", "López", "Fuentes", "Hernández",
        "Torres", "Araya", "Flores", "Espinoza", "Valenzuela", "Castillo", "Tapia")
PLANNER = Principal("planner", "odeplan", roles=frozenset({"planner"}), name="ODEPLAN")


def _name(rng: np.random.Generator) -> str:
    return f"{FIRST[rng.integers(len(FIRST))]} {LAST[rng.integers(len(LAST))]}"


def seat_demo_members(conn: sa.Connection, economy: Economy, now: datetime,
                      rng: np.random.Generator) -> int:
    """5 + 5 members on every council without members; the first worker chairs."""
    filled = set(conn.execute(sa.select(seats.c.council_id).distinct()).scalars())
    count = 0
    for cid in conn.execute(sa.select(councils.c.id).order_by(councils.c.id)).scalars():
        if cid in filled:
            continue
        people = [(f"{cid.lower()}.{tag}{k}", _name(rng), side, (tag, k) == ("w", 1))
                  for side, tag in (("worker", "w"), ("government", "g"))
                  for k in range(1, 6)]
        count += appoint_many(conn, cid, people, now, "demo")
    return count


def _vote_all(conn: sa.Connection, approval_id: int, offers: dict[str, dict[str, float]],
              now: datetime, rng: np.random.Generator) -> None:
    rows = conn.execute(sa.select(proposals).where(proposals.c.approval_id == approval_id)
                        .order_by(proposals.c.id)).all()
    for p in rows:
        asked = _body_outputs(p.body)
        offer = offers.get(p.council_id, {})
        over = max((asked[c] / offer[c] - 1 for c in asked if offer.get(c)), default=0.0)
        p_yes = float(np.clip(0.9 - 4 * max(over, 0.0), 0.2, 0.9))
        for s in conn.execute(sa.select(seats).where(seats.c.council_id == p.council_id)
                              .order_by(seats.c.member_id)).all():
            u = rng.random()
            if u < 0.04:
                continue        # absent
            choice = "yes" if u < 0.04 + p_yes * 0.96 else ("no" if rng.random() < 0.85
                                                             else "abstain")
            who = Principal("member", s.member_id, frozenset({p.council_id}))
            counter = ({"outputs": offer, "reason": "what we can actually make"}
                       if choice == "no" else None)
            cast_vote(conn, who, p.id, choice, now, counter=counter)
        close_proposal(conn, PLANNER, p.id, p.closes_at)


def _body_outputs(body: str) -> dict[str, float]:
    import json

    return dict(json.loads(body)["outputs"])


def _approve(conn: sa.Connection, economy: Economy, outputs: dict[str, float],
             offers: dict[str, dict[str, float]], now: datetime, rng: np.random.Generator,
             **kw: Any) -> dict[str, Any]:
    aid = open_approval(conn, PLANNER, economy, outputs=outputs,
                        closes_at=now + timedelta(days=7), now=now, **kw)
    _vote_all(conn, aid, offers, now + timedelta(days=1), rng)
    a = get_approval(conn, aid)
    refused = [p for p in a["parts"] if p["result"] != "approved"]
    return {"id": aid, "subject": a["subject"], "status": a["status"],
            "councils": len(a["parts"]), "approved": len(a["parts"]) - len(refused),
            "rejected": sum(p["result"] == "rejected" for p in refused),
            "no_quorum": sum(p["result"] == "no_quorum" for p in refused),
            "counter_proposals_from": [p["council_id"] for p in refused][:5]}


def finish(ctx: Any) -> None:
    economy: Economy = ctx.economy
    rng = np.random.default_rng(ctx.seed + 6)
    now = ctx.start + timedelta(days=ctx.days)
    with ctx.store.write() as conn:
        made = setup_councils(conn, economy, now, "demo")
        members = seat_demo_members(conn, economy, now, rng)
        add_planner(conn, "odeplan", "Oficina de Planificación Nacional", None, now, "demo")
        run = run_and_store(conn, economy, now, "odeplan")
    final = run["final"]["outputs"]
    with ctx.store.write() as conn:
        ids = list(conn.execute(sa.select(councils.c.id).order_by(councils.c.id)).scalars())
        offers = parts(economy, final, ids)
        summary: dict[str, Any] = {
            "councils": len(ids), "new councils": len(made), "members seated": members,
            "rounds": run["rounds"], "converged": run["converged"],
            "max excess demand at the end (%)": round(run["convergence"][-1]["max_excess_pct"], 3),
            "gap to the central plan (% of gross output)": round(run["gap_pct"], 2),
            "labour vs central plan (%)": round(run["labour_gap_pct"], 2)}
        vid = ctx.state.get("plan_version_id")
        version = plan_link.get_version(conn, vid) if vid else None
        if version is not None:
            plan = _approve(conn, economy, dict(version["gross_outputs"]), offers, now, rng,
                            plan_version_id=vid)
            plan["plan status"] = plan_link.get_version(conn, vid)["status"]  # type: ignore[index]
            summary["planning office's plan"] = plan
        summary["participatory plan"] = _approve(conn, economy, final, offers,
                                                 now + timedelta(days=8), rng,
                                                 subject=f"rounds/{run['id']}")
    ctx.state["councils_run_id"] = run["id"]
    ctx.summary["Councils"] = summary
