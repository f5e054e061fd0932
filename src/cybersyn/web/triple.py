"""Beer's triple index of a unit's output (Beer, *Brain of the Firm*, 1972, ch. 10; *Platform
for Change*, 1975): actuality (what is done), capability (what could be done now with
existing resources) and potentiality (what ought to be done with resources that could be
developed). productivity = actuality / capability, latency = capability / potentiality,
performance = actuality / potentiality = productivity x latency. All three in [0, 1] when
actuality <= capability <= potentiality.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Triple:
    actuality: float
    capability: float
    potentiality: float

    @property
    def productivity(self) -> float:
        return self.actuality / self.capability

    @property
    def latency(self) -> float:
        return self.capability / self.potentiality

    @property
    def performance(self) -> float:
        return self.actuality / self.potentiality


def triple_index(values: Sequence[float], capability: float | None,
                 potentiality: float | None, window: int = 7) -> Triple | None:
    """The triple index with actuality = mean of the last `window` values (same unit of
    measure per day as capability and potentiality); None when it does not apply."""
    if not values or not capability or not potentiality:
        return None
    recent = list(values)[-window:]
    return Triple(sum(recent) / len(recent), capability, potentiality)
