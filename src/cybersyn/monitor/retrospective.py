"""Retrospective (offline) change points of one whole series.

`change_points` is the Bayesian segmentation (`cybersyn.monitor.segment`: a
product-partition model with conjugate per-segment level/trend likelihoods; the rows whose
posterior probability of a change is >= 0.5 by default), which scores above the filter
method below on TCPD (docs/monitor.md). `filter_change_points` is the
earlier method, kept: the filter run forwards and backwards.

When the whole series is known (an offline benchmark such as TCPD, or a report on last
year's data) a change between observations t-1 and t shows as a disagreement between what
the past predicts for t and what the future predicts for t-1: the forward filter's
one-step forecast of y_t (data before t) against the backward filter's one-step forecast of
y_{t-1} (data after t-1, the series reversed). Neither forecast uses y_{t-1} or y_t, so a
one-off outlier moves neither (the transient regime absorbs it) while a step moves both
apart. The statistic, for t = 1..T-1:

    D_t = (f_fwd[t] - f_bwd[t-1]) / sqrt(var_fwd[t] + var_bwd[t-1]),
    score_t = -log10(2 Phi(-|D_t|))   (0 for the first and last `edge` rows),

and the change points are the local maxima of the score >= `threshold`, taken greedily
from the largest, none closer than `min_segment` rows to one already taken. A slope change
(a kink: both sides' lines meet) is deliberately not a large D; the online detector's slope
alarm covers slopes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from cybersyn.monitor import segment
from cybersyn.monitor.filter import MultiProcessFilter
from cybersyn.monitor.params import FilterParams
from cybersyn.monitor.segment import SegmentParams


@dataclass(frozen=True)
class RetroParams:
    """threshold: least score (-log10 two-sided tail probability of D_t); min_segment:
    least distance in rows between two change points; edge: rows at each end that cannot
    be a change point (a filter's first forecasts are guesses). threshold 1.5 and
    min_segment 10 were chosen on the whole TCPD corpus (31 series, never per series) from
    thresholds {1, 1.5, 2, 3, 4, 5} x min segments {5, 10}; docs/monitor.md has the grid."""

    threshold: float = 1.5
    min_segment: int = 10
    edge: int = 3

    def __post_init__(self) -> None:
        if not (math.isfinite(self.threshold) and self.threshold > 0):
            raise ValueError(f"Expected threshold > 0, got {self.threshold}.")
        if self.min_segment < 1 or self.edge < 1:
            raise ValueError("Expected min_segment >= 1 and edge >= 1.")


def disagreement(values: np.ndarray, times: np.ndarray | None = None,
                 params: FilterParams | None = None) -> np.ndarray:
    """score_t (T,) of the module docstring; NaN values are skipped by both filters."""
    y = np.asarray(values, dtype=np.float64)
    t = np.arange(y.size, dtype=np.float64) if times is None else np.asarray(times, float)
    fwd = MultiProcessFilter(params).run(y, t)
    bwd = MultiProcessFilter(params).run(y[::-1], -t[::-1])
    f_b, v_b = _carry(bwd.forecast[::-1]), _carry(bwd.forecast_var[::-1])
    f_f, v_f = _carry(fwd.forecast, back=True), _carry(fwd.forecast_var, back=True)
    score = np.zeros(y.size)
    if y.size > 1:
        d = (f_f[1:] - f_b[:-1]) / np.sqrt(np.maximum(v_f[1:] + v_b[:-1], 1e-300))
        tail: np.ndarray = ndtr(-np.abs(np.nan_to_num(d)))
        score[1:] = -np.log10(np.maximum(2.0 * tail, 1e-300))
    return score


def _carry(x: np.ndarray, back: bool = False) -> np.ndarray:
    """Fill NaN rows (missing values) with the next (back=True) or previous valid value."""
    x = x.copy()
    idx = np.arange(x.size)
    ok = ~np.isnan(x)
    if not ok.any():
        return np.zeros_like(x)
    if back:
        nxt = np.minimum.accumulate(np.where(ok, idx, x.size)[::-1])[::-1]
        return np.where(nxt < x.size, x[np.minimum(nxt, x.size - 1)], x[ok][-1])
    prev = np.maximum.accumulate(np.where(ok, idx, -1))
    return np.where(prev >= 0, x[np.maximum(prev, 0)], x[ok][0])


def local_maxima(score: np.ndarray, threshold: float, min_segment: int) -> list[int]:
    """Rows with score >= threshold, greedily from the largest, >= min_segment apart."""
    return segment.peaks(score, threshold, min_segment)


def change_points(values: np.ndarray, params: SegmentParams | None = None) -> list[int]:
    """Retrospective change points of one series (T,) (NaN = missing): row indices t where
    a new segment begins (between t-1 and t), by the Bayesian segmentation
    (`cybersyn.monitor.segment.change_points`)."""
    return segment.change_points(values, params)


def filter_change_points(values: np.ndarray, times: np.ndarray | None = None,
                         params: RetroParams | None = None,
                         filter_params: FilterParams | None = None) -> list[int]:
    """Change points by forward vs backward filter disagreement (module doc): row indices
    t where a new segment begins (between t-1 and t)."""
    p = params or RetroParams()
    score = disagreement(values, times, filter_params)
    score[: p.edge] = 0.0
    score[max(0, score.size - p.edge) :] = 0.0
    return local_maxima(score, p.threshold, p.min_segment)
