"""Demo stage: the October 1972 truck owners' strike.

Trucks drop to 30% of the state fleet; the Santiago round is re-routed; what arrives is
rationed fairly (children's half-litre of milk first, then equal shares of the rest);
one JAP keeps its ledger (hand-outs, a retry, a refusal, a loss, a count, a
reconciliation); diversion detection runs on the ledger and, for precision and recall,
on synthetic diversion injected into every district of the demo economy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from cybersyn.errors import InvalidInput
from cybersyn.supply import ledger, plans, scenario
from cybersyn.supply.detection import flag_points, precision_recall, synthetic_points
from cybersyn.supply.findings import detect, report_price
from cybersyn.supply.reconcile import reconcile_and_record
from cybersyn.supply.routing import RouteParams, route

PERIOD = "1972-10"
AT = datetime(1972, 10, 20, 8, 0, tzinfo=UTC)
FLEET = 40
STRIKE_SHARE = 0.30
SAMPLE_HOUSEHOLDS = 300
ROUTE_SECONDS = 2.0


def finish(ctx: Any) -> None:
    rng = np.random.default_rng(ctx.seed)
    eco = ctx.economy
    net = scenario.santiago_network(eco.districts, rng)
    normal, strike = _routes(ctx, net)
    delivered = scenario.delivered_share(net, strike.unserved)
    h = scenario.households(eco.districts, rng)
    available = scenario.monthly_supply(eco) * delivered
    r = scenario.ration(h, available)
    ledger_out = _ledger(ctx, net, h, r, rng)
    evaluation = _evaluate_detection(eco, rng)
    ctx.state["supply"] = {"delivered_share": delivered, "available": available,
                           "route_plans": ledger_out.pop("plans", None)}
    ctx.summary["Supply (JAP)"] = {
        **_fleet_summary(normal, strike, delivered),
        **_ration_summary(r),
        "ledger (district D01 sample)": ledger_out,
        "diversion detection (synthetic)": evaluation,
    }


def _routes(ctx: Any, net: scenario.Network) -> tuple[Any, Any]:
    out = []
    strike_trucks = max(1, round(FLEET * STRIKE_SHARE))
    ids: list[int] = []
    for name, trucks in (("normal fleet", FLEET), ("October strike", strike_trucks)):
        problem = scenario.fleet_problem(net, trucks)
        res = route(problem, RouteParams(ROUTE_SECONDS, "pyvrp", ctx.seed))
        out.append(res)
        with ctx.store.write() as conn:
            ids.append(plans.save_plan(conn, name, net.ids, net.xy, net.demand_kg, res, trucks,
                                       res.distance / 1000.0, AT))
    ctx.state["supply_route_plan_ids"] = ids
    return out[0], out[1]


def _fleet_summary(normal: Any, strike: Any, delivered: float) -> dict[str, Any]:
    return {
        "trucks": f"{FLEET} -> {strike.trucks_used} running "
                  f"({STRIKE_SHARE:.0%} of the fleet)",
        "Santiago round, normal": f"{normal.trucks_used} trucks, "
                                  f"{len(normal.unserved)} points unserved, "
                                  f"{normal.distance / 1000:.0f} km",
        "Santiago round, strike": f"{strike.trucks_used} trucks, "
                                  f"{len(strike.unserved)} points unserved, "
                                  f"{strike.distance / 1000:.0f} km",
        "tonnage delivered": f"{delivered:.0%}",
    }


def _ration_summary(r: scenario.Rationing) -> dict[str, Any]:
    claim = r.claim0 + r.claim1
    award = r.award0 + r.award1
    met = award.sum(0) / np.maximum(claim.sum(0), 1)
    kids = r.award0[:, 0].sum() / max(r.claim0[:, 0].sum(), 1)
    short = claim.sum(0) - award.sum(0)
    goods = scenario.GOODS
    return {
        "households rationed": int(claim.shape[0]),
        "entitlements met": {g: f"{m:.0%}" for g, m in zip(goods, met, strict=True)},
        "children's and mothers' milk met": f"{kids:.0%}",
        "shortage": {g: f"{s / 1e6:.1f} M {scenario.UNITS[g]}"
                     for g, s in zip(goods, short, strict=True)},
        "rule": "children's milk first, then proportional (equal share of each ration)",
    }


def _ledger(ctx: Any, net: scenario.Network, h: scenario.Households,
            r: scenario.Rationing, rng: np.random.Generator) -> dict[str, Any]:
    district = ctx.economy.districts[0]
    points = [i for i in net.ids if i.startswith(f"{district.id}-")]
    n = min(SAMPLE_HOUSEHOLDS, int((h.district == 0).sum()))
    award = (r.award0 + r.award1)[:n].astype(int)
    with ctx.store.write() as conn:
        _setup(conn, district.id, points, net, h, n)
        ledger.issue_entitlements(conn, PERIOD, district.id)
        _receive(conn, points, award, n)
    refused, replayed = _hand_outs(ctx, points, award, n, rng)
    with ctx.store.write() as conn:
        ledger.declare_loss(conn, "demo-loss-1", points[0], "milk", 40, "sour in the heat",
                            PERIOD, AT + timedelta(days=5), "jap:D01")
        ledger.count_stock(conn, "demo-count-1", points[1], "flour", 0, PERIOD,
                           AT + timedelta(days=9), "jap:D01")
        report_price(conn, points[-1], "meat", scenario.PRICES_CENTS["meat"] * 3, "vecino",
                     AT + timedelta(days=3))
        rec = reconcile_and_record(conn, PERIOD, "jap:D01", AT + timedelta(days=10))
        found = detect(conn, PERIOD, "jap:D01", AT + timedelta(days=10))
        in_review = len(ledger.open_reviews(conn))
    return {"households registered": n, "duplicate registrations in review": in_review,
            "hand-outs": int((award > 0).sum()), "retries replayed (counted once)": replayed,
            "refused beyond entitlement": refused,
            "reconciliation": f"{len(rec.rows)} point-goods, "
                              f"{len(rec.discrepancies)} discrepancies",
            "discrepancies": rec.discrepancies[:3],
            "findings": [f"{f['point']}: {f['kind']} (score {f['score']})" for f in found][:5]}


def _setup(conn: Any, district_id: str, points: list[str], net: scenario.Network,
           h: scenario.Households, n: int) -> None:
    for p in points:
        x, y = net.xy[net.ids.index(p)]
        ledger.add_point(conn, p, district_id, f"JAP almacén {p}", "shop", float(x), float(y))
    for g in scenario.GOODS:
        ledger.set_good(conn, g, g.capitalize(), scenario.UNITS[g], scenario.PRICES_CENTS[g])
    for good, basis, qty, tier in scenario.RULES:
        ledger.set_rule(conn, good, basis, qty, tier)
    for k in range(n):
        ledger.register(conn, ledger.Household(
            f"{district_id}-C{k:05d}", district_id, points[k % len(points)],
            f"Jefe de hogar {k}", f"{10_000_000 + k}-K", int(h.members[k]),
            int(h.children[k]), int(h.pregnant[k])), AT - timedelta(days=30))
    ledger.register(conn, ledger.Household(  # the same person, registered twice
        f"{district_id}-C99999", district_id, points[0], "Jefe de hogar 0", "10000000-K", 3),
        AT - timedelta(days=29))


def _receive(conn: Any, points: list[str], award: np.ndarray, n: int) -> None:
    for j, p in enumerate(points):
        mine = award[j::len(points)].sum(axis=0)
        for gi, g in enumerate(scenario.GOODS):
            # milk covering the loss declared later; flour that will go missing
            extra = {("milk", 0): 40, ("flour", 1): 25}.get((g, j), 0)
            if mine[gi] + extra:
                ledger.receive(conn, f"demo-recv-{p}-{g}", p, g, int(mine[gi] + extra),
                               PERIOD, AT, "depot:lo-valledor")


def _hand_outs(ctx: Any, points: list[str], award: np.ndarray, n: int,
               rng: np.random.Generator) -> tuple[int, int]:
    replayed = refused = 0
    with ctx.store.write() as conn:
        for k in range(n):
            card = f"{ctx.economy.districts[0].id}-C{k:05d}"
            when = AT + timedelta(days=int(rng.integers(0, 9)),
                                  minutes=int(rng.integers(60, 650)))
            for gi, g in enumerate(scenario.GOODS):
                if award[k, gi] > 0:
                    ledger.hand_out(conn, f"demo-{card}-{g}", card, g, int(award[k, gi]),
                                    points[k % len(points)], PERIOD, when, "jap:D01")
    with ctx.store.write() as conn:  # a lost acknowledgement: the shop retries
        card = f"{ctx.economy.districts[0].id}-C00000"
        h = ledger.hand_out(conn, f"demo-{card}-flour", card, "flour", int(award[0, 1]),
                            points[0], PERIOD, AT, "jap:D01")
        replayed += int(h.replayed)
    try:
        with ctx.store.write() as conn:  # asks for more than the card has left
            ledger.hand_out(conn, "demo-greedy", card, "flour", 10_000, points[0], PERIOD, AT,
                            "jap:D01")
    except InvalidInput:
        refused += 1
    return refused, replayed


def _evaluate_detection(eco: Any, rng: np.random.Generator) -> dict[str, Any]:
    ids = [d.id for d in eco.districts]
    households = np.array([d.households for d in eco.districts])
    pts = synthetic_points(ids, households, rng)
    _, flags = flag_points(pts.features, pts.groups)
    flagged = np.asarray(flags.any(axis=1))
    pr = precision_recall(flagged, pts.diverted)
    by_pattern = {name: f"{flagged[pts.pattern == k].mean():.0%}"
                  for k, name in enumerate(("ghost hand-outs", "closing-time burst",
                                            "unexplained losses")) if (pts.pattern == k).any()}
    return {"points": len(pts.ids), "diverted (injected)": int(pts.diverted.sum()),
            "precision": round(pr["precision"], 2), "recall": round(pr["recall"], 2),
            "recall by pattern": by_pattern}
