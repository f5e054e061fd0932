"""`cybersyn supply ...` end to end on a SQLite file: registry, hand-outs (a retry counts
once), a refusal is one line on stderr and exit 1, reconciliation exits 1 on discrepancy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cybersyn.cli import app
from cybersyn.errors import InvalidInput

runner = CliRunner()


def run(db: str, *args: str) -> object:
    return runner.invoke(app, list(args), env={"CYBERSYN_DATABASE_URL": db})


@pytest.mark.slow
def test_cli_ledger_flow(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/c.db"
    assert run(db, "init").exit_code == 0  # type: ignore[attr-defined]
    for args in (["add-point", "P1", "D01", "Almacén"], ["good", "milk", "Milk", "litre", "180"],
                 ["rule", "milk", "child", "15", "--priority", "0"],
                 ["register", "C1", "D01", "P1", "--head-name", "Ana", "--head-id", "1-9",
                  "--members", "3", "--children", "2"],
                 ["issue", "--period", "1972-10"],
                 ["receive", "P1", "milk", "100", "--key", "r1", "--at", "1972-10-02T10:00Z"]):
        r = run(db, "supply", *args)
        assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    hand = ["supply", "hand-out", "C1", "milk", "20", "P1", "--key", "h1", "--at",
            "1972-10-03T10:00Z"]
    first, again = run(db, *hand), run(db, *hand)
    assert "10 left" in first.output and "counted once" in again.output  # type: ignore
    refused = run(db, *hand[:4], "11", "P1", "--key", "h2", "--at", "1972-10-03T11:00Z")
    assert isinstance(refused.exception, InvalidInput)  # type: ignore[attr-defined]
    assert "refused: card C1 has 10 milk left" in str(refused.exception)  # type: ignore
    assert run(db, "supply", "reconcile", "--period", "1972-10").exit_code == 0  # type: ignore
    run(db, "supply", "count", "P1", "milk", "79", "--key", "c1", "--at", "1972-10-30T10:00Z")
    rec = run(db, "supply", "reconcile", "--period", "1972-10", "--record")
    assert rec.exit_code == 1 and "discrepancy -1" in rec.output  # type: ignore[attr-defined]
    # the installed command turns the refusal into one line on stderr and exit 1
    env = {**os.environ, "CYBERSYN_DATABASE_URL": db}
    cmd = [sys.executable, "-c", "from cybersyn.cli import main; main()", *hand[:4], "11",
           "P1", "--key", "h3", "--at", "1972-10-03T10:00Z"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 1
    assert p.stderr.strip() == "error: refused: card C1 has 10 milk left in 1972-10, asked " \
                               "for 11"
