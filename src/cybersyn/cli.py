"""The `cybersyn` command (typer + rich). Domain errors become one line on stderr:
exit 2 for usage, 1 for a failed operation; never a traceback for a user's mistake."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree

from cybersyn import plugins
from cybersyn.cli_common import DatabaseOpt, open_store
from cybersyn.errors import CybersynError
from cybersyn.settings import Settings
from cybersyn.store import Store, audit

app = typer.Typer(help="cybersyn: democratic economic planning and workers' control.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
economy_app = typer.Typer(help="Look at the loaded economy.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(economy_app, name="economy")
app.add_typer(audit_app, name="audit")
console = Console()
err = Console(stderr=True)



def settings(database: str | None = None, **overrides: Any) -> Settings:
    return Settings.from_env().with_overrides(database_url=database, **overrides)


def load_any_economy(source: str, data_dir: Path) -> Any:
    """`demo` (chile-1972), `bea` (BEA 2012 detail from the data folder) or a folder path."""
    from cybersyn.economy import demo_economy, load_bea_detail, load_economy

    if source in ("demo", "chile-1972"):
        return demo_economy()
    if source == "bea":
        return load_bea_detail(data_dir / "io" / "bea2012")
    return load_economy(Path(source))


@app.command()
def init(
    economy: Annotated[str, typer.Option(
        "--economy", "-e", help="'demo' (chile-1972), 'bea' or a folder of CSV/Parquet "
        "tables (docs/economy-format.md).")] = "demo",
    replace: Annotated[bool, typer.Option(help="Replace an economy already loaded.")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Create or migrate the database and load an economy into it."""
    cfg = settings(database)
    loaded = load_any_economy(economy, cfg.data_dir)
    store = open_store(database, migrate=True)
    store.save_economy(loaded, replace=replace)
    with store.write() as conn:
        audit.append(conn, "cli", "economy.load", loaded.name, loaded.summary())
    console.print(f"[green]loaded[/] {loaded.name} into {store.url}")
    _print_summary(loaded.summary())


@economy_app.command("show")
def economy_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    depth: Annotated[int, typer.Option(help="Levels of the unit tree to draw.")] = 2,
    database: DatabaseOpt = None,
) -> None:
    """Summary of the loaded economy and the top of its unit tree."""
    eco = open_store(database).load_economy()
    if as_json:
        typer.echo(json.dumps(eco.summary()))
        return
    _print_summary(eco.summary())
    console.print(_tree(eco, depth))


def _tree(eco: Any, depth: int) -> Tree:
    root = Tree(f"[bold]{eco.units[eco.units.root].name}[/] ({eco.units.root})")
    def grow(node: Tree, uid: str, d: int) -> None:
        if d >= depth:
            return
        for child in eco.units.children(uid):
            grow(node.add(f"{child.name} [dim]{child.level} {child.id}[/]"), child.id, d + 1)
    grow(root, eco.units.root, 0)
    return root


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None)
    for k, v in summary.items():
        table.add_row(f"[bold]{k}[/]", json.dumps(v, ensure_ascii=False) if isinstance(v, dict)
                      else str(v))
    console.print(table)


@audit_app.command("verify")
def audit_verify(database: DatabaseOpt = None) -> None:
    """Recompute the hash chain; exit 1 naming every altered or deleted entry."""
    store = open_store(database)
    with store.read() as conn:
        problems = audit.verify(conn)
        count = len(audit.entries(conn))
    if problems:
        for p in problems:
            err.print(f"audit: {p}", highlight=False)
        raise typer.Exit(1)
    console.print(f"[green]audit log intact[/]: {count} entries")


@app.command()
def demo(
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days to run.")] = 120,
    serve: Annotated[bool, typer.Option(help="Serve the Opsroom afterwards.")] = True,
    port: Annotated[int | None, typer.Option(help="Port for the Opsroom.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """The main job: load chile-1972, run the loop over its days, summarise, serve."""
    from cybersyn.economy import demo_economy
    from cybersyn.loop import DemoContext, run_demo

    store = open_store(database, migrate=True)
    eco = demo_economy()
    store.save_economy(eco, replace=True)
    ctx = DemoContext(store, eco, days=days)
    with _progress() as bar:
        task = bar.add_task("cybersyn demo: days", total=days)
        run_demo(ctx, lambda k: bar.update(task, completed=k))
    console.rule(f"[bold]{eco.name}[/]: {days} days from {ctx.start.date()}")
    _print_summary(eco.summary())
    for title, body in ctx.summary.items():
        console.rule(title)
        _print_summary(body) if isinstance(body, dict) else console.print(body)
    if serve:
        _demo_login(store)
        _serve(store, port, data_clock=True)


def _demo_login(store: Store) -> None:
    """Give the demo's planning-office account a fresh password and show it once."""
    import importlib.util
    import secrets

    if importlib.util.find_spec("cybersyn.councils.membership") is None:
        return
    from cybersyn.councils.membership import set_password

    password = secrets.token_urlsafe(9)
    with store.write() as conn:
        set_password(conn, "odeplan", password, "demo")
    console.print(f"Log in to the Opsroom as [bold]odeplan[/] with password [bold]{password}"
                  "[/] (the planning office: sees every unit, alert and council).")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)


@app.command("serve")
def serve_cmd(port: Annotated[int | None, typer.Option(help="Port.")] = None,
              data_clock: Annotated[bool, typer.Option(
                  help="Escalate by the newest observation's time instead of the wall clock "
                  "(for replayed or simulated data).")] = False,
              database: DatabaseOpt = None) -> None:
    """Serve the Opsroom and the JSON API (OpenAPI at /docs); observations that arrive are
    filtered, turned into alerts and escalated in the background."""
    _serve(open_store(database), port, data_clock=data_clock)


def _serve(store: Store, port: int | None, *, data_clock: bool = False) -> None:
    """Serve the app with the live loop ticking; the demo's clock is its data's clock."""
    import uvicorn

    from cybersyn import live
    from cybersyn.web.app import create_app

    cfg = settings(None, port=port)
    clock = live.data_clock(store) if data_clock else live.wall_clock
    app_ = create_app(store, live=live.LiveLoop(store, clock))
    console.print(f"Opsroom at [bold]http://{cfg.host}:{cfg.port}[/] (Ctrl-C to stop)")
    uvicorn.run(app_, host=cfg.host, port=cfg.port, log_level="warning")


for _pkg, _mod in plugins.find("cli"):
    app.add_typer(_mod.app, name=_pkg)
    if _pkg == "intake" and hasattr(_mod, "ingest"):
        app.command("ingest", help="Store a CSV file of observations (= intake ingest).")(
            _mod.ingest)


def main() -> None:
    try:
        app(standalone_mode=True)
    except CybersynError as e:
        err.print(f"error: {e.detail}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except ValueError as e:
        err.print(f"error: {e}", highlight=False, soft_wrap=True)
        sys.exit(2)
