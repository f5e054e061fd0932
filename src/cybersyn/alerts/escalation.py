"""Escalation, as a pure function of the tree, the deadline and the clock.

Beer's algedonic signal (Brain of the Firm, 2nd ed. 1981, ch. 15; Platform for Change
1975): an alarm arises where the trouble is and goes up one level of the recursion only
if the level that holds it does not act within its response time. The parent's response
time runs from the moment the child's deadline passed, not from when someone noticed, so
the outcome does not depend on how often escalation runs (cron every minute or every day):
running at t1 then t2 gives the same result as running once at t2.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType

DEFAULT_RESPONSE_DAYS = MappingProxyType(
    {"plant": 1.0, "enterprise": 2.0, "sector": 3.0, "nation": 5.0})


@dataclass(frozen=True)
class EscalationParams:
    """response_days: days the holder at each level has to acknowledge an alert
    (default plant 1, enterprise 2, sector 3, nation 5); other_days: for levels not named."""

    response_days: Mapping[str, float] = field(default_factory=lambda: DEFAULT_RESPONSE_DAYS)
    other_days: float = 2.0

    def __post_init__(self) -> None:
        for level, days in {**self.response_days, "other_days": self.other_days}.items():
            if not isinstance(days, int | float) or not 0 < days <= 365:
                raise ValueError(f"Expected response days in (0, 365] for {level}, got {days}.")
        object.__setattr__(self, "response_days", MappingProxyType(dict(self.response_days)))

    def response(self, level: str) -> timedelta:
        return timedelta(days=self.response_days.get(level, self.other_days))

    @classmethod
    def from_toml(cls, path: Path) -> EscalationParams:
        """A file with a table `[response_days]` (level = days) and optional `other_days`."""
        data = tomllib.loads(path.read_text())
        return cls({**DEFAULT_RESPONSE_DAYS, **data.get("response_days", {})},
                   data.get("other_days", 2.0))


@dataclass(frozen=True)
class Step:
    """One escalation: from `from_unit` (whose deadline `missed` passed) to `to_unit`, which
    must act before `deadline`."""

    from_unit: str
    to_unit: str
    missed: datetime
    deadline: datetime


def climb(unit: str, deadline: datetime, now: datetime, parent: Callable[[str], str | None],
          level: Callable[[str], str], params: EscalationParams) -> list[Step]:
    """The escalations an unacknowledged alert held by `unit` undergoes by `now`: one level
    per missed deadline, in order, stopping at the root (which keeps it)."""
    steps: list[Step] = []
    while now >= deadline:
        up = parent(unit)
        if up is None:
            break
        nxt = deadline + params.response(level(up))
        steps.append(Step(unit, up, deadline, nxt))
        unit, deadline = up, nxt
    return steps
