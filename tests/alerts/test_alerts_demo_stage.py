"""The demo stage: alerts raised from the day's signals, some acknowledged by a seeded
rule, the rest escalated with the simulated day as the clock."""

from __future__ import annotations

from datetime import timedelta

from cybersyn.alerts import demo_stage
from cybersyn.loop import DEMO_START, DemoContext
from cybersyn.signals import Signal


def run(store, economy, days=12, seed=1972):
    ctx = DemoContext(store, economy, seed=seed)
    plants = [i.id for i in economy.indicators if i.id.endswith(".output")][:40]
    for d in range(days):
        when = DEMO_START + timedelta(days=d)
        ctx.state["signals_today"] = [Signal(i, "step", 0.9, when, when, 0.9)
                                      for k, i in enumerate(plants) if (k + d) % 7 == 0]
        demo_stage.on_day(ctx, when, [])
    demo_stage.finish(ctx)
    return ctx.summary["Algedonic alerts"]


def test_summary_shows_acknowledged_and_escalated(demo_store, demo):
    s = run(demo_store, demo)
    assert s["raised"] > 0 and s["acknowledged"] > 0 and s["resolved"] > 0
    assert s["escalations (to level)"].get("enterprise", 0) > 0
    assert s["audit log intact"] is True
    assert s["raised"] + s["signals aggregated into open alerts"] == sum(
        1 for d in range(12) for k in range(40) if (k + d) % 7 == 0)


def test_deterministic_for_a_seed(tmp_path, demo):
    from cybersyn.store import Store

    out = []
    for k in range(2):
        store = Store(f"sqlite:///{tmp_path}/d{k}.db")
        store.migrate()
        store.save_economy(demo)
        out.append(run(store, demo, days=6))
        store.close()
    assert out[0] == out[1]
