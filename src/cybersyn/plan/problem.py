"""The one-period planning problem and its result, as validated frozen dataclasses.

Activities j = 0..m-1 (one per product when each product has one technique) run at levels
x ≥ 0. Per unit of activity j:
    A[:, j]  inputs used (product units), shape (n, m);
    B[:, j]  outputs made (product units), shape (n, m); None means B = I (m = n);
    labour[j] hours of labour;
    resources[:, j] use of other scarce resources (imports, machine-days), shape (k, m).
Net output is (B − A) x. Constraints: labour · x ≤ labour_available,
resources x ≤ resource_limits, x ≤ capacity (inf = unlimited).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from cybersyn.errors import InvalidInput


def _vec(name: str, v: object, size: int, *, allow_inf: bool = False) -> np.ndarray:
    arr = np.asarray(v, dtype=float).reshape(-1) if np.ndim(v) else np.full(size, float(v))  # type: ignore[arg-type]
    if arr.shape != (size,):
        raise InvalidInput(f"{name} has shape {arr.shape}, expected ({size},)")
    bad = np.isnan(arr) | (arr < 0) | (np.isinf(arr) & (not allow_inf))
    if np.any(bad):
        raise InvalidInput(f"{name}[{int(np.flatnonzero(bad)[0])}] must be finite and >= 0"
                           + (" (inf allowed)" if allow_inf else ""))
    return arr


@dataclass(frozen=True)
class PlanProblem:
    """A one-period plan: technology, limits and targets (see module docstring for shapes).

    targets : (n,) net output wanted, product units per period.
    weights : (n,) importance of each target for the harmony objective (default 1).
    product_names, activity_names, resource_names: labels for explanations.
    """

    A: sp.csr_matrix
    labour: np.ndarray
    targets: np.ndarray
    labour_available: float = np.inf
    capacity: np.ndarray | None = None
    B: sp.csr_matrix | None = None
    resources: sp.csr_matrix | None = None
    resource_limits: np.ndarray | None = None
    weights: np.ndarray | None = None
    product_names: tuple[str, ...] = ()
    activity_names: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    _checked: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        A = sp.csr_matrix(self.A, dtype=float)
        n, m = A.shape
        set_ = object.__setattr__
        set_(self, "A", A)
        if self.B is not None:
            B = sp.csr_matrix(self.B, dtype=float)
            if B.shape != (n, m):
                raise InvalidInput(f"B has shape {B.shape}, expected ({n}, {m})")
            set_(self, "B", B)
        elif n != m:
            raise InvalidInput(f"A has shape {A.shape}: without B it must be square")
        if A.nnz and (not np.all(np.isfinite(A.data)) or A.data.min() < 0):
            raise InvalidInput("A must have finite, non-negative coefficients")
        set_(self, "labour", _vec("labour", self.labour, m))
        set_(self, "targets", _vec("targets", self.targets, n))
        set_(self, "capacity", _vec("capacity", np.inf if self.capacity is None
                                    else self.capacity, m, allow_inf=True))
        set_(self, "weights", _vec("weights", 1.0 if self.weights is None else self.weights, n))
        if not self.labour_available >= 0:
            raise InvalidInput("labour_available must be >= 0 (inf allowed)")
        self._check_resources(m)
        self._check_names(n, m)

    def _check_resources(self, m: int) -> None:
        if self.resources is None:
            object.__setattr__(self, "resources", sp.csr_matrix((0, m)))
            object.__setattr__(self, "resource_limits", np.zeros(0))
            return
        R = sp.csr_matrix(self.resources, dtype=float)
        if R.shape[1] != m:
            raise InvalidInput(f"resources has shape {R.shape}, expected (k, {m})")
        object.__setattr__(self, "resources", R)
        limits = np.zeros(0) if self.resource_limits is None else self.resource_limits
        object.__setattr__(self, "resource_limits",
                           _vec("resource_limits", limits, R.shape[0], allow_inf=True))

    def _check_names(self, n: int, m: int) -> None:
        names = self.product_names or tuple(f"product {i}" for i in range(n))
        acts = self.activity_names or (names if self.B is None else
                                       tuple(f"activity {j}" for j in range(m)))
        k = self.resources.shape[0] if self.resources is not None else 0
        res = self.resource_names or tuple(f"resource {r}" for r in range(k))
        for label, got, want in (("product_names", names, n), ("activity_names", acts, m),
                                 ("resource_names", res, k)):
            if len(got) != want:
                raise InvalidInput(f"{label} has {len(got)} names, expected {want}")
        object.__setattr__(self, "product_names", tuple(names))
        object.__setattr__(self, "activity_names", tuple(acts))
        object.__setattr__(self, "resource_names", tuple(res))

    def check_productive(self) -> None:
        """Raise InvalidInput if one-technique A is not productive (cheap when every column
        sums below 1, the usual case for tables in money)."""
        if not self.square or self.A.nnz == 0:
            return
        if float(np.asarray(self.A.sum(axis=0)).max()) < 1.0:
            return
        from cybersyn.plan.leontief import check_productive

        check_productive(self.A, self.product_names)

    @property
    def n(self) -> int:
        return int(self.A.shape[0])

    @property
    def m(self) -> int:
        return int(self.A.shape[1])

    @property
    def square(self) -> bool:
        """One technique per product (B = I), so Leontief's results apply."""
        return self.B is None

    def net_matrix(self) -> sp.csr_matrix:
        """B − A of shape (n, m): net output per unit of each activity."""
        B = sp.identity(self.n, format="csr") if self.B is None else self.B
        return sp.csr_matrix(B - self.A)

    def net_output(self, x: np.ndarray) -> np.ndarray:
        """(B − A) x, shape (n,), for activity levels x of shape (m,)."""
        if self.B is None:
            return np.asarray(x - self.A @ x)
        return np.asarray(self.B @ x - self.A @ x)

    def with_targets(self, targets: np.ndarray) -> PlanProblem:
        from dataclasses import replace

        return replace(self, targets=targets)


@dataclass(frozen=True)
class Binding:
    """A constraint that limits the plan, with its shadow price.

    kind : "labour", "capacity", "resource" or "balance".
    name : what it is about (activity, resource or product name).
    shadow_price : gain in the objective per extra unit of the limit (objective units per
        unit of limit: for Kantorovich, λ per hour / per unit of capacity).
    gain : for Kantorovich, extra units of `product` per extra unit of the limit.
    """

    kind: str
    name: str
    limit: float
    shadow_price: float
    product: str = ""
    gain: float = 0.0

    def sentence(self) -> str:
        what = {"labour": "labour available", "capacity": f"capacity of {self.name}",
                "resource": f"{self.name} available", "balance": f"the balance of {self.name}"
                }[self.kind]
        unit = "hour" if self.kind == "labour" else "unit"
        text = f"{what} binds (limit {self.limit:,.6g})"
        if self.product and self.gain:
            return (text + f": one more {unit} yields {self.gain:.4g} more units of "
                    f"{self.product} (and of every target in proportion)")
        return text + f": shadow price {self.shadow_price:.4g} per {unit}"


@dataclass(frozen=True)
class PlanResult:
    """A solved plan.

    x : (m,) activity levels (gross outputs when square), product units per period.
    net : (n,) net output (B − A) x.
    objective : "kantorovich" or "harmony" or "multi-period".
    value : the objective value (λ for Kantorovich, Σ wᵢ H(sᵢ) for harmony).
    lam : λ, the share of every target met when met in proportion (for harmony: min net/t).
    prices : (n,) shadow prices of products (objective units per product unit).
    labour_price : shadow price of one more hour of labour.
    capacity_prices : (m,) shadow prices of capacity; resource_prices : (k,).
    binding : the binding constraints, largest shadow price first.
    method : how it was solved; gap : relative optimality gap reported or measured.
    """

    problem: PlanProblem
    x: np.ndarray
    net: np.ndarray
    objective: str
    value: float
    lam: float
    prices: np.ndarray
    labour_price: float
    capacity_prices: np.ndarray
    resource_prices: np.ndarray
    binding: tuple[Binding, ...]
    method: str
    gap: float = 0.0
    periods: int = 1

    @property
    def fulfilment(self) -> np.ndarray:
        """net / target per product (1 = met exactly; nan where the target is 0)."""
        t = self.problem.targets
        out = np.full(t.shape, np.nan)
        np.divide(self.net, t, out=out, where=t > 0)
        return out

    def labour_used(self) -> float:
        return float(self.problem.labour @ self.x)
