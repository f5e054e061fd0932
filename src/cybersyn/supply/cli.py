"""`cybersyn supply ...`: registry, entitlements, allocation, ledger, reconciliation,
findings and delivery routes of the supply committees (JAP)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from cybersyn.cli_common import DatabaseOpt, JsonOpt
from cybersyn.cli_common import open_store as _store
from cybersyn.errors import InvalidInput

app = typer.Typer(help="Supply committees (JAP): rationing, ledger, diversion, routes.",
                  no_args_is_help=True)
console = Console()
ACTOR = "cli"
PeriodOpt = Annotated[str, typer.Option(help="Period YYYY-MM.")]
KeyOpt = Annotated[str, typer.Option(help="Idempotency key (a retry with it counts once).")]
AtOpt = Annotated[str | None, typer.Option(help="When (ISO 8601 with offset); default now.")]




def _when(at: str | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(at)
    except ValueError:
        raise InvalidInput(f"--at: expected ISO 8601 such as 1972-10-12T10:00:00Z, got {at!r}"
                           ) from None
    if t.tzinfo is None:
        raise InvalidInput("--at: add a UTC offset ('Z' or '+00:00')")
    return t.astimezone(UTC)


def _print(rows: list[dict[str, Any]], as_json: bool, title: str = "") -> None:
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if not rows:
        console.print(f"[dim]no {title or 'rows'}[/]")
        return
    table = Table(title=title or None)
    for k in rows[0]:
        table.add_column(str(k))
    for r in rows:
        table.add_row(*(json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list)
                        else str(v) for v in r.values()))
    console.print(table)


@app.command("districts")
def districts_cmd(as_json: JsonOpt = False, database: DatabaseOpt = None) -> None:
    """Districts (one committee each) with registered households and points."""
    from cybersyn.supply import ledger

    with _store(database).read() as conn:
        _print(ledger.district_summary(conn), as_json, "districts")


@app.command("add-point")
def add_point_cmd(point: str, district: str, name: str,
                  kind: Annotated[str, typer.Option(help="shop or depot")] = "shop",
                  x_km: float = 0.0, y_km: float = 0.0, database: DatabaseOpt = None) -> None:
    """Add a distribution point (shop or depot) to a district."""
    from cybersyn.supply import ledger

    with _store(database).write() as conn:
        ledger.add_point(conn, point, district, name, kind, x_km, y_km)
    console.print(f"[green]added[/] {kind} {point}")


@app.command("register")
def register_cmd(card: str, district: str, point: str,
                 head_name: Annotated[str, typer.Option()],
                 head_id: Annotated[str, typer.Option(help="National id of the head.")],
                 members: Annotated[int, typer.Option()],
                 children: int = 0, pregnant_or_nursing: int = 0, special_needs: int = 0,
                 database: DatabaseOpt = None) -> None:
    """Register a household card; a probable duplicate goes to the review queue."""
    from cybersyn.supply import ledger

    h = ledger.Household(card, district, point, head_name, head_id, members, children,
                         pregnant_or_nursing, special_needs)
    with _store(database).write() as conn:
        status = ledger.register(conn, h, datetime.now(UTC))
    console.print(f"card {card}: {status}")


@app.command("reviews")
def reviews_cmd(as_json: JsonOpt = False, database: DatabaseOpt = None) -> None:
    """The de-duplication review queue."""
    from cybersyn.supply import ledger

    with _store(database).read() as conn:
        _print(ledger.open_reviews(conn), as_json, "open reviews")


@app.command("review")
def review_cmd(review_id: int,
               approve: Annotated[bool, typer.Option("--approve/--reject")],
               database: DatabaseOpt = None) -> None:
    """Approve (a different person) or reject (a duplicate) a held registration."""
    from cybersyn.supply import ledger

    with _store(database).write() as conn:
        ledger.resolve_review(conn, review_id, approve, ACTOR, datetime.now(UTC))
    console.print(f"review {review_id}: {'approved' if approve else 'rejected'}")


@app.command("good")
def good_cmd(code: str, name: str, unit: str, price_cents: int,
             database: DatabaseOpt = None) -> None:
    """Set a good and its official price (cents per unit)."""
    from cybersyn.supply import ledger

    with _store(database).write() as conn:
        ledger.set_good(conn, code, name, unit, price_cents)
    console.print(f"{code}: {price_cents} cents per {unit}")


@app.command("rule")
def rule_cmd(good: str, basis: str, quantity_per_month: int,
             priority: Annotated[int, typer.Option(help="0 is served first.")] = 1,
             database: DatabaseOpt = None) -> None:
    """Set an entitlement rule: QUANTITY_PER_MONTH of GOOD per BASIS (person, child, ...)."""
    from cybersyn.supply import ledger

    with _store(database).write() as conn:
        ledger.set_rule(conn, good, basis, quantity_per_month, priority)
    console.print(f"{good}: {quantity_per_month} per {basis} a month (priority {priority})")


@app.command("issue")
def issue_cmd(period: PeriodOpt, district: str | None = None,
              database: DatabaseOpt = None) -> None:
    """Issue the period's entitlements to every active household."""
    from cybersyn.supply import ledger

    with _store(database).write() as conn:
        n = ledger.issue_entitlements(conn, period, district)
    console.print(f"{n} entitlements issued for {period}")


@app.command("entitlement")
def entitlement_cmd(card: str, period: PeriodOpt, as_json: JsonOpt = False,
                    database: DatabaseOpt = None) -> None:
    """A card's entitlements, hand-outs and what remains."""
    from cybersyn.supply import ledger

    with _store(database).read() as conn:
        rows = ledger.remaining(conn, card, period)
    _print([{"good": g, **v} for g, v in rows.items()], as_json, f"card {card}")


@app.command("allocate")
def allocate_cmd(
    claims: Annotated[Path, typer.Argument(help="CSV: one row per household, one column "
                                           "per good; optional column 'priority'.")],
    supply: Annotated[str, typer.Option(help="Comma-separated supply per good.")],
    rule: Annotated[str, typer.Option(help="proportional, cea or cel")] = "proportional",
    integer: Annotated[bool, typer.Option(help="Whole units.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write awards CSV here.")] = None,
) -> None:
    """Allocate scarce SUPPLY among the households' CLAIMS (priority classes first)."""
    from cybersyn.supply.allocation import allocate

    names, c, prio = _read_claims(claims)
    try:
        e = np.array([float(v) for v in supply.split(",")])
    except ValueError:
        raise InvalidInput(f"--supply: expected numbers separated by commas, got {supply!r}"
                           ) from None
    if e.size != len(names):
        raise InvalidInput(f"--supply: {e.size} values for {len(names)} goods {names}")
    try:
        awards = allocate(c, e, rule, prio, integer)
    except ValueError as err:
        raise InvalidInput(str(err)) from None
    met = awards.sum(0) / np.maximum(c.sum(0), 1e-12)
    for g, m, s in zip(names, met, awards.sum(0), strict=True):
        console.print(f"{g}: {s:g} allocated, {m:.1%} of claims met")
    if out is not None:
        with out.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(names)
            w.writerows(awards.tolist())
        console.print(f"awards written to {out}")


def _read_claims(path: Path) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    if not path.exists():
        raise InvalidInput(f"{path}: file not found")
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise InvalidInput(f"{path}: no rows")
    names = [k for k in rows[0] if k != "priority"]
    try:
        c = np.array([[float(r[k]) for k in names] for r in rows])
        prio = (np.array([int(r["priority"]) for r in rows]) if "priority" in rows[0]
                else None)
    except (ValueError, TypeError) as e:
        raise InvalidInput(f"{path}: not a number ({e})") from None
    return names, c, prio


@app.command("receive")
def receive_cmd(point: str, good: str, quantity: int, key: KeyOpt, at: AtOpt = None,
                database: DatabaseOpt = None) -> None:
    """Record goods received at a point."""
    from cybersyn.supply import ledger

    when = _when(at)
    with _store(database).write() as conn:
        mid = ledger.receive(conn, key, point, good, quantity, when.strftime("%Y-%m"), when,
                             ACTOR)
    console.print(f"movement {mid}: received {quantity} {good} at {point}")


@app.command("hand-out")
def hand_out_cmd(card: str, good: str, quantity: int, point: str, key: KeyOpt,
                 at: AtOpt = None, database: DatabaseOpt = None) -> None:
    """Hand goods to a household card (refused beyond its remaining entitlement)."""
    from cybersyn.supply import ledger

    when = _when(at)
    with _store(database).write() as conn:
        h = ledger.hand_out(conn, key, card, good, quantity, point, when.strftime("%Y-%m"),
                            when, ACTOR)
    note = " (retry: counted once)" if h.replayed else ""
    console.print(f"movement {h.id}: {quantity} {good} to {card}, {h.remaining} left{note}")


@app.command("transfer")
def transfer_cmd(point: str, to_point: str, good: str, quantity: int, key: KeyOpt,
                 at: AtOpt = None, database: DatabaseOpt = None) -> None:
    """Move stock from one point to another."""
    from cybersyn.supply import ledger

    when = _when(at)
    with _store(database).write() as conn:
        mid = ledger.transfer(conn, key, point, to_point, good, quantity,
                              when.strftime("%Y-%m"), when, ACTOR)
    console.print(f"movement {mid}: {quantity} {good} {point} -> {to_point}")


@app.command("loss")
def loss_cmd(point: str, good: str, quantity: int,
             reason: Annotated[str, typer.Option()], key: KeyOpt, at: AtOpt = None,
             database: DatabaseOpt = None) -> None:
    """Declare stock lost, with its reason."""
    from cybersyn.supply import ledger

    when = _when(at)
    with _store(database).write() as conn:
        mid = ledger.declare_loss(conn, key, point, good, quantity, reason,
                                  when.strftime("%Y-%m"), when, ACTOR)
    console.print(f"movement {mid}: {quantity} {good} lost at {point} ({reason})")


@app.command("count")
def count_cmd(point: str, good: str, quantity: int, key: KeyOpt, at: AtOpt = None,
              database: DatabaseOpt = None) -> None:
    """Record the committee's physical count of a point's stock."""
    from cybersyn.supply import ledger

    when = _when(at)
    with _store(database).write() as conn:
        ledger.count_stock(conn, key, point, good, quantity, when.strftime("%Y-%m"), when,
                           ACTOR)
    console.print(f"counted {quantity} {good} at {point}")


@app.command("reconcile")
def reconcile_cmd(period: PeriodOpt, point: str | None = None,
                  record: Annotated[bool, typer.Option(
                      help="Write the outcome to the audit log.")] = False,
                  as_json: JsonOpt = False, database: DatabaseOpt = None) -> None:
    """Reconcile points for a period; exit 1 when any discrepancy is found."""
    from cybersyn.supply.reconcile import reconcile, reconcile_and_record

    store = _store(database)
    if record:
        with store.write() as conn:
            rec = reconcile_and_record(conn, period, ACTOR, datetime.now(UTC), point)
    else:
        with store.read() as conn:
            rec = reconcile(conn, period, point)
    _print(rec.rows, as_json, f"reconciliation {period}")
    for d in rec.discrepancies:
        console.print(f"[red]discrepancy[/] {d}")
    if not rec.balanced:
        raise typer.Exit(1)


@app.command("detect")
def detect_cmd(period: PeriodOpt, as_json: JsonOpt = False,
               database: DatabaseOpt = None) -> None:
    """Run diversion and price-control detection for a period; list the findings."""
    from cybersyn.supply.findings import detect

    with _store(database).write() as conn:
        found = detect(conn, period, ACTOR, datetime.now(UTC))
    _print(found, as_json, "findings")


@app.command("findings")
def findings_cmd(period: Annotated[str | None, typer.Option(help="YYYY-MM")] = None,
                 as_json: JsonOpt = False, database: DatabaseOpt = None) -> None:
    """Stored findings, strongest first."""
    from cybersyn.supply.findings import list_findings

    with _store(database).read() as conn:
        _print(list_findings(conn, period), as_json, "findings")


@app.command("routes")
def routes_cmd(as_json: JsonOpt = False, database: DatabaseOpt = None) -> None:
    """Stored delivery route plans."""
    from cybersyn.supply.plans import list_plans

    with _store(database).read() as conn:
        _print(list_plans(conn), as_json, "route plans")


@app.command("plan-routes")
def plan_routes_cmd(
    trucks: Annotated[int, typer.Option(help="Trucks running.")] = 12,
    time_limit: Annotated[float, typer.Option(help="Seconds of search.")] = 5.0,
    solver: Annotated[str, typer.Option(help="pyvrp or ortools")] = "pyvrp",
    name: Annotated[str, typer.Option()] = "Santiago round",
    database: DatabaseOpt = None,
) -> None:
    """Route the Santiago round of the loaded economy's districts with TRUCKS; store it."""
    from cybersyn.supply import plans, scenario
    from cybersyn.supply.routing import RouteParams, route

    if trucks < 1:
        raise InvalidInput("--trucks must be >= 1")
    store = _store(database)
    eco = store.load_economy()
    if len(eco.districts) < scenario.SANTIAGO:
        raise InvalidInput("the loaded economy has no Santiago districts (use the demo)")
    try:
        params = RouteParams(time_limit, solver)
    except ValueError as e:
        raise InvalidInput(str(e)) from None
    net = scenario.santiago_network(eco.districts, np.random.default_rng(1972))
    res = route(scenario.fleet_problem(net, trucks), params)
    with store.write() as conn:
        pid = plans.save_plan(conn, name, net.ids, net.xy, net.demand_kg, res, trucks,
                              res.distance / 1000.0, datetime.now(UTC))
    console.print(f"plan {pid}: {res.trucks_used} trucks, {len(res.unserved)} of "
                  f"{len(net.ids) - 1} points unserved, {res.distance / 1000:.0f} km")


@app.command("plot")
def plot_cmd(plan_id: int, out: Annotated[Path, typer.Option(help="PNG file.")],
             database: DatabaseOpt = None) -> None:
    """Draw a stored route plan to a PNG."""
    from cybersyn.supply.plans import get_plan, plan_routes
    from cybersyn.supply.plot import save_route_plot

    with _store(database).read() as conn:
        plan = get_plan(conn, plan_id)
    xy, r, _ = plan_routes(plan)
    save_route_plot(xy, r, out, f"{plan['name']}: {plan['trucks_used']} trucks")
    console.print(f"wrote {out}")
