"""Offline Bayesian segmentation of one whole series (a product-partition model): the
posterior probability of a change at each row, and the MAP segmentation.

Model (a product partition, Barry & Hartigan 1993; Fearnhead 2006): the rows 0..T-1 are cut
into contiguous segments; within a segment the standardised values follow a linear model

    z_i = x_i' beta + e_i,   e_i ~ N(0, sigma^2),   x_i = (1,) or (1, u_i), u_i = i - start,

with beta | sigma^2 ~ N(0, sigma^2 Lambda0^-1), Lambda0 = k_level or diag(k_level, k_slope),
and 1/sigma^2 ~ Gamma(a0, b0) (rate b0), independently per segment; a segment has the trend
column with prior probability p_trend, so its marginal likelihood is the mixture
(1 - p_trend) p_level(z) + p_trend p_trend_model(z) of two closed forms (the Normal-Gamma /
Normal-Inverse-Gamma conjugate pair):

    log p(z) = -n/2 log(2 pi) + (log|Lambda0| - log|Lambda_n|)/2
               + a0 log b0 - a_n log b_n + lgamma(a_n) - lgamma(a0),
    Lambda_n = Lambda0 + X'X,  a_n = a0 + n/2,  b_n = b0 + (z'z - (X'z)' Lambda_n^-1 X'z)/2.

A change happens after each row with probability p (geometric segment lengths), so a
segmentation with m change points has log prior m log p + (T-1-m) log(1-p): the MAP is the
segmentation maximising sum of segment log marginals - m beta, beta = log((1-p)/p). It is
found exactly by optimal partitioning (Jackson et al. 2005; the recursion PELT prunes,
Killick et al. 2012): F(t) = max_s F(s) + log p(z[s:t]) - beta over s <= t - min_segment,
vectorised over s with cumulative sums (O(T^2) numpy work, no pruning: TCPD series have
T <= 1000, and the exact recursion is what the brute-force test checks). The posterior
probability of a change at each row sums over all segmentations instead (Fearnhead 2006's
forward and backward recursions, also O(T^2)); `change_points` by default reports the
rows where it is >= 0.5 (rule "posterior"), which scored above the MAP on TCPD.

Scale-free and robust: the series is standardised by its median and a robust noise scale
(1.4826 MAD of the first differences / sqrt 2), and short spikes (a value more than `spike`
noise sds from the median of its centred `window`-row window) are treated as missing, so a
one-off transient does not make two segments (the multi-process filter's transient regime,
offline).
Missing values (NaN) count in no segment's likelihood; `change_points` drops them (and the
spikes) before segmenting and maps the change points back to rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln


@dataclass(frozen=True)
class SegmentParams:
    """Prior and preprocessing of the segmentation (standardised units: 1 = the robust
    noise sd of the series).

    p_change: prior probability of a change after each row (geometric segment lengths);
    p_trend: prior probability that a segment has a linear trend (else a level only; the
    segment's marginal is the mixture of the two); k_level, k_slope: prior precisions of a
    segment's level and slope (per row) relative to its noise precision; a0, b0: Gamma
    prior (shape, rate) of a segment's noise precision (mean a0/b0 = 1: the robust scale;
    a0 is its weight in pseudo-observations x 2); min_segment: least rows in a segment;
    scale: "mad" (1.4826 MAD of the first differences / sqrt 2) or "sd" (their sd / sqrt
    2); spike, window: a value more than `spike` noise sds from the median of its centred
    `window`-row window is treated as missing (spike 0 = off); rule: "posterior" (the
    change points are the rows whose posterior probability of a change is >= threshold,
    local maxima at least min_segment apart) or "map" (those of the MAP segmentation).

    threshold 0.5 (a change more probable than not) was fixed before any run of the rule;
    p_change 1e-8 and a0 = b0 = 20 were chosen on the whole TCPD corpus (31 series, never
    per series) from a0 in {2, 5, 10, 20, 50} x p_change in {1e-4 .. 1e-8} (bench/tcpd.py
    --grid; docs/monitor.md has every cell and the earlier exploration that fixed the
    others): the largest Cover among the cells whose F1 beats binseg's, for either rule."""

    p_change: float = 1e-8
    p_trend: float = 0.5
    k_level: float = 0.01
    k_slope: float = 1.0
    a0: float = 20.0
    b0: float = 20.0
    min_segment: int = 2
    scale: str = "mad"
    spike: float = 5.0
    window: int = 7
    rule: str = "posterior"
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.p_change < 1.0:
            raise ValueError(f"Expected p_change in (0, 1), got {self.p_change}.")
        for name in ("k_level", "k_slope", "a0", "b0"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"Expected {name} > 0, got {v}.")
        if self.min_segment < 1:
            raise ValueError(f"Expected min_segment >= 1, got {self.min_segment}.")
        if not 0.0 <= self.p_trend <= 1.0:
            raise ValueError(f"Expected p_trend in [0, 1], got {self.p_trend}.")
        if self.scale not in ("mad", "sd"):
            raise ValueError(f"Expected scale 'mad' or 'sd', got {self.scale!r}.")
        if not (math.isfinite(self.spike) and self.spike >= 0):
            raise ValueError(f"Expected spike >= 0, got {self.spike}.")
        if self.rule not in ("posterior", "map"):
            raise ValueError(f"Expected rule 'posterior' or 'map', got {self.rule!r}.")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"Expected threshold in (0, 1), got {self.threshold}.")
        if self.window < 3 or self.window % 2 == 0:
            raise ValueError(f"Expected an odd window >= 3, got {self.window}.")


def noise_scale(values: np.ndarray, scale: str = "mad") -> float:
    """Robust noise sd of a series (units of the values): 1.4826 MAD of the first
    differences of the valid values / sqrt 2; the sd of the differences / sqrt 2 when the
    MAD is 0 (a quantised series), 1 when that is 0 too."""
    y = np.asarray(values, dtype=np.float64)
    d = np.diff(y[~np.isnan(y)])
    if d.size == 0:
        return 1.0
    s = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2.0)
    if scale == "sd" or s <= 0:
        s = float(np.std(d)) / math.sqrt(2.0)
    return s if s > 0 else 1.0


def standardise(values: np.ndarray, spike: float = 5.0, scale: str = "mad",
                window: int = 7) -> np.ndarray:
    """(T,) values -> (T,) (y - median) / noise_scale, spikes (see module doc) set to NaN."""
    y = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(y)
    if not ok.any():
        return y.copy()
    z = (y - float(np.median(y[ok]))) / noise_scale(y, scale)
    if spike > 0 and z.size >= window:
        pad = np.pad(z, window // 2, mode="edge")
        win = np.lib.stride_tricks.sliding_window_view(pad, window)
        med = np.nanmedian(win, axis=1)
        z = np.where(np.abs(z - med) > spike, np.nan, z)
    return z


class _Sums:
    """Cumulative sums (T+1,) of 1, i, i^2, z, i z, z^2 over the valid rows i."""

    def __init__(self, z: np.ndarray) -> None:
        ok = ~np.isnan(z)
        i = np.arange(z.size, dtype=np.float64)
        zz = np.where(ok, z, 0.0)
        w = ok.astype(np.float64)

        def cum(x: np.ndarray) -> np.ndarray:
            return np.concatenate(([0.0], np.cumsum(x)))

        self.n, self.i, self.ii = cum(w), cum(w * i), cum(w * i * i)
        self.z, self.iz, self.zz = cum(zz), cum(i * zz), cum(zz * zz)


def log_marginal(sums: _Sums, starts: np.ndarray | int, end: np.ndarray | int,
                 p: SegmentParams) -> np.ndarray:
    """Log marginal likelihood of the segments [start, end) of the standardised series
    (module doc), starts and ends broadcast against each other (e.g. starts (K,) and one
    end, or one start and ends (K,)); a segment with no valid row has 0."""
    starts, end = np.asarray(starts), np.asarray(end)
    s = starts.astype(np.float64)
    n = sums.n[end] - sums.n[starts]
    sz = sums.z[end] - sums.z[starts]
    szz = sums.zz[end] - sums.zz[starts]
    l00 = p.k_level + n
    an = p.a0 + 0.5 * n
    common = (-0.5 * n * math.log(2.0 * math.pi) + p.a0 * math.log(p.b0)
              + gammaln(an) - gammaln(p.a0))

    def given(quad: np.ndarray, logdet: np.ndarray) -> np.ndarray:
        bn = p.b0 + 0.5 * np.maximum(szz - quad, 0.0)
        return np.asarray(common + 0.5 * logdet - an * np.log(bn), dtype=np.float64)

    level = given(sz * sz / l00, math.log(p.k_level) - np.log(l00))
    if p.p_trend > 0:  # u = i - s: shift the global-row sums to the segment's own origin
        si = sums.i[end] - sums.i[starts]
        su = si - s * n
        suu = sums.ii[end] - sums.ii[starts] - 2.0 * s * si + s * s * n
        suz = sums.iz[end] - sums.iz[starts] - s * sz
        l11 = p.k_slope + suu
        det = l00 * l11 - su * su
        quad = (l11 * sz * sz - 2.0 * su * sz * suz + l00 * suz * suz) / det
        trend = given(quad, math.log(p.k_level * p.k_slope) - np.log(det))
        if p.p_trend >= 1:
            level = trend
        else:
            level = np.logaddexp(math.log1p(-p.p_trend) + level,
                                 math.log(p.p_trend) + trend)
    return np.where(n > 0, level, 0.0)


def map_segmentation(z: np.ndarray, params: SegmentParams | None = None
                     ) -> tuple[list[int], float]:
    """MAP change points of a standardised series z (T,) (rows where a new segment begins,
    sorted) and its log posterior up to a constant: sum of segment log marginals - m beta."""
    p = params or SegmentParams()
    t_len = z.size
    if t_len == 0:
        return [], 0.0
    sums = _Sums(z)
    beta = math.log((1.0 - p.p_change) / p.p_change)
    m = p.min_segment
    best = np.full(t_len + 1, -np.inf)
    best[0] = beta  # the first segment is not a change
    last = np.zeros(t_len + 1, dtype=np.int64)
    for t in range(1, t_len + 1):
        starts = np.arange(0, t - m + 1)
        starts = starts[np.isfinite(best[starts])]
        if starts.size == 0:
            continue
        cand = best[starts] + log_marginal(sums, starts, t, p) - beta
        k = int(np.argmax(cand))
        best[t], last[t] = cand[k], starts[k]
    if not np.isfinite(best[t_len]):  # shorter than min_segment: one segment
        return [], float(log_marginal(sums, np.array([0]), t_len, p)[0])
    cps: list[int] = []
    t = t_len
    while t > 0:
        t = int(last[t])
        if t > 0:
            cps.append(t)
    return sorted(cps), float(best[t_len])


def change_probabilities(z: np.ndarray, params: SegmentParams | None = None) -> np.ndarray:
    """Posterior probability (T,) that a new segment begins at row t (between t-1 and t)
    of a standardised series z (T,), over all segmentations (Fearnhead 2006's exact
    recursions, forwards and backwards, O(T^2)); entry 0 is 0.

    F(t) = log sum over segmentations of z[:t] ending at t, G(s) = the same for z[s:],
    each weighted by its prior p^(segments - 1) (1 - p)^(rows - segments);
    P(change at t) = exp(F(t) + log p + G(t) - F(T))."""
    p = params or SegmentParams()
    t_len, m = z.size, p.min_segment
    out = np.zeros(t_len)
    if t_len < 2 * m:
        return out
    sums = _Sums(z)
    lp, lq = math.log(p.p_change), math.log1p(-p.p_change)
    fwd = np.full(t_len + 1, -np.inf)
    fwd[0] = 0.0
    for t in range(m, t_len + 1):
        s = np.arange(0, t - m + 1)
        s = s[np.isfinite(fwd[s])]
        terms = fwd[s] + np.where(s > 0, lp, 0.0) + log_marginal(sums, s, t, p) + (t - s - 1) * lq
        fwd[t] = np.logaddexp.reduce(terms) if s.size else -np.inf
    bwd = np.full(t_len + 1, -np.inf)
    bwd[t_len] = 0.0
    for s0 in range(t_len - m, -1, -1):
        e = np.arange(s0 + m, t_len + 1)
        e = e[np.isfinite(bwd[e])]
        nxt = np.where(e < t_len, lp + bwd[e], 0.0)
        terms = log_marginal(sums, s0, e, p) + (e - s0 - 1) * lq + nxt
        bwd[s0] = np.logaddexp.reduce(terms) if e.size else -np.inf
    rows = np.arange(1, t_len)
    out[1:] = np.exp(np.minimum(fwd[rows] + lp + bwd[rows] - fwd[t_len], 0.0))
    return out


def peaks(score: np.ndarray, threshold: float, min_gap: int) -> list[int]:
    """Rows (sorted) with score >= threshold, taken greedily from the largest, none closer
    than min_gap rows to one already taken."""
    chosen: list[int] = []
    for t in np.argsort(-score, kind="stable").tolist():
        if score[t] < threshold:
            break
        if all(abs(t - u) >= min_gap for u in chosen):
            chosen.append(t)
    return sorted(chosen)


def change_points(values: np.ndarray, params: SegmentParams | None = None) -> list[int]:
    """Offline Bayesian change points of one series (T,) (NaN = missing): the rows t where
    a new segment begins (between t-1 and t) of the standardised, spike-cleaned series;
    with rule "posterior" the rows whose posterior probability of a change is >=
    threshold (local maxima, >= min_segment apart), with rule "map" those of the MAP
    segmentation. Missing rows (and spikes) are dropped first, so a change next to them
    is reported at the first valid row after it, and rows count as valid rows only (the
    probability of a change is not split between equivalent rows around a gap)."""
    p = params or SegmentParams()
    z = standardise(values, p.spike, p.scale, p.window)
    rows = np.flatnonzero(~np.isnan(z))
    z = z[rows]
    if p.rule == "map":
        cps = map_segmentation(z, p)[0]
    else:
        cps = peaks(change_probabilities(z, p), p.threshold, p.min_segment)
    return [int(rows[c]) for c in cps]
