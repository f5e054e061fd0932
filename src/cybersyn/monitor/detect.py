"""The plain posterior rule: posteriors in, changes out (the first session's live rule;
the server now runs `detector.Detector`, which scores 2x better on NAB; this rule is
kept as the comparison and for the filter's own tests).

After observation t is filtered, the filter knows the probability of each regime at the
previous observation t-1 given data up to t (`StepOutput.p_prev`): one observation later a
step and a transient are no longer confused (a transient returns, a step stays; Harrison &
Stevens 1976, §6). The rule: series k signals a change of kind K at t-1 when

    1 - p_prev[k, steady] >= threshold   and   count[k] > warmup,

with K the most probable non-steady regime at t-1 (the probability reported is that of K).
The direction is the sign of the one-step error at t-1. `threshold` (default 0.9) and
`warmup` are in `PosteriorRule`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cybersyn.monitor.filter import StepOutput
from cybersyn.monitor.params import REGIMES, PosteriorRule


@dataclass(frozen=True)
class Detections:
    """Series that signalled this step. All arrays of shape (n_detections,).

    series: index of the series; kind: 1 step, 2 slope, 3 transient (index into REGIMES);
    probability: p_prev of that kind; direction: +1 / -1 / 0; score: the series' score now.
    """

    series: np.ndarray
    kind: np.ndarray
    probability: np.ndarray
    direction: np.ndarray
    score: np.ndarray

    def kind_name(self, i: int) -> str:
        return REGIMES[int(self.kind[i])]

    def __len__(self) -> int:
        return int(self.series.size)


def detect(out: StepOutput, params: PosteriorRule | None = None) -> Detections:
    """Apply the posterior rule to one step's outputs (pure; NaN rows never signal)."""
    params = params or PosteriorRule()
    alt = out.p_prev[:, 1:]
    with np.errstate(invalid="ignore"):
        best = np.argmax(np.nan_to_num(alt, nan=-1.0), axis=1)
        prob = np.take_along_axis(alt, best[:, None], axis=1)[:, 0]
        change = 1.0 - out.p_prev[:, 0]
        fire = (change >= params.threshold) & (out.count > params.warmup)
    idx = np.flatnonzero(fire)
    return Detections(series=idx, kind=best[idx] + 1, probability=prob[idx],
                      direction=np.sign(out.prev_error[idx]).astype(np.int64),
                      score=out.score[idx])
