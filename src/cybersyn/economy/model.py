"""The model of the economy: a recursion tree of units, products, an input-output system,
indicators attached to units, and districts for the supply committees.

Labelled at the edges (unit ids, product codes), plain arrays inside: `IOSystem` keeps
`product_codes` beside integer-indexed scipy/numpy arrays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp

from cybersyn.errors import InvalidInput

LEVELS = ("nation", "sector", "enterprise", "plant")


@dataclass(frozen=True)
class Unit:
    """A unit of the recursion tree. `parent` is None only for the root (the nation)."""

    id: str
    name: str
    level: str
    parent: str | None = None


@dataclass(frozen=True)
class Product:
    """A product and the unit its quantities are measured in (`tonnes`, `MWh`, `litres`)."""

    code: str
    name: str
    unit_of_measure: str


@dataclass(frozen=True)
class Indicator:
    """A daily measured quantity at a unit.

    For Beer's triple index, `capability` is what the unit could do with existing resources
    and `potentiality` what it ought to do with resources that could be developed; both in
    the indicator's own `unit_of_measure` per day (None when the index does not apply).
    `higher_is_better` says which direction of change is bad news.
    """

    id: str
    unit_id: str
    name: str
    unit_of_measure: str
    capability: float | None = None
    potentiality: float | None = None
    product_code: str | None = None
    higher_is_better: bool = True


@dataclass(frozen=True)
class District:
    """A district (comuna) with one supply committee (JAP) and its registered population."""

    id: str
    name: str
    households: int
    people: int
    children: int
    pregnant_or_nursing: int


class UnitTree:
    """Units in a rooted tree of any depth; validated on construction (one root, no cycles,
    known parents, unique ids)."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._units: dict[str, Unit] = {}
        for u in units:
            if u.id in self._units:
                raise InvalidInput(f"unit {u.id!r}: duplicate id")
            self._units[u.id] = u
        self._children: dict[str, list[str]] = {uid: [] for uid in self._units}
        roots = [u.id for u in self._units.values() if u.parent is None]
        for u in self._units.values():
            if u.parent is not None:
                if u.parent not in self._units:
                    raise InvalidInput(f"unit {u.id!r}: unknown parent {u.parent!r}")
                self._children[u.parent].append(u.id)
        if len(roots) != 1 and self._units:
            raise InvalidInput(f"expected exactly one root unit (no parent), found {len(roots)}")
        self.root = roots[0] if roots else ""
        self._check_acyclic()

    def _check_acyclic(self) -> None:
        reached = set(self.walk()) if self._units else set()
        unreachable = [uid for uid in self._units if uid not in reached]
        if unreachable:
            raise InvalidInput(f"unit {unreachable[0]!r}: its parents form a cycle")

    def __len__(self) -> int:
        return len(self._units)

    def __iter__(self) -> Iterator[Unit]:
        return iter(self._units.values())

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._units

    def __getitem__(self, unit_id: str) -> Unit:
        return self._units[unit_id]

    def children(self, unit_id: str) -> list[Unit]:
        return [self._units[c] for c in self._children[unit_id]]

    def parent(self, unit_id: str) -> Unit | None:
        p = self._units[unit_id].parent
        return None if p is None else self._units[p]

    def ancestors(self, unit_id: str) -> list[Unit]:
        """Parent first, root last."""
        out: list[Unit] = []
        p = self.parent(unit_id)
        while p is not None:
            out.append(p)
            p = self.parent(p.id)
        return out

    def walk(self, start: str | None = None) -> Iterator[str]:
        """Unit ids depth-first from `start` (default the root), parents before children."""
        stack = [start or self.root]
        while stack:
            uid = stack.pop()
            yield uid
            stack.extend(reversed(self._children[uid]))

    def depth(self, unit_id: str) -> int:
        return len(self.ancestors(unit_id))


@dataclass(frozen=True)
class IOSystem:
    """An input-output system over n products.

    A : csr_matrix of shape (n, n); A[i, j] is the quantity of product i used up to make one
        unit of product j (product units of i per unit of j).
    labour : ndarray of shape (n,), hours of labour per unit of product.
    capacity : ndarray of shape (n,), the most that can be made per year (inf if unlimited).
    final_demand : ndarray of shape (n,), units per year for households, investment, export.
    """

    product_codes: tuple[str, ...]
    A: sp.csr_matrix
    labour: np.ndarray
    capacity: np.ndarray
    final_demand: np.ndarray
    index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.product_codes)
        object.__setattr__(self, "A", sp.csr_matrix(self.A, dtype=float))
        if self.A.shape != (n, n):
            raise InvalidInput(f"A has shape {self.A.shape}, expected ({n}, {n})")
        for name in ("labour", "capacity", "final_demand"):
            arr = np.asarray(getattr(self, name), dtype=float)
            if arr.shape != (n,):
                raise InvalidInput(f"{name} has shape {arr.shape}, expected ({n},)")
            object.__setattr__(self, name, arr)
        index = {c: i for i, c in enumerate(self.product_codes)}
        if len(index) != n:
            raise InvalidInput("product codes are not unique")
        object.__setattr__(self, "index", MappingProxyType(index))
        check_coefficients(self)

    @property
    def n(self) -> int:
        return len(self.product_codes)


def check_coefficients(io: IOSystem) -> None:
    """Reject NaN/inf, negative coefficients and a non-productive A (spectral radius >= 1)."""
    data = io.A.data
    if not np.all(np.isfinite(data)):
        i, j = _first_entry(io, ~np.isfinite(data))
        raise InvalidInput(f"A[{io.product_codes[i]}, {io.product_codes[j]}] is not finite")
    if np.any(data < 0):
        i, j = _first_entry(io, data < 0)
        raise InvalidInput(f"A[{io.product_codes[i]}, {io.product_codes[j]}] is negative")
    for name in ("labour", "final_demand"):
        arr = getattr(io, name)
        bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
        if bad.size:
            raise InvalidInput(f"{name} of {io.product_codes[bad[0]]} must be finite and >= 0")
    bad = np.flatnonzero(np.isnan(io.capacity) | (io.capacity < 0))
    if bad.size:
        raise InvalidInput(f"capacity of {io.product_codes[bad[0]]} must be >= 0 (inf allowed)")
    rho = spectral_radius(io.A)
    if rho >= 1.0:
        raise InvalidInput(
            f"A is not productive: spectral radius {rho:.4f} >= 1, so no positive output "
            "can cover its own inputs")


def _first_entry(io: IOSystem, mask: np.ndarray) -> tuple[int, int]:
    k = int(np.flatnonzero(mask)[0])
    row = int(np.searchsorted(io.A.indptr, k, side="right") - 1)
    return row, int(io.A.indices[k])


def spectral_radius(A: sp.spmatrix, tol: float = 1e-10, max_iter: int = 10_000) -> float:
    """Perron root of a non-negative square matrix A of shape (n, n).

    Cheap bound first: rho <= min(max column sum, max row sum). Otherwise power iteration on
    A + I (shift keeps a periodic A convergent), with the Collatz–Wielandt bounds as the
    stopping rule: min_i (Ax)_i/x_i <= rho <= max_i (Ax)_i/x_i for positive x.
    """
    A = sp.csr_matrix(A)
    n = A.shape[0]
    if n == 0 or A.nnz == 0:
        return 0.0
    bound = min(float(abs(A).sum(axis=0).max()), float(abs(A).sum(axis=1).max()))
    if bound < 0.999:
        return _power_rho(A, tol=1e-3, max_iter=200, cap=bound)
    return _power_rho(A, tol=tol, max_iter=max_iter, cap=bound)


def _power_rho(A: sp.csr_matrix, tol: float, max_iter: int, cap: float) -> float:
    """Power iteration on (A + I); returns the upper Collatz–Wielandt bound (conservative)."""
    x = np.ones(A.shape[0])
    hi = cap
    for _ in range(max_iter):
        y = A @ x + x
        ratio = y / x
        lo, hi = float(ratio.min()) - 1.0, min(float(ratio.max()) - 1.0, cap)
        # keep x strictly positive (the bounds need it); parts of a reducible A would
        # otherwise underflow to 0 and give 0/0
        x = np.maximum(y / y.max(), 1e-150)
        if hi - lo <= tol * max(1.0, hi) or (hi < 0.999 and hi - lo < 1e-3):
            break
        if not math.isfinite(hi):
            break
    return max(hi, 0.0)


@dataclass(frozen=True)
class Economy:
    """A whole economy: its unit tree, products, IO system, indicators and districts."""

    name: str
    units: UnitTree
    products: tuple[Product, ...]
    io: IOSystem
    indicators: tuple[Indicator, ...] = ()
    districts: tuple[District, ...] = ()
    producer: Mapping[str, str] = field(default_factory=dict)
    """product code -> unit id of the enterprise that makes it (where known)."""

    def __post_init__(self) -> None:
        codes = tuple(p.code for p in self.products)
        if codes != self.io.product_codes:
            raise InvalidInput("products and IO system list different product codes")
        seen: set[str] = set()
        for ind in self.indicators:
            if ind.id in seen:
                raise InvalidInput(f"indicator {ind.id!r}: duplicate id")
            seen.add(ind.id)
            if ind.unit_id not in self.units:
                raise InvalidInput(f"indicator {ind.id!r}: unknown unit {ind.unit_id!r}")
            _check_triple(ind)
        for code, uid in self.producer.items():
            if code not in self.io.index or uid not in self.units:
                raise InvalidInput(f"producer of {code!r}: unknown product or unit {uid!r}")

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def summary(self) -> dict[str, object]:
        levels: dict[str, int] = {}
        for u in self.units:
            levels[u.level] = levels.get(u.level, 0) + 1
        return {
            "name": self.name,
            "units": len(self.units),
            "units_by_level": levels,
            "products": self.io.n,
            "io_nonzeros": int(self.io.A.nnz),
            "spectral_radius": round(spectral_radius(self.io.A), 4),
            "indicators": len(self.indicators),
            "districts": len(self.districts),
            "people": sum(d.people for d in self.districts),
            "children": sum(d.children for d in self.districts),
        }


def _check_triple(ind: Indicator) -> None:
    for name in ("capability", "potentiality"):
        v = getattr(ind, name)
        if v is not None and (not math.isfinite(v) or v <= 0):
            raise InvalidInput(f"indicator {ind.id!r}: {name} must be a positive number")
    cap, pot = ind.capability, ind.potentiality
    if cap is not None and pot is not None and cap > pot:
        raise InvalidInput(f"indicator {ind.id!r}: capability exceeds potentiality")
