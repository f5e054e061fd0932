"""The `cybersyn` command end to end, in a subprocess as a user runs it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, db: Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CYBERSYN_DATABASE_URL": f"sqlite:///{db}", "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "cybersyn", *args], env=env, text=True,
                          capture_output=True, check=check, timeout=300)


def test_init_show_and_audit_verify(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    assert run("init", db=db).returncode == 0
    shown = run("economy", "show", "--json", db=db)
    assert shown.returncode == 0 and '"chile-1972"' in shown.stdout
    assert run("audit", "verify", db=db).returncode == 0


def test_audit_verify_fails_after_direct_edit(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    run("init", db=db, check=True)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1")
    out = run("audit", "verify", db=db)
    assert out.returncode == 1
    assert "entry 1" in out.stderr and "Traceback" not in out.stderr


def test_bad_economy_folder_is_one_line_and_loads_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "eco"
    folder.mkdir()
    (folder / "units.csv").write_text("id,name,level,parent\nn,N,nation,\na,A,sector,zz\n")
    (folder / "products.csv").write_text(
        "code,name,unit_of_measure,labour_hours,capacity,final_demand\nx,X,t,1,,1\n")
    (folder / "coefficients.csv").write_text("input,output,amount\n")
    db = tmp_path / "c.db"
    out = run("init", "--economy", str(folder), db=db)
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0
    assert "units.csv row 3 field 'parent'" in out.stderr
    assert run("economy", "show", db=db).returncode == 1  # nothing was loaded


def test_usage_error_exits_2(tmp_path: Path) -> None:
    out = run("demo", "--days", "0", "--no-serve", db=tmp_path / "c.db")
    assert out.returncode == 2 and "Traceback" not in out.stderr


@pytest.mark.slow
def test_headless_demo_runs_and_summarises(tmp_path: Path) -> None:
    out = run("demo", "--days", "20", "--no-serve", db=tmp_path / "c.db")
    assert out.returncode == 0, out.stderr
    assert "chile-1972" in out.stdout and "Observations" in out.stdout
