"""The fast way in for a JSON batch: typed decoding in C (msgspec) into columns.

A well-formed batch (an array of objects with exactly `indicator` (string), `time`
(string) and `value` (number), or {"observations": [...]}) decodes straight into three
columns, with no Python object per field and no per-row model. Anything else returns
None and the caller takes the slow path (`json` + `validate.check_rows`), which names
every bad row and field: the fast path never decides that a batch is bad.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec


class _Obs(msgspec.Struct, forbid_unknown_fields=True):
    indicator: str
    time: str
    value: float


class _Wrapped(msgspec.Struct, forbid_unknown_fields=True):
    observations: list[_Obs]


_decoder = msgspec.json.Decoder(list[_Obs] | _Wrapped)


@dataclass(frozen=True)
class Columns:
    """A decoded batch as columns of equal length n: indicator ids, raw time strings,
    values (floats; ints become floats; not yet checked for finiteness)."""

    indicators: list[str]
    times: list[str]
    values: list[float]

    def __len__(self) -> int:
        return len(self.indicators)


def decode_columns(body: bytes) -> Columns | None:
    """The batch in `body` as columns, or None when it is not plainly well-formed."""
    try:
        data = _decoder.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return None
    obs = data.observations if isinstance(data, _Wrapped) else data
    return Columns([o.indicator for o in obs], [o.time for o in obs], [o.value for o in obs])
