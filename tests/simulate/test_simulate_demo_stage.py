"""The simulator feeds the demo loop: every indicator every day, the strike visible."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from cybersyn.economy import Economy
from cybersyn.loop import DemoContext
from cybersyn.simulate import demo_stage


def _values(demo: Economy, seed: int = 1972) -> tuple[list[datetime], np.ndarray]:
    ctx = DemoContext(store=None, economy=demo, seed=seed)  # type: ignore[arg-type]
    days = list(demo_stage.readings(ctx))
    ids = [i.id for i in demo.indicators]
    assert len(days) == 120
    for when, rows in days:
        assert [r[0] for r in rows] == ids and all(r[1] == when for r in rows)
    return [d for d, _ in days], np.array([[r[2] for r in rows] for _, rows in days])


def test_readings_cover_every_indicator_and_show_the_strike(demo: Economy) -> None:
    dates, v = _values(demo)
    assert dates[0] == datetime(1972, 8, 1, tzinfo=UTC)
    assert np.all(np.isfinite(v)) and np.all(v >= 0)
    strike = dates.index(datetime(1972, 10, 9, tzinfo=UTC))
    cement = [k for k, i in enumerate(demo.indicators)
              if i.product_code == "cement" and i.id.endswith(".output")]
    absent = [k for k, i in enumerate(demo.indicators) if i.id.endswith(".absenteeism")]
    before = v[strike - 20:strike, cement].mean()
    during = v[strike + 10:strike + 26, cement].mean()
    after = v[-7:, cement].mean()
    assert during < 0.9 * before and after > 0.95 * before
    assert v[strike + 5, absent].mean() > 1.5 * v[strike - 5, absent].mean()


def test_same_seed_same_readings(demo: Economy) -> None:
    _, a = _values(demo, 5)
    _, b = _values(demo, 5)
    _, c = _values(demo, 6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_finish_summary(demo: Economy) -> None:
    ctx = DemoContext(store=None, economy=demo)  # type: ignore[arg-type]
    demo_stage.finish(ctx)
    body = ctx.summary[demo_stage.TITLE]
    lost = body["output lost % of run"]
    assert lost["no response"] > lost["full response"] > 0
