"""`cybersyn plan ...`: solve, explain, labour values, diff, list, export, propose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cybersyn.cli_common import DatabaseOpt, JsonOpt
from cybersyn.cli_common import opened as open_store
from cybersyn.errors import InvalidInput

app = typer.Typer(help="The plan (ODEPLAN): IO analysis, labour values, optimal plans.",
                  no_args_is_help=True)
console = Console()
ACTOR = "cli"




def solve_plan(economy: Any, *, targets: Path | None, objective: str, periods: int,
               labour: float | None) -> Any:
    """Solve on `economy` with the CLI's choices; shared with the API."""
    from cybersyn.plan.harmony import harmony_plan
    from cybersyn.plan.kantorovich import kantorovich_plan
    from cybersyn.plan.multiperiod import MultiPeriodParams, multi_period_plan
    from cybersyn.plan.shell import problem_from_economy, read_targets

    if objective not in ("kantorovich", "harmony"):
        raise InvalidInput(f"objective must be 'kantorovich' or 'harmony', got {objective!r}")
    if labour is not None and not labour > 0:
        raise InvalidInput("labour must be a positive number of hours")
    t = read_targets(targets, economy) if targets else None
    problem = problem_from_economy(economy, t, labour_available=labour)
    if periods > 1:
        if objective != "kantorovich":
            raise InvalidInput("multi-period plans use the kantorovich objective")
        return multi_period_plan(problem, MultiPeriodParams(periods=periods))
    return kantorovich_plan(problem) if objective == "kantorovich" else harmony_plan(problem)


@app.command("solve")
def solve(
    targets: Annotated[Path | None, typer.Option(
        help="CSV with columns product,target (default: final demand +12%).")] = None,
    objective: Annotated[str, typer.Option(help="kantorovich or harmony.")] = "kantorovich",
    periods: Annotated[int, typer.Option(min=1, max=50, help="Years (1 = one period).")] = 1,
    labour: Annotated[float | None, typer.Option(
        help="Labour available, hours per year (default 1.10 × base need).")] = None,
    label: Annotated[str, typer.Option(help="Label of the stored version.")] = "",
    as_json: JsonOpt = False,
    database: DatabaseOpt = None,
) -> None:
    """Solve a plan on the loaded economy and store it as a draft version."""
    from cybersyn.plan.versions import save_version

    with open_store(database) as store:
        result = solve_plan(store.load_economy(), targets=targets, objective=objective,
                            periods=periods, labour=labour)
        with store.write() as conn:
            vid = save_version(conn, result, actor=ACTOR,
                               label=label or f"{objective} plan, {periods} period(s)")
    out = {"version": vid, "objective": result.objective, "lambda": result.lam,
           "value": result.value, "method": result.method}
    if as_json:
        typer.echo(json.dumps(out))
        return
    for k, v in out.items():
        console.print(f"[bold]{k}[/]: {v}")


@app.command("explain")
def explain_cmd(version: Annotated[str, typer.Argument(help="Version id.")],
                as_json: JsonOpt = False, database: DatabaseOpt = None) -> None:
    """Why targets are not met: binding limits and shadow prices, in words."""
    from cybersyn.plan.versions import get_version

    with open_store(database) as store, store.read() as conn:
        v = get_version(conn, version)
    ex = v["explanation"]
    if as_json:
        typer.echo(json.dumps(ex))
        return
    console.print(f"[bold]{v['label']}[/] ({v['status']}, {v['objective']}): "
                  f"λ = {v['lam']:.4f}")
    for line in ex.get("binding", ex.get("binding_by_period", [])):
        console.print(f"  binds: {line}")
    for u in ex.get("unmet", [])[:20]:
        console.print(f"  [yellow]{u['product']}[/]: {u['share_met']:.1%} of "
                      f"{u['target']:,.6g}; {u['reasons'][0]}")


@app.command("labour-values")
def labour_values_cmd(
    as_json: JsonOpt = False,
    top: Annotated[int, typer.Option(min=1, help="Rows to print.")] = 20,
    database: DatabaseOpt = None,
) -> None:
    """Hours of labour embodied in one unit of each product, v = l + Aᵀv."""
    from cybersyn.plan.leontief import labour_values

    with open_store(database) as store:
        io = store.load_economy().io
    v = labour_values(io.A, io.labour)
    values = dict(zip(io.product_codes, map(float, v), strict=True))
    if as_json:
        typer.echo(json.dumps(values))
        return
    table = Table("product", "hours per unit", "direct hours")
    for i in sorted(range(io.n), key=lambda i: -v[i])[:top]:
        table.add_row(io.product_codes[i], f"{v[i]:,.3f}", f"{io.labour[i]:,.3f}")
    console.print(table)


@app.command("diff")
def diff_cmd(v1: str, v2: str, as_json: JsonOpt = False, database: DatabaseOpt = None) -> None:
    """Differences between two plan versions."""
    from cybersyn.plan.explain import diff
    from cybersyn.plan.versions import get_version

    with open_store(database) as store, store.read() as conn:
        d = diff(get_version(conn, v1), get_version(conn, v2))
    if as_json:
        typer.echo(json.dumps(d))
        return
    console.print(f"λ {d['lambda'][0]:.4f} -> {d['lambda'][1]:.4f}; "
                  f"{len(d['changed_products'])} products changed")
    table = Table("product", "target", "net output", "gross output")
    for row in d["changed_products"][:40]:
        table.add_row(row["product"], *(_pair(row[k]) for k in
                                        ("target", "net_output", "gross_output")))
    console.print(table)


def _pair(p: list[float | None]) -> str:
    return " -> ".join("-" if v is None else f"{v:,.6g}" for v in p)


@app.command("list")
def list_cmd(as_json: JsonOpt = False, database: DatabaseOpt = None) -> None:
    """Plan versions, newest first."""
    from cybersyn.plan.versions import list_versions

    with open_store(database) as store, store.read() as conn:
        rows = list_versions(conn)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table("id", "label", "objective", "status", "λ", "created")
    for r in rows:
        table.add_row(r["id"], r["label"], r["objective"], r["status"], f"{r['lam']:.4f}",
                      r["created_at"][:19])
    console.print(table)


@app.command("export")
def export_cmd(version: str, path: Annotated[Path, typer.Argument(help=".csv or .parquet")],
               database: DatabaseOpt = None) -> None:
    """Write a version's per-product lines to CSV or Parquet."""
    from cybersyn.plan.versions import export_version

    with open_store(database) as store, store.read() as conn:
        export_version(conn, version, path)
    console.print(f"wrote {path}")


@app.command("propose")
def propose_cmd(version: str, note: str = "", database: DatabaseOpt = None) -> None:
    """Mark a draft version as proposed to the councils."""
    from cybersyn.plan.versions import set_version_status

    with open_store(database) as store, store.write() as conn:
        set_version_status(conn, version, "proposed", ACTOR, note)
    console.print(f"{version} proposed")
