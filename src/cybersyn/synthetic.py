"""Daily indicator readings made up from the demo economy, until the simulator feeds the loop.

A pure function of (economy, start, days, seed): each indicator wanders around its level
with measurement noise; the October 1972 truck owners' strike cuts output and stock at
plants whose products travel by road, and raises absenteeism.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np

from cybersyn.economy.model import Economy

STRIKE_START = datetime(1972, 10, 9, tzinfo=UTC)
STRIKE_DAYS = 26
TRANSPORT_DEPENDENT = {"copper", "cement", "flour", "milk", "sugar", "meat", "paper", "fuel",
                       "steel", "coal", "housing"}

Reading = tuple[str, datetime, float]


def base_levels(economy: Economy) -> np.ndarray:
    """Typical daily value of each indicator, shape (n_indicators,)."""
    levels = []
    for ind in economy.indicators:
        kind = ind.id.rsplit(".", 1)[-1]
        levels.append({"output": ind.capability or 100.0, "energy": 40.0, "absenteeism": 6.0,
                       "stock": 20.0, "deliveries": 30.0, "rejects": 2.0}.get(kind, 50.0))
    return np.array(levels)


def strike_factor(economy: Economy, when: datetime) -> np.ndarray:
    """Multiplier on each indicator during the strike, shape (n_indicators,)."""
    day = (when - STRIKE_START).days
    if not 0 <= day < STRIKE_DAYS:
        return np.ones(len(economy.indicators))
    out = np.ones(len(economy.indicators))
    for k, ind in enumerate(economy.indicators):
        kind = ind.id.rsplit(".", 1)[-1]
        product = _plant_product(economy, ind.unit_id)
        hit = product in TRANSPORT_DEPENDENT
        if kind in ("output", "deliveries", "stock") and hit:
            out[k] = 0.55
        elif kind == "absenteeism":
            out[k] = 1.8
    return out


def _plant_product(economy: Economy, unit_id: str) -> str | None:
    for ind in economy.indicators:
        if ind.unit_id == unit_id and ind.product_code:
            return ind.product_code
    return None


def daily_readings(economy: Economy, start: datetime, days: int,
                   seed: int = 0) -> Iterator[tuple[datetime, list[Reading]]]:
    """Yield (day, [(indicator id, time, value)]) for `days` days from `start` (UTC midnight)."""
    rng = np.random.default_rng(seed)
    level = base_levels(economy)
    ids = [i.id for i in economy.indicators]
    drift = np.zeros_like(level)
    for d in range(days):
        when = start + timedelta(days=d)
        drift = 0.9 * drift + rng.normal(0.0, 0.01, level.size)
        noise = rng.normal(0.0, 0.03, level.size)
        values = level * (1.0 + drift + noise) * strike_factor(economy, when)
        yield when, [(i, when, round(float(max(v, 0.0)), 3))
                     for i, v in zip(ids, values, strict=True)]
