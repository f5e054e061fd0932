"""What each plant's daily indicators read on a simulated day, with measurement noise.

Plant indicators (see `cybersyn.economy.demo`) follow their product's producers:
output = capability × x_p / x*_p; energy = A[electricity, p] × output (MWh, when the
economy has an `electricity` product); absenteeism = share absent; stock = days of cover of
the scarcest input; deliveries = 30 loads/day × shipments / steady shipments; rejects
rise with absenteeism. Noise: a slow AR(1) drift plus white noise, multiplicative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cybersyn.economy.model import Economy
from cybersyn.simulate.core import Flows, State
from cybersyn.simulate.model import SimEconomy
from cybersyn.simulate.params import SimParams

KINDS = ("output", "energy", "absenteeism", "stock", "deliveries", "rejects")


@dataclass(frozen=True)
class IndicatorMap:
    """For m indicators: product index (m,) (-1: none), kind index (m,) into KINDS (-1:
    other), base level (m,) in the indicator's unit, fixed plant factor (m,)."""

    ids: tuple[str, ...]
    product: np.ndarray
    kind: np.ndarray
    base: np.ndarray
    factor: np.ndarray


def indicator_map(economy: Economy, rng: np.random.Generator) -> IndicatorMap:
    """Map each indicator of `economy` to its plant's product and kind."""
    unit_product = {i.unit_id: i.product_code for i in economy.indicators if i.product_code}
    index = economy.io.index
    ids, product, kind, base = [], [], [], []
    for ind in economy.indicators:
        code = ind.product_code or unit_product.get(ind.unit_id)
        k = ind.id.rsplit(".", 1)[-1]
        ids.append(ind.id)
        product.append(index.get(code, -1) if code else -1)
        kind.append(KINDS.index(k) if k in KINDS else -1)
        base.append(ind.capability or {"energy": 40.0, "deliveries": 30.0}.get(k, 50.0))
    m = len(ids)
    return IndicatorMap(tuple(ids), np.array(product, int), np.array(kind, int),
                        np.array(base, float), rng.uniform(0.85, 1.15, m))


def _cover_days(eco: SimEconomy, st: State) -> np.ndarray:
    """Days of planned use covered by the scarcest input stock, per product (n,)."""
    daily = eco.A.data * eco.steady_output[eco.cols]
    cover = np.divide(st.inputs, daily, out=np.full(daily.size, np.inf), where=daily > 0)
    out = np.full(eco.n, np.inf)
    np.minimum.at(out, eco.cols, cover)
    fallback = np.divide(st.finished, eco.steady_output, out=np.zeros(eco.n),
                         where=eco.steady_output > 0)
    return np.where(np.isfinite(out), out, fallback)


def true_values(imap: IndicatorMap, eco: SimEconomy, p: SimParams, energy_row: np.ndarray,
                st: State, f: Flows) -> np.ndarray:
    """Noise-free reading of every indicator on one day, shape (m,).

    energy_row : ndarray of shape (n,), MWh of electricity per unit of each product (0 if
    the economy has no electricity product).
    """
    xs = eco.steady_output
    ship0 = xs + eco.imports
    ratio = np.divide(f.output, xs, out=np.ones(eco.n), where=xs > 0)
    absent = 1.0 - f.labour_present
    per_kind = np.stack([
        ratio, ratio, 100.0 * absent, _cover_days(eco, st),
        np.divide(f.shipped, ship0, out=np.ones(eco.n), where=ship0 > 0),
        2.0 * np.sqrt(absent / max(p.absenteeism, 1e-9))])          # (6, n)
    j = np.maximum(imap.product, 0)
    k = np.maximum(imap.kind, 0)
    v = per_kind[k, j]
    out = np.where(np.isin(imap.kind, (0, 4)), imap.base * v, v * imap.factor)
    energy = imap.kind == 1
    use = energy_row[j] * imap.base * ratio[j]
    out[energy] = np.where(use[energy] > 0, use[energy], 40.0 * ratio[j][energy]) \
        * imap.factor[energy]
    out[imap.kind < 0] = imap.base[imap.kind < 0]
    out[imap.product < 0] = imap.base[imap.product < 0]
    return np.asarray(out)


def energy_row(economy: Economy, eco: SimEconomy) -> np.ndarray:
    """MWh of electricity per unit of each product, shape (n,) (zeros if none)."""
    e = economy.io.index.get("electricity")
    if e is None:
        return np.zeros(eco.n)
    return np.asarray(eco.A[[e], :].toarray()).ravel()


def measured(values: np.ndarray, drift: np.ndarray, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray]:
    """Add measurement noise; returns (readings >= 0, next drift), shapes (m,)."""
    drift = 0.9 * drift + rng.normal(0.0, 0.01, values.size)
    noisy = values * (1.0 + drift + rng.normal(0.0, 0.03, values.size))
    return np.maximum(noisy, 0.0), drift
