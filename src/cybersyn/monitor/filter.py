"""`MultiProcessFilter`: the vectorised class II multi-process filter over N series.

State lives in one structured array of shape (N,) with dtype `STATE_DTYPE` (256 bytes a
series, one contiguous record each), so saving a series' state is `state[k].tobytes()`
and restoring it is bit-exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cybersyn.monitor import _kernel as K
from cybersyn.monitor.params import FilterParams

STATE_DTYPE = np.dtype([
    ("m", np.float64, (4, 2)),        # posterior mean (level, slope) per regime component
    ("C", np.float64, (4, 2, 2)),     # posterior covariance per component, in units of V
    ("p", np.float64, (4,)),          # posterior regime probabilities
    ("n", np.float64),                # degrees of freedom of the gamma posterior on 1/V
    ("d", np.float64),                # its sum of squares; S = d / n estimates V
    ("t_last", np.float64),           # time of the last observation (caller's units)
    ("prev_error", np.float32),       # one-step error of the last observation
    ("count", np.int32),              # observations seen (0 = not initialised)
])
PARALLEL_FROM = 20_000


def new_state(n_series: int) -> np.ndarray:
    """An uninitialised state for `n_series` series (each starts at its first observation)."""
    return np.zeros(n_series, dtype=STATE_DTYPE)


def state_to_bytes(state: np.ndarray, k: int) -> bytes:
    """The 256 bytes of series k's state (exact)."""
    return state[k : k + 1].tobytes()


def state_from_bytes(blobs: list[bytes]) -> np.ndarray:
    """A state array from per-series blobs made by `state_to_bytes` (exact)."""
    return np.frombuffer(b"".join(blobs), dtype=STATE_DTYPE).copy()


@dataclass(frozen=True)
class StepOutput:
    """What one step produced for each of N series (NaN where the value was missing).

    forecast, forecast_var : (N,) one-step forecast made before seeing y, and its variance
        under the steady regime mixed over components (same units as y, squared for var).
    level, slope : (N,) filtered level and slope (slope per unit of time).
    p : (N, 4) posterior probability of each regime at this observation.
    p_prev : (N, 4) posterior probability of each regime at the previous observation, given
        data up to now (one-step smoothed; what the detection rule reads).
    score : (N,) anomaly score 1 - P(steady at this observation) in [0, 1].
    error : (N,) y - forecast. prev_error : (N,) the error of the previous observation.
    count : (N,) observations seen so far including this one.
    """

    raw: np.ndarray = field(repr=False)
    count: np.ndarray = field(repr=False)

    @property
    def forecast(self) -> np.ndarray:
        return self.raw[:, K.OUT_FORECAST]

    @property
    def forecast_var(self) -> np.ndarray:
        return self.raw[:, K.OUT_FVAR]

    @property
    def level(self) -> np.ndarray:
        return self.raw[:, K.OUT_LEVEL]

    @property
    def slope(self) -> np.ndarray:
        return self.raw[:, K.OUT_SLOPE]

    @property
    def p(self) -> np.ndarray:
        return self.raw[:, K.OUT_P : K.OUT_P + 4]

    @property
    def p_prev(self) -> np.ndarray:
        return self.raw[:, K.OUT_PPREV : K.OUT_PPREV + 4]

    @property
    def score(self) -> np.ndarray:
        return self.raw[:, K.OUT_SCORE]

    @property
    def error(self) -> np.ndarray:
        return self.raw[:, K.OUT_ERR]

    @property
    def prev_error(self) -> np.ndarray:
        return self.raw[:, K.OUT_PREV_ERR]


class MultiProcessFilter:
    """Harrison–Stevens class II multi-process linear-growth filter, vectorised over series.

    `update(state, y, t)` advances every series one observation, in place, and returns a
    `StepOutput`. y : (N,) values (NaN = missing: that series is left untouched);
    t : (N,) or scalar observation times in any unit (the evolution variances are per unit
    of time, so irregular spacing is handled). A series initialises itself on its first
    non-missing value (level = y, slope = 0, vague priors, see `FilterParams`).
    out : optional (N, 15) float64 buffer the outputs are written to (reused across steps
    in hot loops; the returned `StepOutput` is then a view of it).
    """

    def __init__(self, params: FilterParams | None = None) -> None:
        self.params = params or FilterParams()
        self._prm = self.params.as_array()

    def update(self, state: np.ndarray, y: np.ndarray, t: np.ndarray | float,
               out: np.ndarray | None = None) -> StepOutput:
        if state.dtype != STATE_DTYPE or state.ndim != 1 or not state.flags.c_contiguous:
            raise ValueError("Expected a contiguous state made by new_state() "
                             "(dtype STATE_DTYPE).")
        y = np.ascontiguousarray(y, dtype=np.float64)
        if y.shape != state.shape:
            raise ValueError(f"Expected y of shape {state.shape}, got {y.shape}.")
        tt = np.ascontiguousarray(t, dtype=np.float64).reshape(-1)
        if tt.size != 1 and tt.shape != y.shape:
            raise ValueError(f"Expected t scalar or of shape {y.shape}, got {np.shape(t)}.")
        if out is None:
            out = np.empty((y.size, K.N_OUT))
        elif out.shape != (y.size, K.N_OUT) or out.dtype != np.float64 or \
                not out.flags.c_contiguous:
            raise ValueError(f"Expected out of shape {(y.size, K.N_OUT)}, float64, contiguous.")
        kernel = K.step_parallel if y.size >= PARALLEL_FROM else K.step_serial
        count = np.empty(y.size, dtype=np.int32)
        kernel(y, tt, self._prm, *K.views(state), out, count)
        return StepOutput(out, count)

    def run(self, values: np.ndarray, times: np.ndarray | None = None) -> SeriesOutput:
        """Filter one series (T,) from scratch; outputs stacked over time."""
        values = np.asarray(values, dtype=np.float64)
        times = np.arange(values.size, dtype=np.float64) if times is None else np.asarray(
            times, dtype=np.float64)
        if times.shape != values.shape:
            raise ValueError("Expected times and values of the same length.")
        state = new_state(1)
        raw = np.empty((values.size, K.N_OUT))
        counts = np.empty(values.size, dtype=np.int64)
        for k in range(values.size):
            o = self.update(state, values[k : k + 1], times[k])
            raw[k] = o.raw[0]
            counts[k] = o.count[0]
        return SeriesOutput(raw, counts)


class SeriesOutput(StepOutput):
    """`StepOutput` whose rows are the T steps of one series."""
