"""CSV batches: header `indicator,time,value`, one observation a line (header = row 1)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from cybersyn.errors import InvalidInput

HEADER = ("indicator", "time", "value")
FIRST_ROW = 2


def parse_csv(lines: Iterable[str], name: str = "body") -> list[dict[str, str]]:
    """Rows of a CSV text as dicts; the header must name indicator, time and value."""
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInput(f"{name}: empty CSV, expected a header indicator,time,value")
        header = [h.strip().lstrip("\ufeff") for h in header]
        missing = [h for h in HEADER if h not in header]
        if missing:
            raise InvalidInput(f"{name} row 1: header lacks {', '.join(missing)}",
                               errors=[{"row": 1, "field": m, "reason": "missing column"}
                                       for m in missing])
        return [dict(zip(header, rec, strict=False)) for rec in reader]
    except csv.Error as e:
        raise InvalidInput(f"{name} row {reader.line_num}: {e}",
                           errors=[{"row": reader.line_num, "field": "", "reason": str(e)}]
                           ) from None


def parse_csv_bytes(body: bytes) -> list[dict[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidInput(f"body is not UTF-8 text: {e.reason} at byte {e.start}") from None
    return parse_csv(io.StringIO(text, newline=""))
