"""`cybersyn simulate ...`: run TOML scenarios and write a side-by-side report; list the
bundled ones. (The issue says `cybersyn simulate SCENARIO.toml`; the command is
`cybersyn simulate run SCENARIO.toml`, so that `list` can sit beside it.)"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cybersyn.economy.model import Economy
from cybersyn.errors import InvalidInput
from cybersyn.simulate.report import SUMMARY_LABELS, write_report
from cybersyn.simulate.run import ScenarioRun, run_scenario
from cybersyn.simulate.scenario import bundled_names, load_scenario, read_scenario_text

app = typer.Typer(help="Simulate (CHECO): what happens if … (shocks, policies, scenarios).",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def load_economy_ref(ref: str) -> Economy:
    """`demo` / `chile-1972` or a folder of economy tables (docs/economy-format.md)."""
    from cybersyn.economy import demo_economy, load_economy

    if ref in ("demo", "chile-1972"):
        return demo_economy()
    path = Path(ref)
    if not path.is_dir():
        raise InvalidInput(f"economy {ref!r}: expected 'demo' or a folder of economy tables")
    return load_economy(path)


def _economy_of(ref: str, override: str | None) -> Economy:
    import tomllib

    if override:
        return load_economy_ref(override)
    source, text = read_scenario_text(ref)
    try:
        name = tomllib.loads(text).get("economy", "demo")
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput(f"{source}: not valid TOML: {e}") from e
    return load_economy_ref(str(name))


@app.command("run")
def run_cmd(
    scenarios: Annotated[list[str], typer.Argument(
        help="Scenario TOML files or bundled names (see `list`); several are compared.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the report.")] = Path(
        "simulate-report"),
    economy: Annotated[str | None, typer.Option(
        "--economy", "-e", help="Override the scenario's economy ('demo' or a folder).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print summaries as JSON.")] = False,
) -> None:
    """Run every variant of each scenario; write Parquet, PNG plots and index.html."""
    runs: list[ScenarioRun] = []
    loaded = [(ref, _economy_of(ref, economy)) for ref in scenarios]
    parsed = [(load_scenario(ref, eco), eco) for ref, eco in loaded]
    total = sum(s.days * len(s.variants) for s, _ in parsed)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=as_json) as bar:
        task = bar.add_task("simulating: days", total=total)
        done = 0
        for scenario, eco in parsed:
            runs.append(run_scenario(scenario, eco, partial(_advance, bar, task, done)))
            done += scenario.days * len(scenario.variants)
    page = write_report(runs, out)
    if as_json:
        typer.echo(json.dumps({r.scenario.name: {v.name: v.summary for v in r.variants}
                               for r in runs} | {"report": str(page)}))
        return
    console.print(_table(runs))
    console.print(f"report: [bold]{page}[/]")


def _advance(bar: Progress, task: TaskID, offset: int, done: int) -> None:
    bar.update(task, completed=offset + done)


def _table(runs: list[ScenarioRun]) -> Table:
    table = Table(title="side by side")
    table.add_column("")
    for r in runs:
        for v in r.variants:
            table.add_column(f"{r.scenario.name}: {v.name}" if len(runs) > 1 else v.name,
                             justify="right")
    for key, label in SUMMARY_LABELS.items():
        table.add_row(label, *[str(v.summary.get(key)) for r in runs for v in r.variants])
    return table


@app.command("list")
def list_cmd() -> None:
    """The bundled scenarios."""
    for name in bundled_names():
        import tomllib

        data = tomllib.loads(read_scenario_text(name)[1])
        variants = ", ".join(v["name"] for v in data.get("variants", []))
        console.print(f"[bold]{name}[/]: {data.get('title', '')} [dim](variants: {variants})[/]")
