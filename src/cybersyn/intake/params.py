"""Limits of the intake, as one validated frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IntakeParams:
    """max_rows: observations per batch (more is refused with 413).
    max_body_bytes: request body size cap, checked while reading (413 beyond it).
    max_future_s: how far past the server clock an observation's time may lie, seconds
    (clock skew allowance; a daily report is stamped with its day, never tomorrow).
    max_errors: how many bad rows a 422 answer lists (the count of all is in `detail`)."""

    max_rows: int = 10_000
    max_body_bytes: int = 4 * 1024 * 1024
    max_future_s: float = 3600.0
    max_errors: int = 1000

    def __post_init__(self) -> None:
        if self.max_rows < 1:
            raise ValueError(f"Expected max_rows >= 1, got {self.max_rows}.")
        if self.max_body_bytes < 1024:
            raise ValueError(f"Expected max_body_bytes >= 1024, got {self.max_body_bytes}.")
        if not self.max_future_s >= 0:
            raise ValueError(f"Expected max_future_s >= 0, got {self.max_future_s}.")
        if self.max_errors < 1:
            raise ValueError(f"Expected max_errors >= 1, got {self.max_errors}.")


DEFAULT_PARAMS = IntakeParams()
