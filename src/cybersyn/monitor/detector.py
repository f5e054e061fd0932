"""The detector the server runs: observations in, signals out, one step for N series.

Pipeline per series (all online; `DetectParams` documents every number):
1. Warm-up (the first `warmup` observations): values and times are only stored.
2. End of warm-up: the time unit is the median spacing; a seasonal lag (a day or a week
   in rows) is chosen from the lag autocorrelation of the warm-up values; a multi-process
   filter (`MultiProcessFilter`, default `FilterParams`) is run over the warm-up rows of
   x_t = y_t - y_{t-lag} (x_t = y_t without a season); the largest surprises and CUSUM
   excursions of its settled rows seed the records below and the CUSUM limit.
3. Every later observation: x_t through the filter; z = error / sqrt(forecast_var);
   surprise L = -log10(2 Phi(-|z|)) (from the log tail, no cap); score
   s = L / (L + ref) in [0, 1) with ref = max(min_surprise, the `surprise_rank`-th
   largest L so far: the series' own record of surprises, so a heavy tail seen once
   raises the bar); non-maximum suppression keeps s only where it exceeds every score
   that signalled in the previous `suppress_rows` rows (`suppress_signals_only`; every
   score there when False).
4. Signals, one observation late (the next observation tells a step, which stays, from a
   transient, which returns): observation t-1 signals when its kept score >= threshold,
   with kind = the most probable non-steady regime at t-1 given data to t (the filter's
   `p_prev`). Separately, two alarms signal a change of **slope** when nothing signalled
   within `quiet_fraction` of the suppression window: a two-sided CUSUM of z clipped to
   +-`cusum_clip` crossing its limit (start = where that side left zero), and the
   filtered slope moving by more than its limit in forecast sd per row over `slope_lag`
   rows (start = the middle of those rows). Both limits are floored by the largest value seen in the
   settled warm-up and raised by the series' record (`cusum_rank`-th largest CUSUM
   excursion, `slope_rank`-th largest drift so far). A CUSUM crossing on a row whose z
   reached the clip is deferred to the next row as that row's surprise (`defer_spikes`).

`Detector.step(y, t)` returns a `DetectorStep`: `alarm` (N,) the score of the signal
issued at this row (0 if none, NaN if y is missing; what NAB scores) and the signals.
State is numpy arrays (saved per series as bytes by `series_bytes`/`load_series_bytes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

from cybersyn.monitor.filter import (
    MultiProcessFilter,
    new_state,
    state_from_bytes,
    state_to_bytes,
)
from cybersyn.monitor.params import REGIMES, DetectParams, FilterParams

SLOPE = REGIMES.index("slope")


@dataclass(frozen=True)
class DetectorStep:
    """One step's result for N series; signal arrays have shape (n_signals,).

    alarm: (N,) score in [0, 1) of the signal issued now (0: none; NaN: y missing).
    series, kind (index into REGIMES: 1 step, 2 slope, 3 transient), probability (the
    filter's posterior of that kind at the change), direction (+1/-1), score (alarm),
    start (time of the observation where the change began, caller's unit).
    """

    alarm: np.ndarray
    series: np.ndarray
    kind: np.ndarray
    probability: np.ndarray
    direction: np.ndarray
    score: np.ndarray
    start: np.ndarray

    def __len__(self) -> int:
        return int(self.series.size)

    def kind_name(self, i: int) -> str:
        return REGIMES[int(self.kind[i])]


def surprise(error: np.ndarray, forecast_var: np.ndarray) -> np.ndarray:
    """-log10 of the two-sided normal tail probability of error / sqrt(forecast_var),
    from the log of the tail (no underflow: 40 sd gives 349, not a cap at 300)."""
    z = np.abs(error) / np.sqrt(np.maximum(forecast_var, 1e-300))
    log_tail: np.ndarray = log_ndtr(-np.nan_to_num(z, posinf=1e300))
    return -(log_tail + math.log(2.0)) / math.log(10.0)


def insert_top(top: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """Insert values (m,) into the descending top-k records top[rows] (m, k), in place."""
    if top.shape[1] == 0 or rows.size == 0:
        return
    enter = values > top[rows, -1]   # most values are below the k-th record: left alone
    rows, values = rows[enter], values[enter]
    both = np.concatenate([top[rows], values[:, None]], axis=1)
    top[rows] = -np.sort(-both, axis=1)[:, : top.shape[1]]


def kth(top: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The smallest of each row's top-k records (0 when k = 0)."""
    return top[rows, -1] if top.shape[1] else np.zeros(rows.size)


def season_lag(values: np.ndarray, unit: float, params: DetectParams) -> int:
    """The seasonal lag in rows for one warm-up (T,) of values spaced `unit` apart, or 0."""
    best, best_r = 0, params.season_min_acf
    for period in params.season_periods:
        lag = round(period / unit) if unit > 0 else 0
        if lag < 2 or 2 * lag > values.size:
            continue
        a, b = values[lag:] - values[lag:].mean(), values[:-lag] - values[:-lag].mean()
        den = float(np.sqrt((a * a).sum() * (b * b).sum()))
        r = float((a * b).sum()) / den if den > 0 else 0.0
        if r > best_r:
            best, best_r = lag, r
    return best


class Detector:
    """Online detector over N series (see the module docstring).

    warmup: optional (N,) per-series warm-up lengths overriding `params.warmup` (the NAB
    bench gives each file its probation period); the suppression window scales with it.
    Times passed to `step` are in the caller's unit (days in the server).
    """

    def __init__(self, n_series: int, params: DetectParams | None = None,
                 filter_params: FilterParams | None = None,
                 warmup: np.ndarray | None = None) -> None:
        self.params = params or DetectParams()
        self.filter = MultiProcessFilter(filter_params)
        n = n_series
        self.warmup = (np.full(n, self.params.warmup, dtype=np.int64) if warmup is None
                       else np.asarray(warmup, dtype=np.int64).copy())
        if self.warmup.shape != (n,) or (self.warmup < 4).any():
            raise ValueError("Expected one warm-up >= 4 per series.")
        self.suppress = np.maximum(1, (self.params.suppress_fraction * self.warmup)
                                   .astype(np.int64))
        h, s = int(self.warmup.max(initial=4)), int(self.suppress.max(initial=1))
        self.fstate = new_state(n)
        self.hist = np.zeros((n, h))          # ring of values by observation count
        self.thist = np.zeros((n, h))         # their times
        self.sring = np.zeros((n, s))         # ring of the last scores (suppression)
        self.count = np.zeros(n, dtype=np.int64)
        self.lag = np.zeros(n, dtype=np.int64)
        self.unit = np.ones(n)
        self.stop = np.zeros((n, self.params.surprise_rank))   # largest surprises so far
        self.ctop = np.zeros((n, self.params.cusum_rank))      # largest CUSUM excursions
        self.cexc = np.zeros(n)                                # current excursion's peak
        self.dtop = np.zeros((n, self.params.slope_rank))      # largest slope drifts
        self.climit = np.full(n, self.params.cusum_limit)
        self.gpos = np.zeros(n)
        self.gneg = np.zeros(n)
        self.gstart = np.zeros(n)             # where the upper CUSUM left zero
        self.gstart_neg = np.zeros(n)         # where the lower one did
        self.pend_score = np.zeros(n)         # kept score of the previous observation
        self.pend_t = np.zeros(n)
        self.pend_err = np.zeros(n)
        self.last_signal = np.full(n, -(1 << 40), dtype=np.int64)
        self.slring = np.zeros((n, max(1, self.params.slope_lag)))   # filtered slopes
        self.slimit = np.full(n, self.params.slope_limit)
        # time unit and calibration stay 1 until the warm-up ends (see `reset`)

    # -- one step ---------------------------------------------------------------------
    def step(self, y: np.ndarray, t: np.ndarray | float) -> DetectorStep:
        """Advance every series by one observation at time t (y NaN = missing)."""
        y = np.asarray(y, dtype=np.float64)
        n = self.count.size
        if y.shape != (n,):
            raise ValueError(f"Expected y of shape {(n,)}, got {y.shape}.")
        tt = np.broadcast_to(np.asarray(t, dtype=np.float64), y.shape)
        alarm = np.where(np.isnan(y), np.nan, 0.0)
        idx = np.flatnonzero(~np.isnan(y))
        h = self.hist.shape[1]
        pos = self.count[idx] % h
        self.hist[idx, pos] = y[idx]
        self.thist[idx, pos] = tt[idx]
        self.count[idx] += 1
        done = idx[self.count[idx] == self.warmup[idx]]
        if done.size:
            self._end_warmup(done)
        live = idx[self.count[idx] > self.warmup[idx]]
        empty = np.zeros(0, dtype=np.int64)
        if not live.size:
            return DetectorStep(alarm, empty, empty, np.zeros(0), empty, np.zeros(0),
                                np.zeros(0))
        return self._live(live, y, tt, alarm)

    def _live(self, live: np.ndarray, y: np.ndarray, tt: np.ndarray,
              alarm: np.ndarray) -> DetectorStep:
        p = self.params
        h = self.hist.shape[1]
        cnt = self.count[live] - 1                     # row index of this observation
        lag = self.lag[live]
        x = np.full(y.size, np.nan)
        back = self.hist[live, (cnt - lag) % h]
        x[live] = np.where(lag > 0, y[live] - back, y[live])
        out = self.filter.update(self.fstate, x, tt / self.unit)
        err, fvar = out.error[live], out.forecast_var[live]
        zraw = np.nan_to_num(err / np.sqrt(np.maximum(fvar, 1e-300)))
        z = np.clip(zraw, -p.cusum_clip, p.cusum_clip)  # the CUSUM's input
        big = surprise(err, fvar)
        ref = np.maximum(p.min_surprise, kth(self.stop, live))
        score = big / (big + ref + 1e-300)
        insert_top(self.stop, live, big)
        sup = self.suppress[live]
        prev = self.sring[live].max(axis=1)
        kept = np.where(score > prev, score, 0.0)
        # the window a later score must beat: its signals only, or every score
        self.sring[live, cnt % sup] = (np.where(kept >= p.threshold, kept, 0.0)
                                       if p.suppress_signals_only else score)
        # surprise signals: the previous observation, kind from p_prev (one row later)
        fire = self.pend_score[live] >= p.threshold
        p_prev = out.p_prev[live]
        kind = 1 + np.argmax(np.nan_to_num(p_prev[:, 1:], nan=-1.0), axis=1)
        prob = np.take_along_axis(p_prev, kind[:, None], axis=1)[:, 0]
        s_score = self.pend_score[live]
        start = self.pend_t[live].copy()
        direction = np.sign(self.pend_err[live]).astype(np.int64)
        # slope alarm: two-sided CUSUM of z
        gp = np.maximum(0.0, self.gpos[live] + z - p.cusum_drift)
        gn = np.maximum(0.0, self.gneg[live] - z - p.cusum_drift)
        self.gstart[live] = np.where(self.gpos[live] == 0, tt[live], self.gstart[live])
        self.gstart_neg[live] = np.where(self.gneg[live] == 0, tt[live],
                                         self.gstart_neg[live])
        g = np.maximum(gp, gn)
        limit = np.maximum(self.climit[live], kth(self.ctop, live))
        quiet = (cnt - self.last_signal[live]) > (p.quiet_fraction * sup).astype(np.int64)
        free = quiet & ~fire & (kept < p.threshold)
        cus = (p.cusum_limit > 0) & (g >= limit) & free
        # slope alarm: drift of the filtered slope over slope_lag rows, in forecast sd
        lk = p.slope_lag
        sl = out.slope[live]
        old = self.slring[live, cnt % lk] if lk else sl
        drift = np.abs(sl - old) / np.sqrt(np.maximum(fvar, 1e-300))
        drift = np.where(cnt - self.warmup[live] >= lk, drift, 0.0)
        if lk:
            self.slring[live, cnt % lk] = sl
        slim = np.maximum(self.slimit[live], kth(self.dtop, live))
        insert_top(self.dtop, live, drift)
        dri = (p.slope_limit > 0) & (drift >= slim) & free & ~cus
        if p.defer_spikes:
            # a crossing on an outlier row (|z| at the clip) is that row's surprise: it
            # signals one row later like one, with its kind from p_prev
            spike = cus & (np.abs(zraw) >= p.cusum_clip)
            cus &= ~spike
            kept = np.where(spike, g / (g + limit + 1e-300), kept)
            if p.suppress_signals_only:
                self.sring[live[spike], (cnt % sup)[spike]] = kept[spike]
        slope = cus | dri
        kind = np.where(slope, SLOPE, kind)
        prob = np.where(slope, out.p[live, SLOPE], prob)
        s_score = np.where(cus, g / (g + limit + 1e-300), s_score)
        s_score = np.where(dri, drift / (drift + slim + 1e-300), s_score)
        start = np.where(cus, np.where(gp >= gn, self.gstart[live], self.gstart_neg[live]),
                         start)
        start = np.where(dri, self.thist[live, (cnt - lk // 2) % h], start)
        direction = np.where(cus, np.where(gp >= gn, 1, -1), direction)
        direction = np.where(dri, np.where(sl >= old, 1, -1), direction)
        sig = fire | slope
        gp[sig], gn[sig] = 0.0, 0.0
        self._excursions(live, np.maximum(gp, gn), g)
        self.gpos[live], self.gneg[live] = gp, gn
        self.last_signal[live[sig]] = cnt[sig]
        alarm[live] = np.where(sig, s_score, 0.0)
        self.pend_score[live] = kept
        self.pend_t[live] = tt[live]
        self.pend_err[live] = err
        k = np.flatnonzero(sig)
        return DetectorStep(alarm, live[k], kind[k], np.clip(prob[k], 0.0, 1.0),
                            direction[k], s_score[k], start[k])

    def _excursions(self, live: np.ndarray, g_after: np.ndarray, g: np.ndarray) -> None:
        """Track each series' CUSUM excursion; record its peak when it ends (g back to 0,
        or reset by a signal)."""
        self.cexc[live] = np.maximum(self.cexc[live], g)
        end = (g_after == 0.0) & (self.cexc[live] > 0.0)
        insert_top(self.ctop, live[end], self.cexc[live[end]])
        self.cexc[live[end]] = 0.0

    # -- end of warm-up ---------------------------------------------------------------
    def _end_warmup(self, rows: np.ndarray) -> None:
        """Time unit, seasonal lag, filter state and calibration for series whose warm-up
        ends now (their warm-up rows sit at ring positions 0..warmup-1)."""
        for w in np.unique(self.warmup[rows]):
            grp = rows[self.warmup[rows] == w]
            self._calibrate(grp, int(w))

    def _calibrate(self, grp: np.ndarray, w: int) -> None:
        p = self.params
        vals, times = self.hist[grp, :w], self.thist[grp, :w]
        for j, k in enumerate(grp):
            gaps = np.diff(times[j])
            gaps = gaps[gaps > 0]
            self.unit[k] = float(np.median(gaps)) if gaps.size else 1.0
            self.lag[k] = season_lag(vals[j], float(self.unit[k]), p)
        lag = self.lag[grp]
        sub = new_state(grp.size)
        settle = int(p.settle_fraction * w)
        big = np.full((grp.size, w), np.nan)
        zz = np.zeros((grp.size, w))
        slopes = np.zeros((grp.size, w))
        sds = np.ones((grp.size, w))
        rows = np.arange(grp.size)
        for r in range(w):
            back = vals[rows, np.maximum(r - lag, 0)]
            x = np.where(lag == 0, vals[:, r], np.where(r >= lag, vals[:, r] - back, np.nan))
            o = self.filter.update(sub, x, times[:, r] / self.unit[grp])
            ok = o.count >= 2
            if r >= settle:
                big[:, r] = np.where(ok & ~np.isnan(x), surprise(o.error, o.forecast_var),
                                     np.nan)
            zz[:, r] = np.where(ok, np.nan_to_num(
                o.error / np.sqrt(np.maximum(o.forecast_var, 1e-300))), 0.0)
            slopes[:, r] = np.nan_to_num(o.slope)
            sds[:, r] = np.where(ok, np.sqrt(np.maximum(np.nan_to_num(o.forecast_var), 1e-300)),
                                 np.inf)
        zz = np.clip(zz, -p.cusum_clip, p.cusum_clip)
        self.stop[grp] = 0.0
        self.ctop[grp] = 0.0
        self.dtop[grp] = 0.0
        self.cexc[grp] = 0.0
        for j, k in enumerate(grp):
            b = big[j][~np.isnan(big[j])]
            _seed(self.stop, k, b)
            peaks = _cusum_peaks(zz[j, settle:], p.cusum_drift)
            self.climit[k] = max(p.cusum_limit, max(peaks, default=0.0))
            _seed(self.ctop, k, np.array(peaks))
            lk = p.slope_lag
            a = max(settle, lk)
            top = float((np.abs(slopes[j, a:] - slopes[j, a - lk : w - lk]) / sds[j, a:]).max(
                initial=0.0)) if lk and a < w else 0.0
            self.slimit[k] = max(p.slope_limit, top)
            if lk:
                self.slring[k, np.arange(w - lk, w) % lk] = slopes[j, w - lk :]
        self.fstate[grp] = sub
        self.sring[grp] = 0.0
        self.pend_score[grp] = 0.0
        self.gpos[grp] = 0.0
        self.gneg[grp] = 0.0

    # -- persistence ------------------------------------------------------------------
    def series_bytes(self, k: int) -> bytes:
        """Series k's whole detector state as bytes (exact; `load_series_bytes`)."""
        parts = [state_to_bytes(self.fstate, k)]
        for a in self._arrays():
            parts.append(np.ascontiguousarray(a[k]).tobytes())
        return b"".join(parts)

    def load_series_bytes(self, k: int, blob: bytes) -> None:
        """Restore series k from `series_bytes` (same params and warm-up)."""
        fsize = len(state_to_bytes(self.fstate, k))
        want = fsize + sum(a[k : k + 1].nbytes for a in self._arrays())
        if len(blob) != want:
            raise ValueError(f"Expected a detector state of {want} bytes, got {len(blob)}.")
        self.fstate[k] = state_from_bytes([blob[:fsize]])[0]
        off = fsize
        for a in self._arrays():
            row = a[k : k + 1]
            size = row.nbytes
            a[k] = np.frombuffer(blob[off : off + size], dtype=a.dtype).reshape(row.shape)[0]
            off += size

    def reset(self, k: int) -> None:
        """Forget series k: it warms up again from its next observation."""
        self.fstate[k] = new_state(1)[0]
        for a in self._arrays():
            a[k] = 0
        self.unit[k] = 1.0
        self.climit[k] = self.params.cusum_limit
        self.slimit[k] = self.params.slope_limit
        self.last_signal[k] = -(1 << 40)

    def _arrays(self) -> list[np.ndarray]:
        return [self.hist, self.thist, self.sring, self.count, self.lag, self.unit,
                self.climit, self.gpos, self.gneg, self.gstart, self.pend_score, self.pend_t,
                self.pend_err, self.last_signal, self.slring, self.slimit, self.gstart_neg,
                self.stop, self.ctop, self.cexc, self.dtop]


def _seed(top: np.ndarray, row: int, values: np.ndarray) -> None:
    """Zeroed records top[row] (k,) := the k largest of values (m,), descending."""
    best = np.sort(values)[::-1][: top.shape[1]]
    top[row, : best.size] = best


def _cusum_peaks(z: np.ndarray, drift: float) -> list[float]:
    """Peaks of the two-sided CUSUM of z (both sides from 0): the largest value of each
    excursion, from leaving 0 to returning to it (an unfinished one included)."""
    gp = gn = top = 0.0
    peaks = []
    for v in z.tolist():
        gp = max(0.0, gp + v - drift)
        gn = max(0.0, gn - v - drift)
        top = max(top, gp, gn)
        if gp == gn == 0.0 and top > 0.0:
            peaks.append(top)
            top = 0.0
    return peaks + ([top] if top > 0.0 else [])
