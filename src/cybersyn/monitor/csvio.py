"""Read one series from any CSV for `cybersyn monitor detect` (labelled edge -> arrays)."""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from cybersyn.errors import DataLoadError

TIME_NAMES = ("timestamp", "time", "date", "datetime", "observed_at")


def _time(text: str) -> float | None:
    """Days since 1970 for an ISO 8601 time, or the number itself; None if neither."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp() / 86400.0


def read_series(path: Path, time_column: str | None,
                value_column: str | None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(time labels, times (T,) in days or row numbers, values (T,)); empty cells are NaN."""
    name = str(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except OSError as e:
        raise DataLoadError(name, None, None, e.strerror or str(e)) from None
    if len(rows) < 2:
        raise DataLoadError(name, None, None, "expected a header row and at least one row")
    header = [h.strip() for h in rows[0]]
    tcol = _pick(name, header, time_column, [h for h in header if h.lower() in TIME_NAMES])
    tname = header[tcol] if tcol is not None else None
    vcol = _pick(name, header, value_column,
                 ["value"] if "value" in header else [h for h in header if h != tname][-1:])
    if vcol is None:
        raise DataLoadError(name, 1, None, "no value column (name one with --value-column)")
    labels, times, values = [], [], []
    for r, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        labels.append(row[tcol] if tcol is not None else str(r - 1))
        times.append(_cell_time(name, r, header, row, tcol))
        values.append(_cell_value(name, r, header[vcol], row, vcol))
    return labels, np.array(times), np.array(values)


def _pick(name: str, header: list[str], wanted: str | None, default: list[str]) -> int | None:
    if wanted is not None:
        if wanted not in header:
            raise DataLoadError(name, 1, wanted, f"no such column (columns: {', '.join(header)})")
        return header.index(wanted)
    return header.index(default[0]) if default else None


def _cell_time(name: str, r: int, header: list[str], row: list[str], col: int | None) -> float:
    if col is None:
        return float(r - 2)
    t = _time(row[col]) if col < len(row) else None
    if t is None or not math.isfinite(t):
        raise DataLoadError(name, r, header[col], "expected an ISO 8601 time or a number")
    return t


def _cell_value(name: str, r: int, field: str, row: list[str], col: int | None) -> float:
    text = row[col].strip() if col is not None and col < len(row) else ""
    if text == "":
        return math.nan
    try:
        v = float(text)
    except ValueError:
        raise DataLoadError(name, r, field, f"expected a number, got {text!r}") from None
    if math.isinf(v):
        raise DataLoadError(name, r, field, "expected a finite number")
    return v
