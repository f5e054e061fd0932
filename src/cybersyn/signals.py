"""What the monitor hands to the alerts: one `Signal` per detected change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

KINDS = ("step", "slope", "transient")


@dataclass(frozen=True)
class Signal:
    """A change the monitor believes happened in one indicator.

    kind: 'step' (level shift), 'slope' (change of trend) or 'transient' (one-off outlier).
    probability: posterior probability of that regime, in [0, 1].
    start: when the change began (UTC). detected_at: the observation that revealed it.
    score: the monitor's anomaly score in [0, 1]. direction: +1 up, -1 down.
    """

    indicator_id: str
    kind: str
    probability: float
    start: datetime
    detected_at: datetime
    score: float
    direction: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Expected kind in {KINDS}, got {self.kind!r}.")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"Expected probability in [0, 1], got {self.probability}.")
