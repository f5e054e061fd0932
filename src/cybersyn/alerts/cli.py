"""`cybersyn alerts ...`: list, escalate (for cron), acknowledge, resolve."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cybersyn.auth import Principal
from cybersyn.cli_common import DatabaseOpt, opened
from cybersyn.errors import InvalidInput

app = typer.Typer(help="Algedonic alerts: list, escalate, acknowledge, resolve.",
                  no_args_is_help=True)
console = Console()
CLI = Principal(kind="admin", id="cli")




def _when(now: str | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(now)
    except ValueError:
        raise InvalidInput(f"--now: expected ISO 8601 such as 1972-10-12T00:00:00Z, "
                           f"got {now!r}") from None
    if t.tzinfo is None:
        raise InvalidInput("--now: add a UTC offset ('Z' or '+00:00')")
    return t.astimezone(UTC)


@app.command("escalate")
def escalate_cmd(
    now: Annotated[str | None, typer.Option(help="The clock (ISO 8601); default now.")] = None,
    config: Annotated[Path | None, typer.Option(
        help="TOML with [response_days] level = days.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Escalate every open alert past its deadline (idempotent: safe to run from cron)."""
    from cybersyn.alerts.escalation import EscalationParams
    from cybersyn.alerts.service import escalate

    params = EscalationParams.from_toml(config) if config else None
    with opened(database) as store:
        moved = escalate(store, _when(now), params)
    for a in moved:
        console.print(f"alert {a['id']} ({a['indicator_id']}): now held by {a['unit_id']} "
                      f"({a['level']}), deadline {a['deadline']}", highlight=False)
    console.print(f"escalated {len(moved)} alert(s)")


@app.command("list")
def list_cmd(
    status: Annotated[str | None, typer.Option(help="open, acknowledged or resolved.")] = None,
    unit: Annotated[str | None, typer.Option(help="Alerts that arose under this unit.")] =
    None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Alerts, most urgent first."""
    from cybersyn.alerts.service import list_alerts

    with opened(database) as store:
        found = list_alerts(store, CLI, status, unit, limit=100_000)
    if as_json:
        typer.echo(json.dumps(found))
        return
    table = Table("id", "status", "holder", "level", "indicator", "kind", "p", "deadline")
    for a in found:
        table.add_row(str(a["id"]), a["status"], a["unit_id"], a["level"], a["indicator_id"],
                      a["kind"], f"{a['probability']:.2f}", a["deadline"] or "")
    console.print(table)


@app.command("acknowledge")
def acknowledge_cmd(alert_id: int, note: Annotated[str, typer.Option(
        help="What is being done.")], now: Annotated[str | None, typer.Option()] = None,
        database: DatabaseOpt = None) -> None:
    """Acknowledge an alert as the administrator (audited as admin:cli)."""
    from cybersyn.alerts.service import acknowledge

    with opened(database) as store:
        a = acknowledge(store, alert_id, CLI, note, _when(now))
    console.print(f"alert {a['id']}: {a['status']}")


@app.command("resolve")
def resolve_cmd(alert_id: int, note: Annotated[str, typer.Option()] = "",
                now: Annotated[str | None, typer.Option()] = None,
                database: DatabaseOpt = None) -> None:
    """Resolve an alert as the administrator (audited as admin:cli)."""
    from cybersyn.alerts.service import resolve

    with opened(database) as store:
        a = resolve(store, alert_id, CLI, note, _when(now))
    console.print(f"alert {a['id']}: {a['status']}")
