from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cybersyn.economy import Economy, load_economy, write_economy
from cybersyn.errors import DataLoadError


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def small_economy(folder: Path) -> Path:
    _write(folder / "units.csv", ["id", "name", "level", "parent"],
           [["n", "Nation", "nation", ""], ["s", "Steel", "sector", "n"],
            ["e", "Mill", "enterprise", "s"]])
    _write(folder / "products.csv",
           ["code", "name", "unit_of_measure", "labour_hours", "capacity", "final_demand"],
           [["steel", "Steel", "tonnes", "2", "100", "10"],
            ["coal", "Coal", "tonnes", "1", "", "5"]])
    _write(folder / "coefficients.csv", ["input", "output", "amount"],
           [["coal", "steel", "0.5"], ["steel", "coal", "0.1"]])
    return folder


def test_round_trip_through_csv(tmp_path: Path, demo: Economy) -> None:
    write_economy(demo, tmp_path)
    back = load_economy(tmp_path, name=demo.name)
    np.testing.assert_array_equal(back.io.A.toarray(), demo.io.A.toarray())
    assert back.indicators == demo.indicators
    assert back.districts == demo.districts
    assert dict(back.producer) == dict(demo.producer)


def test_small_folder_loads(tmp_path: Path) -> None:
    eco = load_economy(small_economy(tmp_path))
    assert eco.io.n == 2 and np.isinf(eco.io.capacity[1])
    assert eco.io.A[eco.io.index["coal"], eco.io.index["steel"]] == 0.5


@pytest.mark.parametrize(("table", "row", "field", "edit"), [
    ("units.csv", 3, "parent", lambda r: r[1].__setitem__(3, "nowhere")),
    ("units.csv", 2, "parent", lambda r: (r[0].__setitem__(3, "e"))),
    ("coefficients.csv", 2, "amount", lambda r: r[0].__setitem__(2, "-0.3")),
    ("coefficients.csv", 3, "amount", lambda r: r[1].__setitem__(2, "nan")),
    ("products.csv", 3, "final_demand", lambda r: r[1].__setitem__(5, "inf")),
    ("products.csv", 2, "labour_hours", lambda r: r[0].__setitem__(3, "lots")),
    ("coefficients.csv", 2, "input", lambda r: r[0].__setitem__(0, "oil")),
])
def test_bad_file_names_row_and_field(tmp_path: Path, table: str, row: int, field: str,
                                      edit: object) -> None:
    folder = small_economy(tmp_path)
    with (folder / table).open() as f:
        rows = list(csv.reader(f))
    body = rows[1:]
    edit(body)  # type: ignore[operator]
    _write(folder / table, rows[0], body)
    with pytest.raises(DataLoadError) as info:
        load_economy(folder)
    e = info.value
    assert (e.file, e.row, e.field) == (table, row, field)
    assert "\n" not in str(e) and table in str(e) and f"row {row}" in str(e)


def test_cycle_is_named(tmp_path: Path) -> None:
    folder = small_economy(tmp_path)
    _write(folder / "units.csv", ["id", "name", "level", "parent"],
           [["n", "Nation", "nation", ""], ["a", "A", "sector", "b"],
            ["b", "B", "sector", "a"]])
    with pytest.raises(DataLoadError, match="cycle") as info:
        load_economy(folder)
    assert info.value.field == "parent" and info.value.row == 3


def test_non_productive_matrix_rejected(tmp_path: Path) -> None:
    folder = small_economy(tmp_path)
    _write(folder / "coefficients.csv", ["input", "output", "amount"],
           [["coal", "steel", "2"], ["steel", "coal", "0.8"]])
    with pytest.raises(DataLoadError, match="not productive"):
        load_economy(folder)
