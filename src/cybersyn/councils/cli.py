"""`cybersyn councils ...`: councils, members, proposals, votes, rounds, reports.

The CLI acts as the administrator of the database (actor `cli`), except for voting, which
needs the member's own credentials (`--token`, $CYBERSYN_TOKEN, or username + password)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cybersyn.auth import Principal
from cybersyn.cli_common import DatabaseOpt, JsonOpt
from cybersyn.cli_common import opened as _store
from cybersyn.errors import InvalidInput, Unauthorized

app = typer.Typer(help="Councils: members, proposals, votes, participatory planning.",
                  no_args_is_help=True)
members_app = typer.Typer(help="Members of the councils.", no_args_is_help=True)
proposal_app = typer.Typer(help="Proposals put to a council.", no_args_is_help=True)
rounds_app = typer.Typer(help="Participatory iterative planning.", no_args_is_help=True)
app.add_typer(members_app, name="members")
app.add_typer(proposal_app, name="proposal")
app.add_typer(rounds_app, name="rounds")
console = Console()
ADMIN = Principal("admin", "cli", roles=frozenset({"admin"}))

Side = Annotated[str, typer.Option(help="worker or government.")]




def _now() -> datetime:
    return datetime.now(UTC)


def _echo(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


@app.command("setup")
def setup(database: DatabaseOpt = None) -> None:
    """A council (5 workers' + 5 government seats) for the nation, every sector and
    enterprise of the loaded economy that has none yet."""
    from cybersyn.councils.membership import setup_councils

    with _store(database) as store:
        economy = store.load_economy()
        with store.write() as conn:
            made = setup_councils(conn, economy, _now(), "cli")
        console.print(f"created {len(made)} councils")


@app.command("list")
def list_cmd(as_json: JsonOpt = False, database: DatabaseOpt = None) -> None:
    """Every council with its seats filled."""
    from cybersyn.councils.membership import list_councils

    with _store(database) as store, store.read() as conn:
        rows = list_councils(conn)
    if as_json:
        _echo(rows)
        return
    table = Table("council", "level", "workers", "government", "rules")
    for r in rows:
        table.add_row(r["id"], r["level"], f"{r['filled']['worker']}/{r['worker_seats']}",
                      f"{r['filled']['government']}/{r['government_seats']}",
                      json.dumps(r["rules"]))
    console.print(table)


@members_app.command("list")
def members_list(council: str, as_json: JsonOpt = False, database: DatabaseOpt = None) -> None:
    """The members of one council."""
    from cybersyn.councils.membership import council_members, get_council

    with _store(database) as store, store.read() as conn:
        get_council(conn, council)
        rows = council_members(conn, council)
    if as_json:
        _echo(rows)
        return
    for r in rows:
        console.print(f"{r['member_id']:28} {r['side']:10} {'chair ' if r['chair'] else ''}"
                      f"{r['how']:9} {r['name']}", highlight=False)


def _password(set_password: bool) -> str | None:
    if not set_password:
        return None
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@members_app.command("add")
def members_add(
    council: Annotated[str, typer.Option(help="Council (unit) id.")],
    username: Annotated[str, typer.Option(help="Login name (a-z, 0-9, . _ -).")],
    name: Annotated[str, typer.Option(help="Full name.")],
    side: Side = "worker",
    chair: Annotated[bool, typer.Option(help="Chairs the council.")] = False,
    password: Annotated[bool, typer.Option(help="Prompt for a password.")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Appoint a member to a council."""
    from cybersyn.councils.membership import seat_member

    pw = _password(password)
    with _store(database) as store, store.write() as conn:
        mid = seat_member(conn, council, username, name, side, _now(), "cli", chair=chair,
                          password=pw)
    console.print(f"{mid} appointed to {council}")


@members_app.command("elect")
def members_elect(
    council: Annotated[str, typer.Option(help="Council (unit) id.")],
    username: Annotated[str, typer.Option(help="Login name.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    yes: Annotated[int, typer.Option(help="Assembly votes for.")],
    no: Annotated[int, typer.Option(help="Assembly votes against.")],
    electorate: Annotated[int, typer.Option(help="Workers entitled to vote.")],
    abstain: Annotated[int, typer.Option(help="Abstentions.")] = 0,
    side: Side = "worker",
    password: Annotated[bool, typer.Option(help="Prompt for a password.")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Record an assembly's election of a member (elected: yes > no, turnout >= half)."""
    from cybersyn.councils.membership import elect_member

    pw = _password(password)
    with _store(database) as store, store.write() as conn:
        mid = elect_member(conn, council, username, name, side, _now(), "cli", yes=yes,
                           no=no, abstain=abstain, electorate=electorate, password=pw)
    turnout = f"{yes} yes, {no} no, {abstain} abstain of {electorate}"
    if mid is None:
        typer.echo(f"error: {username} was not elected ({turnout}); recorded", err=True)
        raise typer.Exit(1)
    console.print(f"{mid} elected to {council} ({turnout})")


@members_app.command("planner")
def members_planner(
    username: Annotated[str, typer.Option(help="Login name.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    database: DatabaseOpt = None,
) -> None:
    """Add a member of the planning office (prompts for a password)."""
    from cybersyn.councils.membership import add_planner

    pw = _password(True)
    with _store(database) as store, store.write() as conn:
        add_planner(conn, username, name, pw, _now(), "cli")
    console.print(f"planner {username} added")


@members_app.command("password")
def members_password(username: str, database: DatabaseOpt = None) -> None:
    """Set a member's password (prompted, never echoed or logged)."""
    from cybersyn.councils.membership import set_password

    pw = _password(True)
    assert pw is not None
    with _store(database) as store, store.write() as conn:
        set_password(conn, username, pw, "cli")
    console.print(f"password of {username} set")


def _when(value: str | None, default_days: float) -> datetime:
    if value is None:
        return _now() + timedelta(days=default_days)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--closes: expected an ISO 8601 time, got {value!r}") from None
    if when.tzinfo is None:
        raise InvalidInput("--closes: give a time zone (e.g. 2026-05-01T18:00+00:00)")
    return when.astimezone(UTC)


@proposal_app.command("open")
def proposal_open(
    council: Annotated[str, typer.Option(help="Council (unit) id.")],
    kind: Annotated[str, typer.Option(help="plan_targets, plan_version, investment, "
                                      "production_change, equipment_transfer.")],
    title: Annotated[str, typer.Option(help="What is proposed.")],
    body: Annotated[str, typer.Option(help="JSON object with the details.")] = "{}",
    closes: Annotated[str | None, typer.Option(help="Closing time, ISO 8601 (default in "
                                               "7 days).")] = None,
    plan_version: Annotated[str | None, typer.Option(help="Plan version id.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Open a proposal for a council (as the planning office)."""
    from cybersyn.councils.proposals import open_proposal

    try:
        details = json.loads(body)
    except json.JSONDecodeError as e:
        raise InvalidInput(f"--body: not JSON: {e.msg}") from None
    if not isinstance(details, dict):
        raise InvalidInput("--body: expected a JSON object")
    with _store(database) as store, store.write() as conn:
        pid = open_proposal(conn, ADMIN, council_id=council, kind=kind, title=title,
                            body=details, closes_at=_when(closes, 7), now=_now(),
                            plan_version_id=plan_version)
    console.print(f"proposal {pid} opened for {council}")


@proposal_app.command("approve-plan")
def proposal_approve_plan(
    version: Annotated[str, typer.Argument(help="Plan version id.")],
    closes: Annotated[str | None, typer.Option(help="Closing time, ISO 8601.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Put a stored plan version to every council it concerns (each for its part)."""
    from cybersyn.councils import plan_link
    from cybersyn.councils.approval import open_approval

    with _store(database) as store:
        economy = store.load_economy()
        with store.write() as conn:
            v = plan_link.get_version(conn, version)
            if v is None:
                raise InvalidInput("plan versions need the plan package, which is not installed")
            aid = open_approval(conn, ADMIN, economy, outputs=dict(v["gross_outputs"]),
                                closes_at=_when(closes, 7), now=_now(), plan_version_id=version)
        console.print(f"approval {aid} opened for plan {version}")


@proposal_app.command("show")
def proposal_show(proposal: int, database: DatabaseOpt = None) -> None:
    """A proposal with its tally and outcome (JSON)."""
    from cybersyn.councils.proposals import get_proposal

    with _store(database) as store, store.read() as conn:
        _echo(get_proposal(conn, proposal))


def _voter(conn: Any, token: str | None, username: str | None) -> Principal:
    from cybersyn.councils.auth import authenticate, login

    if token is None:
        if username is None:
            raise InvalidInput("give --token (or $CYBERSYN_TOKEN) or --username")
        password = typer.prompt("password", hide_input=True)
        token = login(conn, username, password, _now())
    who = authenticate(conn, token)
    if who is None:
        raise Unauthorized("unknown or expired token")
    return who


@app.command("vote")
def vote(
    proposal: int,
    choice: Annotated[str, typer.Argument(help="yes, no or abstain.")],
    token: Annotated[str | None, typer.Option(envvar="CYBERSYN_TOKEN",
                                              help="Session token.")] = None,
    username: Annotated[str | None, typer.Option(help="Log in as (prompts).")] = None,
    counter: Annotated[str | None, typer.Option(help="Counter-proposal (JSON) with a no.")]
    = None,
    database: DatabaseOpt = None,
) -> None:
    """Vote on a proposal as a member of its council (a vote may be changed until closing)."""
    from cybersyn.councils.proposals import cast_vote

    with _store(database) as store:
        with store.write() as conn:
            who = _voter(conn, token, username)
        try:
            details = None if counter is None else json.loads(counter)
        except json.JSONDecodeError as e:
            raise InvalidInput(f"--counter: not JSON: {e.msg}") from None
        with store.write() as conn:
            cast_vote(conn, who, proposal, choice, _now(), counter=details)
        console.print(f"{who.id} voted {choice} on proposal {proposal}")


@app.command("close")
def close(proposal: int, as_json: JsonOpt = False, database: DatabaseOpt = None) -> None:
    """Close a proposal (after its closing time, or once every member voted)."""
    from cybersyn.councils.proposals import close_proposal

    with _store(database) as store, store.write() as conn:
        out = close_proposal(conn, ADMIN, proposal, _now())
    if as_json:
        _echo(out)
        return
    console.print(f"proposal {proposal}: [bold]{out['result']}[/] ({out['yes']} yes, "
                  f"{out['no']} no, {out['abstain']} abstain; {out['reason']})")


@rounds_app.command("run")
def rounds_run(
    tolerance: Annotated[float, typer.Option(help="Excess demand accepted (share).")] = 0.01,
    max_rounds: Annotated[int, typer.Option(help="Round limit.")] = 60,
    as_json: JsonOpt = False,
    database: DatabaseOpt = None,
) -> None:
    """Run participatory iterative planning on the loaded economy and store every round."""
    from cybersyn.councils.participatory import ParticipatoryParams
    from cybersyn.councils.rounds import run_and_store

    params = ParticipatoryParams(tolerance=tolerance, max_rounds=max_rounds)
    with _store(database) as store:
        economy = store.load_economy()
        with store.write() as conn:
            report = run_and_store(conn, economy, _now(), "cli", params)
        _print_run(report, as_json)


def _print_run(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _echo({k: v for k, v in report.items() if k != "final"})
        return
    for r in report["convergence"]:
        console.print(f"round {r['number']:3}: max excess demand {r['max_excess_pct']:7.3f} %"
                      f", labour {r['labour_hours']:,.0f} h", highlight=False)
    state = "converged" if report["converged"] else "did not converge"
    console.print(f"run {report['id']}: {state} in {report['rounds']} rounds; gap to the "
                  f"central plan {report['gap_pct']:.2f} % of gross output, labour "
                  f"{report['labour_gap_pct']:+.2f} %", highlight=False)


@app.command("report")
def report(
    proposal: Annotated[int | None, typer.Option(help="Check one proposal's record.")] = None,
    run: Annotated[int | None, typer.Option(help="A planning run (default the latest).")]
    = None,
    as_json: JsonOpt = False,
    database: DatabaseOpt = None,
) -> None:
    """The latest planning run, or (--proposal) a decision recomputed from the audit log."""
    from cybersyn.councils.proposals import get_proposal
    from cybersyn.councils.replay import check_proposal, replay_outcome
    from cybersyn.councils.rounds import run_report
    from cybersyn.store import audit

    with _store(database) as store, store.read() as conn:
        if proposal is None:
            _print_run(run_report(conn, run), as_json)
            return
        p = get_proposal(conn, proposal)
        problems = check_proposal(conn, proposal)
        again = replay_outcome(audit.entries(conn, subject=f"proposal/{proposal}"), proposal)
    data = {"proposal": p, "replayed_outcome": again.to_dict(), "problems": problems}
    if as_json:
        _echo(data)
    else:
        console.print(f"proposal {proposal} ({p['status']}): recorded "
                      f"{(p['outcome'] or {}).get('result', 'open')}, from the audit log "
                      f"{again.result} ({again.yes}/{again.no}/{again.abstain})")
        for line in problems:
            console.print(f"[red]problem[/]: {line}", highlight=False)
    if problems:
        raise typer.Exit(1)
