"""Validation of a batch of raw rows {indicator, time, value}: pure, no I/O, no clock.

Every bad row and field is named ({"row", "field", "reason"}); the batch is accepted only
when no row is bad. Rows are numbered by their position in the batch as the caller
numbers them (`first_row`: 0 for a JSON array, 2 for a CSV file whose header is row 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Row = tuple[str, datetime, float]
Error = dict[str, object]
MAX_ID = 160
MAX_TIME = 40


@dataclass(frozen=True)
class Checked:
    """rows: the parsed rows (indicator id, aware UTC time, value), in batch order.
    errors: one {"row", "field", "reason"} per problem, in batch order."""

    rows: list[Row]
    errors: list[Error]


def parse_time(raw: object) -> datetime:
    """ISO 8601 with a UTC offset ('1972-08-01T00:00:00Z'), or a date ('1972-08-01') meaning
    midnight UTC; raises ValueError with the reason otherwise."""
    if isinstance(raw, datetime):
        t = raw
    elif not isinstance(raw, str) or len(raw) > MAX_TIME:
        raise ValueError("expected an ISO 8601 string such as 1972-08-01T00:00:00Z")
    elif len(raw) == 10:
        t = datetime.fromisoformat(raw).replace(tzinfo=UTC)
    else:
        t = datetime.fromisoformat(raw)
    if t.tzinfo is None:
        raise ValueError("time has no UTC offset: add 'Z' or '+00:00'")
    return t.astimezone(UTC)


def parse_value(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError("expected a number")
    try:
        v = float(raw)
    except ValueError:
        raise ValueError("expected a number") from None
    if not math.isfinite(v):
        raise ValueError("value is not finite")
    return v


def check_rows(raw_rows: Sequence[object], known: Callable[[str], bool], now: datetime,
               max_future: timedelta, first_row: int = 0, max_errors: int = 1000) -> Checked:
    """Parse and check `raw_rows` (mappings with keys indicator, time, value).

    known(indicator_id) says whether the indicator exists. A time later than
    now + max_future is refused; an (indicator, time) pair seen earlier in the batch is
    a duplicate. At most `max_errors` errors are listed."""
    rows: list[Row] = []
    errors: list[Error] = []
    seen: dict[tuple[str, datetime], int] = {}
    limit = now + max_future
    times: dict[str, datetime] = {}
    for k, raw in enumerate(raw_rows):
        n = k + first_row
        row = _fast(raw, known, limit, times)
        row_errors: list[Error] = []
        if row is None:
            row, row_errors = _check_one(raw, n, known, limit)
        if row is not None:
            first = seen.setdefault((row[0], row[1]), n)
            if first != n:
                row_errors.append(_err(n, "time", f"duplicate in the batch: same indicator "
                                                  f"and time as row {first}"))
        if row_errors:
            errors.extend(row_errors[: max(0, max_errors - len(errors))])
        elif row is not None:
            rows.append(row)
    return Checked(rows, errors)


def check_columns(indicators: Sequence[str], times: Sequence[str], values: Sequence[float],
                  known: Callable[[str], bool], now: datetime,
                  max_future: timedelta) -> list[Row] | None:
    """The parsed rows when every row of a decoded batch (columns of equal length n, see
    `decode.Columns`) is plainly good, else None: the caller then runs `check_rows`,
    which names what is wrong. Each distinct time string is parsed once (a batch repeats
    a few), each distinct indicator looked up once; O(n) dictionary work otherwise."""
    limit = now + max_future
    parsed: dict[str, datetime] = {}
    for raw in set(times):
        try:
            t = parse_time(raw)
        except ValueError:
            return None
        if t > limit:
            return None
        parsed[raw] = t
    if not all(map(known, set(indicators))) or not all(map(math.isfinite, values)):
        return None
    rows = list(zip(indicators, map(parsed.__getitem__, times), values, strict=True))
    if len({(i, t) for i, t, _v in rows}) != len(rows):
        return None  # a duplicate in the batch
    return rows


def _fast(raw: object, known: Callable[[str], bool], limit: datetime,
          times: dict[str, datetime]) -> Row | None:
    """The row when it is plainly good (the common case, cheap), else None: the caller then
    runs the full check, which names what is wrong. Parsed times are cached per string, as
    a batch usually repeats a few."""
    if type(raw) is not dict or len(raw) != 3:
        return None
    ind, t_raw, v = raw.get("indicator"), raw.get("time"), raw.get("value")
    if type(ind) is not str or type(t_raw) is not str or type(v) not in (int, float):
        return None
    t = times.get(t_raw)
    if t is None:
        try:
            t = times[t_raw] = parse_time(t_raw)
        except ValueError:
            return None
    fv = float(v)  # type: ignore[arg-type]  # int or float, checked above
    if t > limit or not known(ind) or not math.isfinite(fv):
        return None
    return ind, t, fv


def _err(row: int, field: str, reason: str) -> Error:
    return {"row": row, "field": field, "reason": reason}


def _check_one(raw: object, n: int, known: Callable[[str], bool],
               limit: datetime) -> tuple[Row | None, list[Error]]:
    if not isinstance(raw, Mapping):
        return None, [_err(n, "", "expected an object with indicator, time and value")]
    errors: list[Error] = []
    ind = _indicator(raw.get("indicator"), known)
    if isinstance(ind, str) and ind.startswith("!"):
        errors.append(_err(n, "indicator", ind[1:]))
    t = _field(raw, "time", parse_time, errors, n)
    if isinstance(t, datetime) and t > limit:
        errors.append(_err(n, "time", f"{t.isoformat()} is too far in the future "
                                      f"(later than {limit.isoformat()})"))
    v = _field(raw, "value", parse_value, errors, n)
    extra = set(raw) - {"indicator", "time", "value"}
    if extra:
        errors.append(_err(n, sorted(extra)[0][:40], "unknown field"))
    if errors:
        return None, errors
    return (str(ind), t, v), []


def _indicator(raw: object, known: Callable[[str], bool]) -> str:
    """The indicator id, or '!' + reason."""
    if raw is None:
        return "!missing"
    if not isinstance(raw, str) or len(raw) > MAX_ID:
        return f"!expected an indicator id (a string of at most {MAX_ID} characters)"
    if not known(raw):
        return f"!unknown indicator {raw!r}"
    return raw


def _field(raw: Mapping[str, Any], name: str, parse: Callable[[object], Any],
           errors: list[Error], n: int) -> Any:
    if name not in raw or raw[name] is None:
        errors.append(_err(n, name, "missing"))
        return None
    try:
        return parse(raw[name])
    except ValueError as e:
        errors.append(_err(n, name, str(e) or "invalid"))
        return None
