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
class DetectParams:
    """The detection rule (see `detect.py`).

    threshold: a change is signalled at observation t-1 when the posterior probability
        that t-1 was not steady, given data up to t, is at least this; its kind is the most
        probable of step, slope, transient.
    warmup: observations a series must have had before it may signal (the filter is still
        learning its level, slope and variance).
    """

    threshold: float = 0.9
    warmup: int = 10

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"Expected threshold in (0, 1], got {self.threshold}.")
        if self.warmup < 1:
            raise ValueError(f"Expected warmup >= 1, got {self.warmup}.")
