"""Validated parameters of the multi-process filter and of the detection rule.

Regimes, in this order everywhere (axis of length 4): steady, step, slope, transient.

Defaults follow the four-model set of Harrison & Stevens (1971, "A Bayesian approach to
short-term forecasting", Oper. Res. Q. 22; 1976, "Bayesian forecasting", JRSS B 38) as
restated by West & Harrison (1997, *Bayesian Forecasting and Dynamic Models*, 2nd ed.,
ch. 12, multi-process models of class II): a steady linear-growth model with small evolution
variance, and three alternatives that differ only in one variance: a large level evolution
variance (step), a large slope evolution variance (slope change), a large observation
variance (transient). All variances are relative to the (unknown, learned) observation
variance V, so the filter is invariant to the scale of the data. The exact figures were
fixed before any benchmark run, in the ranges those sources use (small prior weights on the
alternatives, multipliers of order 100); see docs/monitor.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

REGIMES = ("steady", "step", "slope", "transient")


def _check_vec(name: str, v: tuple[float, ...], *, positive: bool = False) -> None:
    if len(v) != 4 or not all(math.isfinite(x) for x in v):
        raise ValueError(f"Expected {name} to be 4 finite numbers (one per regime).")
    if any(x < 0 or (positive and x == 0) for x in v):
        raise ValueError(f"Expected {name} {'> 0' if positive else '>= 0'} for every regime.")


@dataclass(frozen=True)
class FilterParams:
    """Parameters of the class II multi-process linear-growth DLM.

    priors: prior probability of each regime at every step (class II: regimes are
        independent over time); sum to 1, steady > 0.
    level_var, slope_var: evolution variance of level and slope per unit of time, in units
        of the observation variance V (scale-free), per regime.
    obs_var: observation variance multiplier per regime (1 = V; transient = 100 V).
    variance_discount: discount factor delta on the gamma posterior of 1/V
        (n_t = delta n_{t-1} + 1); 1 = V constant, < 1 lets V drift (W&H §10.8).
    learn_variance: learn V online; False keeps V at its initial value (a plain Kalman
        filter when priors = (1, 0, 0, 0)).
    prior_dof: degrees of freedom n_0 of the initial gamma prior on 1/V.
    init_cv: initial sqrt(V) as a fraction of |first observation| (1.0 when it is 0).
    init_level_var, init_slope_var: initial variances of level and slope (in units of V).
    min_cv: floor of sqrt(V) as a fraction of |level| (keeps a flat series finite).
    """

    priors: tuple[float, float, float, float] = (0.94, 0.02, 0.02, 0.02)
    level_var: tuple[float, float, float, float] = (0.02, 100.0, 0.02, 0.02)
    slope_var: tuple[float, float, float, float] = (1e-5, 1e-5, 1.0, 1e-5)
    obs_var: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 100.0)
    variance_discount: float = 0.99
    learn_variance: bool = True
    prior_dof: float = 0.1
    init_cv: float = 0.1
    init_level_var: float = 1.0
    init_slope_var: float = 0.01
    min_cv: float = 1e-6

    def __post_init__(self) -> None:
        _check_vec("priors", self.priors)
        if abs(sum(self.priors) - 1.0) > 1e-9 or self.priors[0] <= 0:
            raise ValueError("Expected priors summing to 1 with priors[0] (steady) > 0.")
        _check_vec("level_var", self.level_var)
        _check_vec("slope_var", self.slope_var)
        _check_vec("obs_var", self.obs_var, positive=True)
        if not 0.0 < self.variance_discount <= 1.0:
            raise ValueError("Expected variance_discount in (0, 1].")
        for name in ("prior_dof", "init_cv", "init_level_var", "init_slope_var"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"Expected {name} > 0, got {v}.")
        if not (math.isfinite(self.min_cv) and self.min_cv >= 0):
            raise ValueError("Expected min_cv >= 0.")

    def as_array(self) -> np.ndarray:
        """Packed float64 vector read by the numba kernel (layout in `_kernel.py`)."""
        with np.errstate(divide="ignore"):
            logp = np.log(np.array(self.priors, dtype=float))
        return np.concatenate([
            logp, self.level_var, self.slope_var, self.obs_var,
            [self.variance_discount, float(self.learn_variance), self.prior_dof, self.init_cv,
             self.init_level_var, self.init_slope_var, self.min_cv], self.priors,
        ]).astype(np.float64)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FilterParams:
        """From a TOML/JSON table; unknown keys are rejected by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Expected keys among {sorted(known)}, got unknown {unknown}.")
        conv = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**conv)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PosteriorRule:
    """The plain posterior rule `detect.detect` (kept for comparison; the live path uses
    `detector.Detector` with `DetectParams`).

    threshold: a change is signalled at observation t-1 when the posterior probability
        that t-1 was not steady, given data up to t, is at least this; its kind is the most
        probable of step, slope, transient.
    warmup: observations a series must have had before it may signal.
    """

    threshold: float = 0.9
    warmup: int = 10

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"Expected threshold in (0, 1], got {self.threshold}.")
        if self.warmup < 1:
            raise ValueError(f"Expected warmup >= 1, got {self.warmup}.")


@dataclass(frozen=True)
class DetectParams:
    """The detector the server runs (`detector.Detector`); docs/monitor.md has the record
    of how each default was chosen (NAB = whole NAB corpus, never one file).

    warmup: observations a series needs before it may signal. During the warm-up the
        detector only learns: the time unit (median spacing), the seasonal lag, and the
        calibration of its surprise. 20 for the live daily indicators (a demo run of 30
        days must reach a strike on day 25); NAB hands every detector its probation
        period, so the NAB bench sets warmup = probation rows of each file.
    threshold: signal when the calibrated surprise score >= this. The score is
        L / (L + ref) in [0, 1) with L = -log10 of the two-sided normal tail probability
        of the standardised one-step error and ref = max(`min_surprise`, the
        `surprise_rank`-th largest L the series has shown since its settled warm-up);
        0.5 <=> L = ref: "at least as surprising as the 5th most surprising observation
        so far". Fixed at 0.5 before the NAB runs (the natural point of the scale).
    season_periods: candidate seasonal periods in the caller's time unit (days in the
        server: a day and a week). A period becomes a lag in rows with the warm-up's
        median spacing; it is used when 2 lags fit in the warm-up and the lag
        autocorrelation of the warm-up values exceeds `season_min_acf` (the larger wins);
        the detector then filters y_t - y_{t-lag}. Rule and 0.3 fixed before any run
        (bench round 3, now in the detector).
    surprise_rank: k of the reference above (the third session, replacing the 99.9%
        quantile of the warm-up's surprise): the reference rises with every surprise the
        series shows, so a heavy-tailed series whose warm-up was quiet stops signalling
        its everyday spikes, and an anomaly inside the warm-up no longer sets the bar
        for ever. NAB standard, whole corpus (the detector): 3 / 5 / 8 gave 54.3 /
        55.1 / 53.6; held-out halves in docs/monitor.md. 0 = the floor only.
    settle_fraction: the first fraction of the warm-up is left out of the calibration
        (the filter is still learning its variance there); 1/3.
    min_surprise: floor of ref: the score never reaches 0.5 below a two-sided tail
        probability of 1e-4 (L = 4, 3.9 sd), a false-alarm rate of at most ~1e-4 per row
        under the model. A warm-up of 20 rows cannot estimate a 99.9% quantile, so in the
        server this floor is what sets the threshold (steady N(0,1) noise: 32 signals in
        2 000 rows with a floor of 2, 6 with 4). On NAB (measured after): 2 / 3 / 4 gave
        49.0 / 49.5 / 50.3.
    suppress_fraction: a surprise is kept only where it exceeds every surprise of the
        previous `suppress_fraction * warmup` rows (one change and the rows the filter
        needs to adapt to it signal once); 0.5 (NAB: 0.25 / 0.5 / 1.0 gave 44.3 / 49.5 /
        40.3).
    suppress_signals_only: the scores a surprise must exceed are only those that
        signalled in the window (True, fourth session), not every score (False, before):
        a large score that was itself suppressed no longer hides a later change. NAB
        standard, whole corpus, with the two fields below: 59.3 vs 59.2 (+0.5 to +1.0 at
        four other settings; low FP +1.8 to +2.3).
    quiet_fraction: the CUSUM and slope-drift alarms wait `quiet_fraction` x the
        suppression window after any signal (1 before the fourth session; 0.5 since):
        the filter has adapted to a change well before the window ends, and a slope
        change that follows a spike was missed. NAB standard, whole corpus, with
        cusum_clip 6: 0.25 / 0.5 / 0.75 / 1 gave 59.0 / 59.3 / 58.6 / 57.2 (grid and
        held-out halves in docs/monitor.md, NAB fourth session).
    cusum_drift, cusum_limit: the slope alarm, a two-sided CUSUM of the standardised
        one-step errors clipped to +-`cusum_clip` (what one spike adds is bounded),
        g_t = max(0, g_{t-1} + z_t - drift) on each side; it signals a change of slope
        when g >= max(cusum_limit, the largest g of the settled warm-up, the
        `cusum_rank`-th largest excursion (the peak of g before it returned to 0 or
        signalled) so far) and no signal came in the last `quiet_fraction` of the
        suppression window. 0 disables it.
        Page (1954)'s standard k = 0.5, h = 5 for unit-variance errors.
    cusum_clip, cusum_rank: 6 sd and 5. Rank 5 and clip 4 from the third session (NAB
        lab: clip 3 / 4 / 6 gave 55.0 / 56.0 / 57.4, rank 3 / 5 / 8 gave 54.8 / 56.0 /
        55.6); clip 6 since the fourth session, chosen with `quiet_fraction` on the whole
        corpus (the detector, quiet 0.5: clip 4 / 5 / 6 / 8 gave 57.4 / 59.0 / 59.3 /
        58.9). One spike of 6 sd or more now adds 5.5 to the CUSUM, above the limit 5
        unless the series' records raised it: a second spike inside the suppression
        window of a first can fire the CUSUM (see `defer_spikes`).
    defer_spikes: a CUSUM crossing on a row whose |z| reached `cusum_clip` is that
        row's surprise, not a slope: it signals one row later, like a surprise, with
        its kind from the filter's p_prev (True, fourth session). False signals it at
        once as a slope: spikes of 30, 25, 20 sd 7 rows apart (window 10 rows), 100
        seeds: the 25 was a "slope" 87 times; deferred, a "transient" 89 times. NAB
        standard 59.36 vs 59.33 (the alarm moves one row).
    slope_lag, slope_limit: the slope-drift alarm: a change of slope is signalled when
        the filtered slope moved by >= max(slope_limit, the largest such move of the
        settled warm-up) forecast standard deviations per row over the last `slope_lag`
        rows (and nothing signalled within `quiet_fraction` of the suppression window).
        The filter's slope follows a slope change within a few rows while its one-step
        errors stay small, so the slope itself is what moves. 8 rows before any run;
        the limit 0.75 from synthetic series and the demo (never NAB): N(0,1) noise,
        100 seeds, slope changes of 0.5 / 1 / 2 sd/row signalled as slopes within 15
        rows 39 / 94 / 90 times at 0.5, 1 / 69 / 89 at 0.75; but at 0.5 the demo's AR(1)
        level drift gave 512 slope signals in 100 days of 979 indicators, 66 at 0.75.
        0 disables it.
    slope_rank: the slope limit also rises to the `slope_rank`-th largest drift seen
        since the warm-up (3; NAB whole corpus, lab: 0 / 1 / 3 / 5 gave 54.8 / 55.9 /
        56.0 / 55.7). 0 = the fixed limit only.
    """

    warmup: int = 20
    threshold: float = 0.5
    season_periods: tuple[float, ...] = (1.0, 7.0)
    season_min_acf: float = 0.3
    settle_fraction: float = 1.0 / 3.0
    min_surprise: float = 4.0
    suppress_fraction: float = 0.5
    cusum_drift: float = 0.5
    cusum_limit: float = 5.0
    slope_lag: int = 8
    slope_limit: float = 0.75
    surprise_rank: int = 5
    cusum_clip: float = 6.0
    cusum_rank: int = 5
    slope_rank: int = 3
    suppress_signals_only: bool = True
    quiet_fraction: float = 0.5
    defer_spikes: bool = True

    def __post_init__(self) -> None:
        if self.warmup < 4:
            raise ValueError(f"Expected warmup >= 4, got {self.warmup}.")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"Expected threshold in (0, 1), got {self.threshold}.")
        if not all(math.isfinite(p) and p > 0 for p in self.season_periods):
            raise ValueError("Expected season_periods > 0.")
        for name in ("season_min_acf", "settle_fraction", "suppress_fraction",
                     "quiet_fraction"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"Expected {name} in [0, 1], got {v}.")
        if self.slope_lag < 0 or self.slope_lag >= self.warmup:
            raise ValueError(f"Expected 0 <= slope_lag < warmup, got {self.slope_lag}.")
        for name in ("surprise_rank", "cusum_rank", "slope_rank"):
            if not 0 <= getattr(self, name) <= 64:
                raise ValueError(f"Expected {name} in [0, 64], got {getattr(self, name)}.")
        if not (math.isfinite(self.cusum_clip) and self.cusum_clip > 0):
            raise ValueError(f"Expected cusum_clip > 0, got {self.cusum_clip}.")
        for name in ("min_surprise", "cusum_drift", "cusum_limit", "slope_limit"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"Expected {name} >= 0, got {v}.")

    def suppress_rows(self, warmup: int | None = None) -> int:
        """The suppression window in rows for a warm-up of `warmup` rows (default own)."""
        return max(1, int(self.suppress_fraction * (warmup or self.warmup)))
