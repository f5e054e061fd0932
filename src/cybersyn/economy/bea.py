"""The US BEA 2012 benchmark input-output tables (detail level, 405 commodities).

From the Use table U (commodity × industry) and the Make table V (industry × commodity),
the commodity-by-commodity technology under the industry-technology assumption is

    B = U ĝ⁻¹   (inputs per dollar of industry output),  g = industry output
    D = V q̂⁻¹   (market shares of each industry in each commodity), q = commodity output
    A = B D     (commodity × commodity)

(United Nations, *Handbook on Supply and Use Tables and Input-Output Tables*, 2018, ch. 12;
Miller & Blair, *Input-Output Analysis*, 2nd ed., §5.3). Values are millions of US dollars at
producers' prices, so A is in dollars of input per dollar of output. Labour coefficients are
compensation of employees per dollar of output (dollars, not hours: the tables carry no hours).

The Use table holds 14 small negative entries (BEA's scrap and used-goods adjustments, in all
-1,952 of ~$15 trillion); they are set to zero, since a technology coefficient cannot be
negative. Net final demand (exports minus imports included) is clipped at zero likewise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from cybersyn.economy.model import Economy, IOSystem, Product, Unit, UnitTree
from cybersyn.errors import DataLoadError

N_DETAIL = 405
ROW_COMPENSATION = N_DETAIL + 1  # after T005 (total intermediate): V00100, V00200, V00300


def _table(folder: Path, name: str) -> tuple[list[str], np.ndarray]:
    import pyarrow.parquet as pq

    path = folder / f"{name}.parquet"
    if not path.exists():
        raise DataLoadError(str(path), None, None, "file not found")
    t = pq.read_table(path)
    cols = [np.asarray(t.column(i).to_numpy(), dtype=float) for i in range(t.num_columns)]
    return list(t.column_names), np.column_stack(cols)


def _codes(folder: Path, kind: str) -> tuple[list[str], list[str]]:
    import pyarrow.parquet as pq

    rows = pq.read_table(folder / f"Detail_{kind}CodeName_2012.parquet").to_pylist()
    key = f"BEA_2012_Detail_{kind}_"
    return [r[key + "Code"] for r in rows], [r[key + "Name"] for r in rows]


def read_use_make(folder: Path) -> dict[str, np.ndarray | list[str]]:
    """The raw detail tables as arrays (values in millions of USD).

    Returns U (405, 405) commodity × industry, V (405, 405) industry × commodity,
    g (405,) industry output, q (405,) commodity output, compensation (405,) by industry,
    final_demand (405,) by commodity, and the code/name lists.
    """
    use_cols, use = _table(folder, "Detail_Use_2012_PRO_BeforeRedef")
    make_cols, make = _table(folder, "Detail_Make_2012_BeforeRedef")
    com_codes, com_names = _codes(folder, "Commodity")
    ind_codes, _ = _codes(folder, "Industry")
    if use_cols[:N_DETAIL] != ind_codes or make_cols[:N_DETAIL] != com_codes:
        raise DataLoadError("Detail_Use_2012_PRO_BeforeRedef", 1, None,
                            "columns are not in the order of the code files")
    fd_cols = [i for i, c in enumerate(use_cols) if c.startswith("F")]
    for name, arr in (("Use", use), ("Make", make)):
        if not np.all(np.isfinite(arr)):
            raise DataLoadError(name, None, None, "contains NaN or inf")
    return {
        "U": use[:N_DETAIL, :N_DETAIL],
        "V": make[:N_DETAIL, :N_DETAIL],
        "g": use[-1, :N_DETAIL],
        "q": make[-1, :N_DETAIL],
        "compensation": use[ROW_COMPENSATION, :N_DETAIL],
        "final_demand": use[:N_DETAIL, fd_cols].sum(axis=1),
        "commodity_codes": com_codes,
        "commodity_names": com_names,
        "industry_codes": ind_codes,
    }


def published_gross_output(folder: Path, year: str = "2012") -> dict[str, float]:
    """Industry gross output by industry code from `Detail_GrossOutput_IO`.

    Its rows lost their labels in conversion; they are in sorted industry-code order
    (checked: matches the Use table's total output row to rounding).
    """
    import pyarrow.parquet as pq

    values = pq.read_table(folder / "Detail_GrossOutput_IO.parquet").column(year).to_numpy()
    codes, _ = _codes(folder, "Industry")
    return dict(zip(sorted(codes), map(float, values), strict=True))


def _safe_inverse(v: np.ndarray) -> np.ndarray:
    out = np.zeros_like(v)
    np.divide(1.0, v, out=out, where=v > 0)
    return out


def industry_technology_A(U: np.ndarray, V: np.ndarray, g: np.ndarray,
                          q: np.ndarray) -> np.ndarray:
    """A = (U ĝ⁻¹)(V q̂⁻¹), commodity × commodity, shape (n_commodities, n_commodities)."""
    B = U * _safe_inverse(g)[None, :]
    D = V * _safe_inverse(q)[None, :]
    A: np.ndarray = B @ D
    return A


def load_bea_detail(folder: str | Path) -> Economy:
    """The 405-commodity BEA 2012 economy: A, labour (compensation $/$), final demand."""
    folder = Path(folder)
    t = read_use_make(folder)
    U, V, g, q = (np.asarray(t[k]) for k in ("U", "V", "g", "q"))
    U = np.clip(U, 0.0, None)
    A = industry_technology_A(U, V, g, q)
    D = V * _safe_inverse(q)[None, :]
    labour = (np.asarray(t["compensation"]) * _safe_inverse(g)) @ D
    codes = list(t["commodity_codes"])
    names = list(t["commodity_names"])
    A[np.abs(A) < 1e-12] = 0.0
    io = IOSystem(tuple(codes), sp.csr_matrix(A), labour, np.full(len(codes), np.inf),
                  np.clip(np.asarray(t["final_demand"]), 0.0, None))
    products = tuple(Product(c, n, "USD million") for c, n in zip(codes, names, strict=True))
    units = [Unit("US", "United States", "nation")]
    units += [Unit(f"US-{c}", n, "sector", "US") for c, n in zip(codes, names, strict=True)]
    producer = {c: f"US-{c}" for c in codes}
    return Economy("bea2012-detail", UnitTree(units), products, io, producer=producer)
