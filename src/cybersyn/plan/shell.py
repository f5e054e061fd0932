"""Between labelled data (economies, target files) and the numerical core's arrays."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from cybersyn.economy.model import Economy
from cybersyn.errors import DataLoadError
from cybersyn.plan.leontief import leontief_output
from cybersyn.plan.problem import PlanProblem

DEMO_GROWTH = 1.12      # final demand grew ~12% in 1971 (Bitar, *Chile 1970-73*, ch. 4)
DEMO_LABOUR = 1.10      # hours available: 10% above those the base year's demand needs


def base_labour(economy: Economy) -> float:
    """Hours needed to make the economy's own final demand, l·(I − A)⁻¹ f."""
    io = economy.io
    return float(io.labour @ leontief_output(io.A, io.final_demand))


def problem_from_economy(economy: Economy, targets: np.ndarray | None = None, *,
                         labour_available: float | None = None,
                         weights: np.ndarray | None = None) -> PlanProblem:
    """A PlanProblem over the economy's products; targets default to final demand × 1.12,
    labour available to 1.10 × the hours the base year's final demand needs; harmony weights
    default to each target's share of the labour the targets embody (`value_weights`)."""
    io = economy.io
    t = io.final_demand * DEMO_GROWTH if targets is None else targets
    L = DEMO_LABOUR * base_labour(economy) if labour_available is None else labour_available
    if weights is None:
        weights = value_weights(io.A, io.labour, t)
    return PlanProblem(io.A, io.labour, t, labour_available=L, capacity=io.capacity,
                       weights=weights, product_names=io.product_codes,
                       activity_names=activity_names(economy))


def activity_names(economy: Economy) -> tuple[str, ...]:
    """`sugar at IANSA Los Ángeles`: each product with the enterprise that makes it."""
    out = []
    for code in economy.io.product_codes:
        unit = economy.producer.get(code)
        out.append(f"{code} at {economy.units[unit].name}" if unit else code)
    return tuple(out)


def read_targets(path: str | Path, economy: Economy) -> np.ndarray:
    """Targets from a CSV with columns `product,target` (products not listed get their final
    demand); errors name the file, row and field."""
    path = Path(path)
    if not path.exists():
        raise DataLoadError(str(path), None, None, "file not found")
    io = economy.io
    t = io.final_demand.copy()
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for col in ("product", "target"):
            if col not in (reader.fieldnames or []):
                raise DataLoadError(path.name, 1, col, "missing column")
        for k, row in enumerate(reader, start=2):
            code = (row["product"] or "").strip()
            if code not in io.index:
                raise DataLoadError(path.name, k, "product", f"unknown product {code!r}")
            try:
                value = float(row["target"])
            except (TypeError, ValueError):
                raise DataLoadError(path.name, k, "target",
                                    f"not a number: {row['target']!r}") from None
            if not math.isfinite(value) or value < 0:
                raise DataLoadError(path.name, k, "target", "must be a finite number >= 0")
            t[io.index[code]] = value
    return t


def value_weights(A: object, labour: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Harmony weights wᵢ = n · vᵢtᵢ / Σ vₖtₖ (labour values v): a target weighs what it
    costs society, so with labour the only limit the harmony plan is the proportional one."""
    from cybersyn.plan.leontief import labour_values

    vt = labour_values(A, labour) * np.asarray(targets, dtype=float)
    total = float(vt.sum())
    if total <= 0:
        return np.ones_like(vt)
    return np.asarray(np.maximum(vt * (vt.size / total), 1e-12))
