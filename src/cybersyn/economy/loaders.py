"""Load an economy from a folder of CSV or Parquet tables (format in docs/economy-format.md).

Every problem is reported as a `DataLoadError` naming the file, the row (CSV: the header is
row 1, so the first data row is row 2; Parquet: the first record is row 1) and the field.
Loading is all or nothing: a caller gets an `Economy` or an error, never part of one.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from cybersyn.economy.model import (
    LEVELS,
    District,
    Economy,
    Indicator,
    IOSystem,
    Product,
    Unit,
    UnitTree,
    spectral_radius,
)
from cybersyn.errors import DataLoadError, InvalidInput

Row = dict[str, str]
TABLES = ("units", "products", "coefficients", "indicators", "districts")
REQUIRED = {
    "units": ("id", "name", "level", "parent"),
    "products": ("code", "name", "unit_of_measure", "labour_hours", "capacity", "final_demand"),
    "coefficients": ("input", "output", "amount"),
    "indicators": ("id", "unit", "name", "unit_of_measure"),
    "districts": ("id", "name", "households", "people", "children", "pregnant_or_nursing"),
}


def read_table(path: Path) -> list[tuple[int, Row]]:
    """Rows of a CSV or Parquet file as (row number, {column: text}); values stay text."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        records = pq.read_table(path).to_pylist()
        return [(i + 1, {k: "" if v is None else str(v) for k, v in r.items()})
                for i, r in enumerate(records)]
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return [(i + 2, {k: (v or "").strip() for k, v in r.items() if k is not None})
                for i, r in enumerate(reader)]


def _find(folder: Path, table: str, required: bool = True) -> Path | None:
    for suffix in (".csv", ".parquet"):
        p = folder / f"{table}{suffix}"
        if p.exists():
            return p
    if required:
        raise DataLoadError(str(folder / f"{table}.csv"), None, None, "file not found")
    return None


def _rows(folder: Path, table: str, required: bool = True) -> Iterator[tuple[str, int, Row]]:
    path = _find(folder, table, required)
    if path is None:
        return
    rows = read_table(path)
    if rows:
        missing = [c for c in REQUIRED[table] if c not in rows[0][1]]
        if missing:
            raise DataLoadError(path.name, 1, missing[0], "missing column")
    for n, row in rows:
        yield path.name, n, row


def _number(file: str, n: int, row: Row, fld: str, *, allow_inf: bool = False,
            default: float | None = None) -> float:
    text = row.get(fld, "")
    if text == "" and default is not None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise DataLoadError(file, n, fld, f"not a number: {text!r}") from None
    if math.isnan(value) or (math.isinf(value) and not (allow_inf and value > 0)):
        raise DataLoadError(file, n, fld, f"not a finite number: {text!r}")
    if value < 0:
        raise DataLoadError(file, n, fld, f"negative value {value:g}")
    return value


def _count(file: str, n: int, row: Row, fld: str) -> int:
    value = _number(file, n, row, fld)
    if value != int(value):
        raise DataLoadError(file, n, fld, f"not a whole number: {row[fld]!r}")
    return int(value)


def load_units(folder: Path) -> UnitTree:
    units: list[Unit] = []
    where: dict[str, tuple[str, int]] = {}
    for file, n, row in _rows(folder, "units"):
        uid = row["id"]
        if not uid:
            raise DataLoadError(file, n, "id", "empty")
        if uid in where:
            raise DataLoadError(file, n, "id", f"duplicate unit id {uid!r}")
        if row["level"] not in LEVELS and not row["level"]:
            raise DataLoadError(file, n, "level", "empty")
        where[uid] = (file, n)
        units.append(Unit(uid, row["name"] or uid, row["level"], row["parent"] or None))
    _check_parents(units, where)
    return UnitTree(units)


def _check_parents(units: list[Unit], where: dict[str, tuple[str, int]]) -> None:
    parent = {u.id: u.parent for u in units}
    for u in units:
        if u.parent is not None and u.parent not in parent:
            raise DataLoadError(*where[u.id], "parent", f"unknown parent {u.parent!r}")
    for u in units:
        seen = {u.id}
        p = u.parent
        while p is not None:
            if p in seen:
                raise DataLoadError(*where[u.id], "parent",
                                    f"cycle in the unit tree through {u.id!r} and {p!r}")
            seen.add(p)
            p = parent[p]
    roots = [u.id for u in units if u.parent is None]
    if len(roots) != 1:
        raise DataLoadError(next(iter(where.values()))[0], None, "parent",
                            f"expected exactly one root unit (empty parent), found {len(roots)}")


def load_io(folder: Path) -> tuple[tuple[Product, ...], IOSystem, dict[str, str]]:
    products: list[Product] = []
    labour, capacity, demand = [], [], []
    producer: dict[str, str] = {}
    for file, n, row in _rows(folder, "products"):
        code = row["code"]
        if not code:
            raise DataLoadError(file, n, "code", "empty")
        if any(p.code == code for p in products):
            raise DataLoadError(file, n, "code", f"duplicate product code {code!r}")
        products.append(Product(code, row["name"] or code, row["unit_of_measure"]))
        labour.append(_number(file, n, row, "labour_hours"))
        capacity.append(_number(file, n, row, "capacity", allow_inf=True, default=math.inf))
        demand.append(_number(file, n, row, "final_demand"))
        if row.get("producer"):
            producer[code] = row["producer"]
    index = {p.code: i for i, p in enumerate(products)}
    A = _coefficients(folder, index)
    try:
        io = IOSystem(tuple(index), A, np.array(labour), np.array(capacity), np.array(demand))
    except InvalidInput as e:
        raise DataLoadError("coefficients", None, "amount", e.detail) from None
    return tuple(products), io, producer


def _coefficients(folder: Path, index: dict[str, int]) -> sp.csr_matrix:
    rows, cols, vals = [], [], []
    seen: set[tuple[int, int]] = set()
    name = "coefficients.csv"
    for file, n, row in _rows(folder, "coefficients"):
        name = file
        for fld in ("input", "output"):
            if row[fld] not in index:
                raise DataLoadError(file, n, fld, f"unknown product {row[fld]!r}")
        i, j = index[row["input"]], index[row["output"]]
        if (i, j) in seen:
            raise DataLoadError(file, n, "input", "duplicate coefficient for this pair")
        seen.add((i, j))
        rows.append(i)
        cols.append(j)
        vals.append(_number(file, n, row, "amount"))
    size = len(index)
    A = sp.csr_matrix((vals, (rows, cols)), shape=(size, size))
    rho = spectral_radius(A)
    if rho >= 1.0:
        raise DataLoadError(name, None, "amount",
                            f"A is not productive: spectral radius {rho:.4f} >= 1")
    return A


def load_indicators(folder: Path, units: UnitTree) -> tuple[Indicator, ...]:
    out: list[Indicator] = []
    for file, n, row in _rows(folder, "indicators", required=False):
        if row["unit"] not in units:
            raise DataLoadError(file, n, "unit", f"unknown unit {row['unit']!r}")
        cap = _optional(file, n, row, "capability")
        pot = _optional(file, n, row, "potentiality")
        if cap is not None and pot is not None and cap > pot:
            raise DataLoadError(file, n, "capability", "exceeds potentiality")
        hib = row.get("higher_is_better", "true").lower() not in ("false", "0", "no")
        out.append(Indicator(row["id"], row["unit"], row["name"], row["unit_of_measure"],
                             cap, pot, row.get("product") or None, hib))
    return tuple(out)


def _optional(file: str, n: int, row: Row, fld: str) -> float | None:
    if not row.get(fld):
        return None
    value = _number(file, n, row, fld)
    if value == 0:
        raise DataLoadError(file, n, fld, "must be positive")
    return value


def load_districts(folder: Path) -> tuple[District, ...]:
    out: list[District] = []
    for file, n, row in _rows(folder, "districts", required=False):
        counts = [_count(file, n, row, f) for f in REQUIRED["districts"][2:]]
        out.append(District(row["id"], row["name"], *counts))
    return tuple(out)


def load_economy(folder: str | Path, name: str | None = None) -> Economy:
    """Read units, products, coefficients (+ optional indicators, districts) from `folder`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataLoadError(str(folder), None, None, "not a folder")
    units = load_units(folder)
    products, io, producer = load_io(folder)
    indicators = load_indicators(folder, units)
    districts = load_districts(folder)
    for _code, uid in producer.items():
        if uid not in units:
            raise DataLoadError("products", None, "producer", f"unknown unit {uid!r}")
    return Economy(name or folder.name, units, products, io, indicators, districts, producer)


def write_economy(economy: Economy, folder: str | Path) -> None:
    """Write `economy` in the same CSV format `load_economy` reads (round-trips exactly)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    io = economy.io
    _write(folder / "units.csv", REQUIRED["units"],
           [(u.id, u.name, u.level, u.parent or "") for u in economy.units])
    _write(folder / "products.csv", (*REQUIRED["products"], "producer"),
           [(p.code, p.name, p.unit_of_measure, repr(float(io.labour[i])),
             repr(float(io.capacity[i])), repr(float(io.final_demand[i])),
             economy.producer.get(p.code, ""))
            for i, p in enumerate(economy.products)])
    coo = io.A.tocoo()
    _write(folder / "coefficients.csv", REQUIRED["coefficients"],
           [(io.product_codes[i], io.product_codes[j], repr(float(v)))
            for i, j, v in zip(coo.row, coo.col, coo.data, strict=True)])
    _write(folder / "indicators.csv",
           ("id", "unit", "name", "unit_of_measure", "capability", "potentiality", "product",
            "higher_is_better"),
           [(i.id, i.unit_id, i.name, i.unit_of_measure, _opt(i.capability),
             _opt(i.potentiality), i.product_code or "", str(i.higher_is_better).lower())
            for i in economy.indicators])
    _write(folder / "districts.csv", REQUIRED["districts"],
           [(d.id, d.name, d.households, d.people, d.children, d.pregnant_or_nursing)
            for d in economy.districts])


def _opt(v: float | None) -> str:
    return "" if v is None else repr(v)


def _write(path: Path, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
