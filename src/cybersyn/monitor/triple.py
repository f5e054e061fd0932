"""Beer's triple index (Beer, *Brain of the Firm*, 1972, ch. 10; *Platform for Change*, 1975).

actuality A: what a unit achieves now; capability C: what it could achieve with existing
resources; potentiality P: what it ought to achieve with resources that could be developed.

    productivity = A / C,   latency = C / P,   performance = A / P = productivity * latency

Each is clipped to [0, 1] (an actuality above capability counts as full productivity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INDICES = ("productivity", "latency", "performance")


@dataclass(frozen=True)
class TripleIndex:
    """productivity, latency, performance : ndarrays of one shape, dimensionless in [0, 1]."""

    productivity: np.ndarray
    latency: np.ndarray
    performance: np.ndarray


def triple_index(actuality: np.ndarray, capability: np.ndarray,
                 potentiality: np.ndarray) -> TripleIndex:
    """The triple index of arrays broadcast to one shape (same unit of measure for all three).

    Raises ValueError unless 0 < capability <= potentiality. NaN actuality gives NaN
    productivity and performance (missing stays missing).
    """
    a = np.asarray(actuality, dtype=float)
    c = np.asarray(capability, dtype=float)
    p = np.asarray(potentiality, dtype=float)
    if np.any(~(c > 0)) or np.any(~(c <= p)):
        raise ValueError("Expected 0 < capability <= potentiality for every unit.")
    prod = np.clip(a / c, 0.0, 1.0)
    lat = np.clip(c / p, 0.0, 1.0)
    perf = np.clip(a / p, 0.0, 1.0)
    return TripleIndex(*np.broadcast_arrays(prod, lat, perf))
