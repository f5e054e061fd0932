"""Diversion and price-control detection (pure core).

Each distribution point is compared with its peers (the other points of its district, or
all points when a district has fewer than `min_peers`) on three features per period:

- take_up: units handed out / units its registered households are entitled to. Hand-outs
  recorded to cards that did not collect (ghost hand-outs) push it up.
- closing_share: share of hand-outs in the last `closing_window_min` minutes before the
  point closes (a burst of entries at closing time is the classic sign of paper hand-outs).
- loss_share: units declared lost / units received (unexplained shrinkage).

Score = modified z-score 0.6745 (x - median) / MAD over the peers (Iglewicz & Hoaglin,
*How to Detect and Handle Outliers*, 1993); only high values are anomalous; a point is
flagged on a feature when its score exceeds `threshold` (3.5, their recommendation).
Citizen reports of sales above the official price become findings on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FEATURES = ("take_up", "closing_share", "loss_share")


@dataclass(frozen=True)
class DetectParams:
    threshold: float = 3.5
    min_peers: int = 8
    min_mad: tuple[float, float, float] = (0.01, 0.005, 0.002)
    price_tolerance_pct: float = 0.0
    min_reports: int = 1

    def __post_init__(self) -> None:
        if not self.threshold > 0:
            raise ValueError("Expected threshold > 0.")
        if self.min_peers < 2:
            raise ValueError("Expected min_peers >= 2.")
        if len(self.min_mad) != len(FEATURES) or min(self.min_mad) <= 0:
            raise ValueError("Expected one min_mad > 0 per feature.")
        if self.price_tolerance_pct < 0 or self.min_reports < 1:
            raise ValueError("Expected price_tolerance_pct >= 0 and min_reports >= 1.")


def robust_scores(x: np.ndarray, groups: np.ndarray, params: DetectParams) -> np.ndarray:
    """Modified z-scores, shape (n_points, n_features), against each point's peer group.

    x : ndarray (n_points, n_features); groups : ndarray (n_points,) of peer-group labels.
    """
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    floor = np.asarray(params.min_mad)[: x.shape[1]]
    med_all, mad_all = _med_mad(x, floor)
    labels, inverse = np.unique(np.asarray(groups), return_inverse=True)
    for k in range(labels.size):
        rows = inverse == k
        if rows.sum() >= params.min_peers:
            med, mad = _med_mad(x[rows], floor)
        else:
            med, mad = med_all, mad_all
        out[rows] = 0.6745 * (x[rows] - med) / mad
    return out


def _med_mad(x: np.ndarray, floor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    med = np.median(x, axis=0)
    mad = np.median(np.abs(x - med), axis=0)
    return med, np.maximum(mad, floor)


def flag_points(x: np.ndarray, groups: np.ndarray, params: DetectParams | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(scores (n, f), flags (n, f) bool): one-sided, score > threshold."""
    params = params or DetectParams()
    z = robust_scores(x, groups, params)
    return z, z > params.threshold


def point_findings(ids: list[str], x: np.ndarray, groups: np.ndarray,
                   params: DetectParams | None = None) -> list[dict[str, Any]]:
    """One finding per flagged (point, feature), with its evidence (value, peer median)."""
    params = params or DetectParams()
    z, flags = flag_points(x, groups, params)
    out = []
    for i, f in zip(*np.nonzero(flags), strict=True):
        peers = np.asarray(groups) == np.asarray(groups)[i]
        med = float(np.median(np.asarray(x)[peers, f]))
        out.append({"point": ids[i], "kind": FEATURES[f], "score": round(float(z[i, f]), 2),
                    "evidence": {"value": round(float(x[i, f]), 4),
                                 "peer_median": round(med, 4), "peers": int(peers.sum()),
                                 "group": str(np.asarray(groups)[i])}})
    return sorted(out, key=lambda d: -d["score"])


def price_findings(reports: list[tuple[str, str, int]], official: dict[str, int],
                   params: DetectParams | None = None) -> list[dict[str, Any]]:
    """reports: (point, good, price_cents paid); official: good -> price_cents. A finding
    per (point, good) with at least `min_reports` reports above the official price."""
    params = params or DetectParams()
    over: dict[tuple[str, str], list[int]] = {}
    for point, good, price in reports:
        limit = official.get(good)
        if limit is not None and price > limit * (1 + params.price_tolerance_pct / 100):
            over.setdefault((point, good), []).append(int(price))
    return [{"point": p, "kind": "price_above_official",
             "score": round(max(v) / official[g], 3),
             "evidence": {"good": g, "reports": len(v), "max_price_cents": max(v),
                          "official_price_cents": official[g]}}
            for (p, g), v in sorted(over.items()) if len(v) >= params.min_reports]


def precision_recall(flagged: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """flagged, truth : bool ndarrays (n_points,)."""
    tp = int(np.sum(flagged & truth))
    fp = int(np.sum(flagged & ~truth))
    fn = int(np.sum(~flagged & truth))
    return {"precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0, "tp": tp, "fp": fp, "fn": fn}


@dataclass(frozen=True)
class SyntheticPoints:
    ids: list[str]
    groups: np.ndarray
    households: np.ndarray
    features: np.ndarray
    diverted: np.ndarray
    pattern: np.ndarray


def synthetic_points(district_ids: list[str], district_households: np.ndarray,
                     rng: np.random.Generator, households_per_point: int = 2500,
                     diversion_rate: float = 0.05) -> SyntheticPoints:
    """Points of a month for the given districts, with diversion injected into a random
    `diversion_rate` of them, one pattern each (0 ghost hand-outs, 1 closing-time burst,
    2 unexplained losses). Counts are binomial draws from the households' entitlements,
    so small points are noisier, as in the field."""
    groups, hh = [], []
    for d, h in zip(district_ids, district_households, strict=True):
        k = max(1, round(int(h) / households_per_point))
        sizes = rng.multinomial(int(h), np.full(k, 1 / k))
        groups += [d] * k
        hh += list(sizes)
    n, households = len(groups), np.maximum(np.asarray(hh), 50)
    units = households * 12  # entitled units per household per month, order of magnitude
    take = rng.binomial(units, np.clip(rng.normal(0.82, 0.03, n), 0.5, 0.97)) / units
    handouts = np.maximum(rng.binomial(units, take), 1)
    closing = rng.binomial(handouts, rng.beta(6, 90, n)) / handouts
    received = units
    loss = rng.binomial(received, rng.gamma(4, 0.0025, n)) / received
    diverted = rng.random(n) < diversion_rate
    pattern = np.where(diverted, rng.integers(0, 3, n), -1)
    take = np.where(pattern == 0, np.minimum(take + rng.uniform(0.08, 0.15, n), 1.0), take)
    closing = np.where(pattern == 1, closing + rng.uniform(0.08, 0.2, n), closing)
    loss = np.where(pattern == 2, loss + rng.uniform(0.025, 0.06, n), loss)
    ids = [f"{g}-S{k:03d}" for k, g in enumerate(groups)]
    return SyntheticPoints(ids, np.asarray(groups), households,
                           np.column_stack([take, closing, loss]), diverted, pattern)
