"""`cybersyn intake ...`: tokens, CSV files, the MQTT adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cybersyn.auth import Principal
from cybersyn.cli_common import DatabaseOpt, opened
from cybersyn.errors import DataLoadError, InvalidInput
from cybersyn.intake.catalog import catalog
from cybersyn.intake.csvio import FIRST_ROW, parse_csv
from cybersyn.intake.ingest import ingest_batch, validate_batch
from cybersyn.intake.params import DEFAULT_PARAMS, IntakeParams
from cybersyn.store import Store

app = typer.Typer(help="Intake (Cybernet): tokens, CSV files, MQTT.", no_args_is_help=True)
token_app = typer.Typer(help="Per-enterprise credentials.", no_args_is_help=True)
app.add_typer(token_app, name="token")
console = Console()
err = Console(stderr=True)
CLI_PRINCIPAL = Principal(kind="admin", id="cli")
CHUNK = 5000




@token_app.command("issue")
def token_issue(
    subject: Annotated[str, typer.Argument(help="Unit id (enterprise/operator) or a name "
                                                "(planner/admin).")],
    kind: Annotated[str, typer.Option(help="enterprise, operator, planner or admin.")] =
    "enterprise",
    database: DatabaseOpt = None,
) -> None:
    """Issue a token and print it once (only its digest is stored)."""
    from cybersyn.intake.tokens import issue

    with opened(database) as store:
        issued = issue(store, kind, subject)
    err.print(f"issued {issued.token_id} ({kind} {subject}); the token is shown only now:")
    typer.echo(issued.token)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="Token id (tk_...) or a unit id/name: "
                                                 "revokes all its tokens.")],
    database: DatabaseOpt = None,
) -> None:
    """Revoke a token (or every token of a unit)."""
    from cybersyn.intake.tokens import revoke

    with opened(database) as store:
        n = revoke(store, token_id)
    console.print(f"revoked {n} token(s)")


@token_app.command("list")
def token_list(database: DatabaseOpt = None) -> None:
    """Tokens issued (ids, kinds, units; never the secrets)."""
    from cybersyn.intake.tokens import list_tokens

    with opened(database) as store:
        tokens = list_tokens(store)
    for t in tokens:
        state = "revoked" if t["revoked_at"] else "live"
        console.print(f"{t['token_id']}  {t['kind']:<10} {t['principal_id']}  {state}")


@app.command("ingest")
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV with header indicator,time,value.")],
    database: DatabaseOpt = None,
) -> None:
    """Store a CSV file of observations: validated whole first (nothing is written if any
    row is bad), then written in chunks of 5,000 with a progress bar."""
    with opened(database) as store:
        _ingest(store, file)


def _ingest(store: Store, file: Path) -> None:
    rows = _read_csv(file)
    from cybersyn.cli import _progress

    limits = IntakeParams(max_rows=max(len(rows), 1), max_errors=DEFAULT_PARAMS.max_errors)
    _check_file(file, rows, store, limits)
    accepted = duplicates = 0
    with _progress() as bar:
        task = bar.add_task(f"ingest {file.name}", total=len(rows))
        for k in range(0, len(rows), CHUNK):
            res = ingest_batch(store, CLI_PRINCIPAL, rows[k:k + CHUNK], source="csv",
                               first_row=FIRST_ROW + k, params=limits)
            accepted, duplicates = accepted + res.accepted, duplicates + res.duplicates
            bar.update(task, advance=res.received)
    console.print(f"{file}: {len(rows)} rows, {accepted} stored, {duplicates} already stored")


def _read_csv(file: Path) -> list[dict[str, str]]:
    try:
        with file.open(newline="", encoding="utf-8") as f:
            return parse_csv(f, str(file))
    except OSError as e:
        raise DataLoadError(str(file), None, None, e.strerror or str(e)) from None
    except UnicodeDecodeError as e:
        raise DataLoadError(str(file), None, None, f"not UTF-8 text: {e.reason}") from None


def _check_file(file: Path, rows: list[dict[str, str]], store: Store,
                limits: IntakeParams) -> None:
    from datetime import UTC, datetime

    try:
        validate_batch(rows, catalog(store), datetime.now(UTC), limits, FIRST_ROW)
    except InvalidInput as e:
        for error in e.errors[:20]:
            err.print(f"{file} row {error['row']} {error['field']}: {error['reason']}",
                      highlight=False)
        raise InvalidInput(f"{file}: {e.detail}") from None


@app.command("mqtt")
def mqtt(
    broker: Annotated[str, typer.Option(help="mqtt://host:port")] = "mqtt://127.0.0.1:1883",
    prefix: Annotated[str, typer.Option(help="Topic prefix: <prefix>/<enterprise>/"
                                             "<indicator>.")] = "cybersyn",
    client_id: Annotated[str, typer.Option(help="MQTT client id: the broker keeps this "
                                                "session (and what it has not yet "
                                                "delivered) across restarts.")] =
    "cybersyn-intake",
    database: DatabaseOpt = None,
) -> None:
    """Subscribe to <prefix>/<enterprise>/<indicator> (QoS 1) and store each reading
    {"time", "value"}; a message is acknowledged to the broker only after its commit."""
    from cybersyn.intake.mqtt import MqttAdapter

    with opened(database) as store:
        adapter = MqttAdapter(store, broker, prefix=prefix, client_id=client_id)
        err.print(f"listening on {broker} for {prefix}/+/+ (Ctrl-C to stop)")
        try:
            adapter.run_forever()
        except KeyboardInterrupt:
            adapter.stop()
    console.print(f"stored {adapter.stats['stored']}, duplicates {adapter.stats['duplicate']}, "
                  f"rejected {adapter.stats['rejected']}")
