"""The plan core on the real BEA 2012 and WIOD 2011 tables (marker `data`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from cybersyn.plan import PlanProblem, kantorovich_plan, labour_values, leontief_output
from cybersyn.testing import assert_plan_feasible

DATA = Path(os.environ.get("CYBERSYN_DATA", Path(__file__).parents[2] / ".." / "shared" /
                           "data")) / "io"
pytestmark = pytest.mark.data


BEA, WIOD = DATA / "bea2012", DATA / "wiod2013" / "wiot_2011.RData"


def _needs(path: Path) -> pytest.MarkDecorator:
    """Run where the shared data is (CI has it beside the clone); say where it was looked for."""
    return pytest.mark.skipif(not path.exists(),
                              reason=f"real data not at {path} (set CYBERSYN_DATA)")


def _check(io: object) -> None:
    v = labour_values(io.A, io.labour)  # type: ignore[attr-defined]
    np.testing.assert_allclose(v, io.labour + io.A.T @ v, rtol=1e-9, atol=1e-12)  # type: ignore[attr-defined]
    need = float(io.labour @ leontief_output(io.A, io.final_demand))  # type: ignore[attr-defined]
    p = PlanProblem(io.A, io.labour, io.final_demand * 1.05, labour_available=need)  # type: ignore[attr-defined]
    r = kantorovich_plan(p)
    assert r.lam == pytest.approx(1 / 1.05, rel=1e-9)  # labour is the only limit
    assert_plan_feasible(r)


@_needs(BEA)
def test_bea_sector_table() -> None:
    from cybersyn.plan.tables_io import load_bea_sector

    io = load_bea_sector(BEA)
    assert io.n == 17 and "31G" in io.index
    _check(io)


@_needs(BEA)
def test_bea_detail_closed_form_equals_highs() -> None:
    from cybersyn.economy import load_bea_detail

    io = load_bea_detail(BEA).io
    _check(io)
    cap = leontief_output(io.A, io.final_demand) * 1.02
    p = PlanProblem(io.A, io.labour, io.final_demand * 1.05, capacity=cap)
    assert kantorovich_plan(p).lam == pytest.approx(
        kantorovich_plan(p, method="lp").lam, rel=1e-6)


@_needs(WIOD)
def test_wiod_2011_world_table() -> None:
    from cybersyn.plan.tables_io import load_wiod

    io = load_wiod(WIOD)
    assert io.n == 1435 and io.product_codes[0] == "AUS.c1"
    _check(io)
