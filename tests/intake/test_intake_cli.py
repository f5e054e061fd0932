"""`cybersyn intake token issue/revoke`, `cybersyn intake ingest FILE.csv`,
`cybersyn alerts escalate --now`."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cybersyn.auth import token_digest
from cybersyn.cli import app
from cybersyn.intake.tables import intake_tokens
from cybersyn.store.schema import observations

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [*args])


def test_token_issue_revoke(demo_store):
    url = demo_store.url
    r = run("intake", "token", "issue", "CL.copper.e01", "-d", url)
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[-1]
    with demo_store.read() as conn:
        row = conn.execute(sa.select(intake_tokens)).one()
    assert row.digest == token_digest(token) and token not in str(tuple(row))
    assert run("intake", "token", "revoke", row.token_id, "-d", url).exit_code == 0
    r = run("intake", "token", "issue", "CL.nowhere", "-d", url)
    assert r.exit_code == 1 and isinstance(r.exception, Exception)


def test_ingest_csv(demo_store, tmp_path):
    url = demo_store.url
    f = tmp_path / "obs.csv"
    lines = [f"CL.copper.e01.p1.output,1972-10-{d:02d},{d}.5" for d in range(1, 21)]
    f.write_text("indicator,time,value\n" + "\n".join(lines) + "\n")
    r = run("intake", "ingest", str(f), "-d", url)
    assert r.exit_code == 0, r.output
    assert "20 stored" in " ".join(r.stdout.split())
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator,time,value\nCL.copper.e01.p1.stock,1972-10-01,1\nCL.x,1972,z\n")
    r = run("intake", "ingest", str(bad), "-d", url)
    assert r.exit_code == 1
    with demo_store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(observations)
                            ).scalar_one() == 20


def test_alerts_escalate_cli(demo_store):
    r = run("alerts", "escalate", "--now", "1972-10-09T00:00:00Z", "-d", demo_store.url)
    assert r.exit_code == 0 and "escalated 0" in r.stdout


def test_operator_token_for_a_district_is_its_supply_committee(tmp_path: Path) -> None:
    """A district (not a unit of the tree) gets an operator token; the supply package then
    treats its holder as that district's committee."""
    from cybersyn.auth import authenticate
    from cybersyn.economy import demo_economy
    from cybersyn.errors import NotFound
    from cybersyn.intake.tokens import issue
    from cybersyn.store import Store
    from cybersyn.supply.access import districts_of

    store = Store(f"sqlite:///{tmp_path}/d.db")
    store.migrate()
    store.save_economy(demo_economy())
    issued = issue(store, "operator", "D01")
    with store.read() as conn:
        who = authenticate(conn, issued.token)
    assert districts_of(who) == frozenset({"D01"})
    with pytest.raises(NotFound):
        issue(store, "enterprise", "D01")
    store.close()
