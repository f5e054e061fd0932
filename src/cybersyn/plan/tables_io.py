"""Loaders for real input-output tables into `IOSystem`s the plan core can use.

- `load_bea_sector(folder)`: BEA 2012 benchmark, sector level (15 industries, 17 commodities
  incl. "Used" and "Other"), by the industry-technology assumption as for the detail table
  (`cybersyn.economy.bea`): A = (U ĝ⁻¹)(V q̂⁻¹). Labour = compensation per dollar of output.
- `load_wiod(path)`: World Input-Output Table 2011 (WIOD 2013 release, 41 regions × 35
  industries = 1,435 sector-regions), symmetric industry × industry: A = Z x̂⁻¹, values in
  millions of USD. WIOD's core table carries no hours or compensation, so "labour" is value
  added per dollar of output (1 − column sum of A), a stand-in the docs state plainly.
- `symmetric_io(codes, Z, x, ...)`: any symmetric table given flows Z and outputs x
  (CSV/Parquet via `load_symmetric_table`, or a pymrio `IOSystem` via `from_pymrio`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from cybersyn.economy.model import IOSystem
from cybersyn.errors import DataLoadError


def _inverse(v: np.ndarray) -> np.ndarray:
    out = np.zeros_like(v, dtype=float)
    np.divide(1.0, v, out=out, where=v > 0)
    return out


def symmetric_io(codes: list[str], Z: np.ndarray, x: np.ndarray, *,
                 labour: np.ndarray | None = None,
                 final_demand: np.ndarray | None = None) -> IOSystem:
    """An IOSystem from a symmetric table: Z (n, n) flows from row to column product,
    x (n,) gross outputs (same money or physical units). A = Z x̂⁻¹; labour defaults to value
    added per unit of output (1 − Σᵢ Aᵢⱼ, clipped at 0); final demand to x − Z 1 (≥ 0)."""
    Z = np.clip(np.asarray(Z, dtype=float), 0.0, None)
    x = np.asarray(x, dtype=float)
    n = len(codes)
    if Z.shape != (n, n) or x.shape != (n,):
        raise DataLoadError("table", None, None,
                            f"flows {Z.shape} and outputs {x.shape} do not match {n} codes")
    A = Z * _inverse(x)[None, :]
    A[:, x <= 0] = 0.0
    if labour is None:
        labour = np.clip(1.0 - A.sum(axis=0), 0.0, None)
    if final_demand is None:
        final_demand = np.clip(x - Z.sum(axis=1), 0.0, None)
    return IOSystem(tuple(codes), sp.csr_matrix(A), labour, np.full(n, np.inf),
                    np.clip(np.asarray(final_demand, dtype=float), 0.0, None))


def load_bea_sector(folder: str | Path) -> IOSystem:
    """BEA 2012 sector-level tables (Sector_Use/Make_2012_*), 17 commodities."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    files = {k: folder / f"Sector_{k}.parquet" for k in
             ("Use_2012_PRO_BeforeRedef", "Make_2012_BeforeRedef", "CommodityCodeName_2012",
              "IndustryCodeName_2012")}
    for path in files.values():
        if not path.exists():
            raise DataLoadError(str(path), None, None, "file not found")
    use = pq.read_table(files["Use_2012_PRO_BeforeRedef"])
    make = pq.read_table(files["Make_2012_BeforeRedef"])
    com = [r["BEA_2012_Sector_Commodity_Code"] for r in
           pq.read_table(files["CommodityCodeName_2012"]).to_pylist()]
    ind = [r["BEA_2012_Sector_Industry_Code"] for r in
           pq.read_table(files["IndustryCodeName_2012"]).to_pylist()]
    U = _matrix(use)
    V = _matrix(make)
    nc, ni = len(com), len(ind)
    if list(use.column_names[:ni]) != ind or list(make.column_names[:nc]) != com:
        raise DataLoadError("Sector_Use_2012_PRO_BeforeRedef", 1, None,
                            "columns are not in the order of the code files")
    g = U[-1, :ni]                      # total industry output
    q = V[-1, :nc]                      # total commodity output
    B = np.clip(U[:nc, :ni], 0.0, None) * _inverse(g)[None, :]
    D = V[:ni, :nc] * _inverse(q)[None, :]
    A = B @ D
    compensation = U[nc + 1, :ni]       # V001 after T005 (total intermediate)
    labour = np.clip((compensation * _inverse(g)) @ D, 0.0, None)
    fd_cols = [k for k, c in enumerate(use.column_names) if c.startswith("F")]
    fd = np.clip(U[:nc, fd_cols].sum(axis=1), 0.0, None)
    A[np.abs(A) < 1e-12] = 0.0
    return IOSystem(tuple(com), sp.csr_matrix(A), labour, np.full(nc, np.inf), fd)


def _matrix(table: Any) -> np.ndarray:
    cols = [np.nan_to_num(np.asarray(table.column(i).to_numpy(zero_copy_only=False),
                                     dtype=float)) for i in range(table.num_columns)]
    return np.column_stack(cols)


def load_wiod(path: str | Path) -> IOSystem:
    """The WIOD 2013-release world table of one year (wiot_YYYY.RData, read with rdata)."""
    import warnings

    import rdata

    path = Path(path)
    if not path.exists():
        raise DataLoadError(str(path), None, None, "file not found")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # rdata: no constructor for R class "iot"
        data = rdata.read_rda(str(path))
    obj = next(iter(data.values()))
    countries = [str(c) for c in obj["countries"]]
    industries = [str(i) for i in obj["industries"]]
    codes = [f"{c}.{i}" for c in countries for i in industries]
    Z = np.asarray(obj["inter"], dtype=float)
    x = np.asarray(obj["output"], dtype=float)
    fd = np.asarray(obj["final"], dtype=float).sum(axis=1)
    return symmetric_io(codes, Z, x, final_demand=fd)


def load_symmetric_table(path: str | Path) -> IOSystem:
    """A symmetric table from CSV or Parquet in long form: columns `input,output,flow`
    (flows) plus a file `<stem>_output.<suffix>` with columns `code,output` (gross output)
    and optionally `labour`, `final_demand`. See docs/plan.md for the recipe."""
    from cybersyn.economy.loaders import read_table

    path = Path(path)
    out_path = path.with_name(f"{path.stem}_output{path.suffix}")
    for p in (path, out_path):
        if not p.exists():
            raise DataLoadError(str(p), None, None, "file not found")
    rows = read_table(out_path)
    codes = [r["code"] for _, r in rows]
    index = {c: k for k, c in enumerate(codes)}
    x = np.array([_num(out_path.name, k, r, "output") for k, r in rows])
    labour = (np.array([_num(out_path.name, k, r, "labour") for k, r in rows])
              if rows and "labour" in rows[0][1] else None)
    fd = (np.array([_num(out_path.name, k, r, "final_demand") for k, r in rows])
          if rows and "final_demand" in rows[0][1] else None)
    Z = np.zeros((len(codes), len(codes)))
    for k, r in read_table(path):
        for fld in ("input", "output"):
            if r.get(fld) not in index:
                raise DataLoadError(path.name, k, fld, f"unknown code {r.get(fld)!r}")
        Z[index[r["input"]], index[r["output"]]] += _num(path.name, k, r, "flow")
    return symmetric_io(codes, Z, x, labour=labour, final_demand=fd)


def _num(file: str, row: int, r: dict[str, str], fld: str) -> float:
    try:
        v = float(r[fld])
    except (KeyError, ValueError):
        raise DataLoadError(file, row, fld, f"not a number: {r.get(fld)!r}") from None
    if not np.isfinite(v):
        raise DataLoadError(file, row, fld, "not a finite number")
    return v


def from_pymrio(mrio: Any) -> IOSystem:
    """An IOSystem from a pymrio `IOSystem` (after `calc_all()` or with Z and x set):
    sector-regions become products `region.sector`."""
    Z = mrio.Z
    x = np.asarray(mrio.x).ravel()
    codes = [f"{r}.{s}" for r, s in Z.index]
    fd = np.asarray(mrio.Y.sum(axis=1)) if getattr(mrio, "Y", None) is not None else None
    return symmetric_io(codes, np.asarray(Z), x, final_demand=fd)
