"""Input-output analysis on a sparse technology matrix, never forming a dense inverse.

A : sparse matrix of shape (n, n); A[i, j] = units of product i used per unit of product j.
Gross output for a net (final) output y solves (I − A) x = y  (Leontief 1936; Miller & Blair,
*Input-Output Analysis*, 2nd ed. 2009, ch. 2). Labour values solve v = l + Aᵀ v, the hours
embodied directly and indirectly in one unit of each product (Cockshott & Cottrell,
*Towards a New Socialism*, 1993, ch. 3; Samothrakis, "Artificial Intelligence inspired
methods for the allocation of common goods and services", PLoS ONE 2021, for direct sparse
solves at 10^4-10^5 goods).

Methods, chosen by size:
- "direct": a sparse LU factorisation (SuperLU via scipy) of I − A or (I − A)ᵀ (dense LAPACK
  when more than 2% of A is non-zero, as in WIOD);
- "iterative": Cockshott's successive approximation v ← l + Aᵀ v, accelerated by a Krylov
  method (BiCGSTAB, GMRES if it breaks down) on the same fixed point (run plainly, as
  method "power", it converges like the power series, ρ(A)^k);
- "auto": direct for n ≤ DIRECT_MAX_N = 2,000, iterative above (LU of a large random
  power-law graph fills in badly).
Both stop at a stated relative residual `tol` (‖(I − A)x − y‖ ≤ tol·‖y‖).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from cybersyn.economy.model import spectral_radius
from cybersyn.errors import InvalidInput

DIRECT_MAX_N = 2_000
DENSE_MIN_DENSITY = 0.02
DEFAULT_TOL = 1e-10
METHODS = ("auto", "direct", "iterative", "power")


def as_csr(A: object) -> sp.csr_matrix:
    """A as a float CSR matrix; rejects non-square input."""
    M = sp.csr_matrix(A, dtype=float)
    return as_sparse(M)


def as_sparse(A: object) -> sp.csr_matrix | sp.csc_matrix:
    """A as float CSR, or CSC when given CSC (so Aᵀ is a free CSR view); square only."""
    M = A if isinstance(A, sp.csc_matrix | sp.csr_matrix) and A.dtype == float \
        else sp.csr_matrix(A, dtype=float)
    if M.shape[0] != M.shape[1]:
        raise InvalidInput(f"A has shape {M.shape}, expected a square matrix")
    return M


def check_productive(A: sp.spmatrix, names: tuple[str, ...] | None = None) -> float:
    """Spectral radius of A; raise InvalidInput naming the problem if A is not productive.

    A productive A (non-negative, spectral radius < 1) has (I − A)⁻¹ ≥ 0, so every
    non-negative net output can be made (Hawkins–Simon condition; Miller & Blair §2.6).
    """
    M = as_csr(A)
    if M.nnz and (not np.all(np.isfinite(M.data)) or M.data.min() < 0):
        bad = np.flatnonzero(~np.isfinite(M.data) | (M.data < 0))[0]
        row = int(np.searchsorted(M.indptr, bad, side="right") - 1)
        col = int(M.indices[bad])
        label = (names[row], names[col]) if names else (row, col)
        raise InvalidInput(f"A[{label[0]}, {label[1]}] = {M.data[bad]!r}: coefficients must be "
                           "finite and non-negative")
    rho = spectral_radius(M)
    if rho >= 1.0:
        sums = np.asarray(M.sum(axis=0)).ravel()
        worst = int(np.argmax(sums))
        who = names[worst] if names else str(worst)
        raise InvalidInput(
            f"A is not productive: spectral radius {rho:.4f} >= 1, so the economy uses up more "
            f"than it makes (largest column sum {sums[worst]:.4f} at product {who})")
    return rho


def _check_vector(name: str, v: object, n: int) -> np.ndarray:
    arr = np.asarray(v, dtype=float)
    if arr.shape != (n,):
        raise InvalidInput(f"{name} has shape {arr.shape}, expected ({n},)")
    if not np.all(np.isfinite(arr)):
        raise InvalidInput(f"{name} contains NaN or inf")
    return arr


def _choose(method: str, n: int) -> str:
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {METHODS}, got {method!r}")
    if method == "auto":
        return "direct" if n <= DIRECT_MAX_N else "iterative"
    return method


def solve_leontief(M: sp.spmatrix, b: np.ndarray, *, transpose: bool = False,
                   method: str = "auto", tol: float = DEFAULT_TOL) -> np.ndarray:
    """Solve (I − M) x = b, or (I − M)ᵀ x = b when `transpose`; shapes (n, n), (n,) -> (n,).

    Pass M as CSC to solve with Mᵀ without a copy (Mᵀ of a CSC matrix is a CSR view)."""
    n = M.shape[0]
    how = _choose(method, n)
    K = sp.csr_matrix(M.T if transpose else M)
    if how == "direct":
        if K.nnz > DENSE_MIN_DENSITY * n * n:   # a dense table (e.g. WIOD): LAPACK wins
            return np.linalg.solve(np.eye(n) - K.toarray(), b)
        eye = sp.identity(n, format="csc")
        return np.asarray(spla.splu((eye - K).tocsc()).solve(b))
    if how == "power":
        return _power_series(K, b, tol)
    return _gmres(K, b, tol)


class Leontief:
    """A reusable solver for (I − A) x = b and (I − A)ᵀ v = b on one A of shape (n, n):
    the LU factors (direct) or both CSR orientations (iterative) are made once, and
    iterative solves start from a caller's guess (`x0`), which is what repeated solves with
    slowly changing right-hand sides (the harmony balancing) need."""

    def __init__(self, A: object, *, method: str = "auto", tol: float = DEFAULT_TOL) -> None:
        M = as_sparse(A)
        self.n = M.shape[0]
        self.how = _choose(method, self.n)
        self.tol = tol
        if self.how == "direct":
            self._dense = M.nnz > DENSE_MIN_DENSITY * self.n * self.n
            I_A = (sp.identity(self.n, format="csc") - M).tocsc()
            if self._dense:
                import scipy.linalg as sla

                self._lu = sla.lu_factor(I_A.toarray())
            else:
                self._splu = spla.splu(I_A)
        else:
            self.K, self.KT = sp.csr_matrix(M), sp.csr_matrix(M.T)

    def solve(self, b: np.ndarray, *, transpose: bool = False,
              x0: np.ndarray | None = None) -> np.ndarray:
        if self.how == "direct":
            if self._dense:
                import scipy.linalg as sla

                return np.asarray(sla.lu_solve(self._lu, b, trans=1 if transpose else 0))
            return np.asarray(self._splu.solve(b, trans="T" if transpose else "N"))
        K = self.KT if transpose else self.K
        if self.how == "power":
            return _power_series(K, b, self.tol)
        return _gmres(K, b, self.tol, x0)


def _power_series(K: sp.csr_matrix, b: np.ndarray, tol: float,
                  max_iter: int = 100_000) -> np.ndarray:
    """Cockshott's successive approximation x ← b + K x, from x = b."""
    x = b.copy()
    scale = max(float(np.abs(b).max(initial=0.0)), 1e-300)
    for _ in range(max_iter):
        step = b + K @ x
        if float(np.abs(step - x).max(initial=0.0)) <= tol * scale:
            return np.asarray(step)
        x = step
    raise InvalidInput("successive approximation did not converge: is A productive?")


def _gmres(K: sp.csr_matrix, b: np.ndarray, tol: float,
           x0: np.ndarray | None = None) -> np.ndarray:
    """A Krylov solve of (I − K) x = b from x0 (default: two terms of the power series):
    BiCGSTAB first (two matrix-vector products per step, little memory), GMRES(20) if it
    breaks down, the plain power series as the last resort."""
    op = spla.LinearOperator(K.shape, matvec=lambda z: z - K @ z, dtype=float)
    if x0 is None:
        x0 = b + K @ b
    x, info = spla.bicgstab(op, b, x0=x0, rtol=tol, atol=0.0, maxiter=2000)
    if info == 0:
        return np.asarray(x)
    x, info = spla.gmres(op, b, x0=x0, rtol=tol, atol=0.0, restart=20, maxiter=500)
    if info != 0:
        return _power_series(K, b, tol)
    return np.asarray(x)


def leontief_output(A: object, y: object, *, method: str = "auto",
                    tol: float = DEFAULT_TOL) -> np.ndarray:
    """Gross output x of shape (n,) with (I − A) x = y; y (n,) net output in product units."""
    M = as_csr(A)
    return solve_leontief(M, _check_vector("y", y, M.shape[0]), method=method, tol=tol)


def labour_values(A: object, l: object, method: str = "auto",  # noqa: E741
                  tol: float = DEFAULT_TOL) -> np.ndarray:
    """Labour values v (n,) hours per unit, v = l + Aᵀ v; l (n,) direct hours per unit."""
    M = as_sparse(A)
    return solve_leontief(M, _check_vector("labour", l, M.shape[0]), transpose=True,
                          method=method, tol=tol)


def total_requirements(A: object, j: int, *, method: str = "auto") -> np.ndarray:
    """Column j of the Leontief inverse (I − A)⁻¹, shape (n,): everything needed, directly
    and indirectly, for one unit of product j to reach final use."""
    M = as_csr(A)
    if not 0 <= j < M.shape[0]:
        raise InvalidInput(f"product index {j} out of range 0..{M.shape[0] - 1}")
    e = np.zeros(M.shape[0])
    e[j] = 1.0
    return solve_leontief(M, e, method=method)


def output_multipliers(A: object, *, method: str = "auto") -> np.ndarray:
    """Column sums of (I − A)⁻¹, shape (n,): gross output of all products per unit of final
    demand for each product (Miller & Blair §6.2); computed as (I − A)⁻ᵀ 1."""
    M = as_sparse(A)
    return solve_leontief(M, np.ones(M.shape[0]), transpose=True, method=method)


def employment_multipliers(A: object, l: object, *,  # noqa: E741
                           method: str = "auto") -> np.ndarray:
    """Hours employed across the economy per unit of final demand for each product, shape
    (n,): lᵀ(I − A)⁻¹, which equals the labour values."""
    return labour_values(A, l, method=method)


def relative_residual(A: sp.spmatrix, x: np.ndarray, y: np.ndarray,
                      transpose: bool = False) -> float:
    """‖(I − A) x − y‖∞ / ‖y‖∞ (or with Aᵀ), the stated accuracy of a solve."""
    M = A.T if transpose else A
    r = x - M @ x - y
    return float(np.abs(r).max(initial=0.0) / max(np.abs(y).max(initial=0.0), 1e-300))
