"""The strike demo stage on the demo economy: summary present and consistent, ledger
balanced, audit chain intact, route plans stored."""

from __future__ import annotations

import pytest

from cybersyn.economy import Economy
from cybersyn.loop import DemoContext
from cybersyn.store import Store, audit
from cybersyn.supply import demo_stage
from cybersyn.supply.plans import list_plans
from cybersyn.testing import assert_ledger_balanced


@pytest.mark.slow
def test_strike_demo_stage(demo_store: Store, demo: Economy) -> None:
    ctx = DemoContext(store=demo_store, economy=demo)
    demo_stage.finish(ctx)
    s = ctx.summary["Supply (JAP)"]
    assert s["households rationed"] == sum(d.households for d in demo.districts)
    assert 0 < ctx.state["supply"]["delivered_share"] < 1
    assert s["ledger (district D01 sample)"]["refused beyond entitlement"] == 1
    assert s["ledger (district D01 sample)"]["retries replayed (counted once)"] == 1
    assert any("discrepancy -25" in d for d in s["ledger (district D01 sample)"]
               ["discrepancies"])
    assert 0 <= s["diversion detection (synthetic)"]["recall"] <= 1
    with demo_store.read() as conn:
        assert_ledger_balanced(conn, demo_stage.PERIOD)
        assert audit.verify(conn) == []
        plans = list_plans(conn)
    assert {p["name"] for p in plans} == {"normal fleet", "October strike"}
    strike = next(p for p in plans if p["name"] == "October strike")
    assert strike["trucks_used"] <= strike["trucks_available"] == 12
