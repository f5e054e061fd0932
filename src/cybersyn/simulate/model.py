"""The simulated economy as plain arrays (`SimEconomy`), built from an `IOSystem`.

Products are indexed 0..n-1 as in the IO system; A is kept in CSC layout so that entry k
(row i_k = input, column j_k = the producer using it) is also the index of the stock of
input i_k held by producer j_k. Quantities are in product units; flows per day.

Imports are competitive (Miller & Blair 2009, *Input-Output Analysis*, 2nd ed., §2.6): a
share s_i of all use of product i (intermediate plus final) is imported, so the domestic
steady state solves x = (1 - s) ∘ (A x + y), i.e. x = (I - diag(1 - s) A)⁻¹ ((1 - s) ∘ y).
With no imports this is the Leontief solution x = (I - A)⁻¹ y.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from cybersyn.economy.model import IOSystem

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class SimEconomy:
    """Daily arrays of an economy for the simulator (n products, d districts).

    A : csc_matrix of shape (n, n), units of input i per unit of output j.
    rows, cols : ndarray of shape (nnz,), input and producer of each A entry (CSC order).
    final_demand : ndarray of shape (n,), units/day (households + investment + exports).
    household_share, investment_share, export_share : ndarray of shape (n,), sum to 1.
    import_share : ndarray of shape (n,), share of all use of i that is imported, in [0, 1).
    capacity : ndarray of shape (n,), units/day (inf allowed).
    transport_intensity : ndarray of shape (n,), transport units per unit delivered.
    spoilage : ndarray of shape (n,), share of finished stock above its target lost per day.
    value : ndarray of shape (n,), hours of labour embodied per unit (total labour value
        v = l (I - A)⁻¹, Morishima 1973), used to weigh goods in welfare measures.
    district_weight : ndarray of shape (d,), share of households in each district, sums to 1.
    affluence : ndarray of shape (d,), in [0, 1]; who gets ahead in queues without rationing.
    spare_parts : index of the spare-parts product, or -1 (no capacity degradation).
    essential : ndarray of bool, shape (n,), goods served first when deliveries are rerouted.
    steady_output : ndarray of shape (n,), units/day, the steady state x above.
    """

    A: sp.csc_matrix
    rows: np.ndarray
    cols: np.ndarray
    final_demand: np.ndarray
    household_share: np.ndarray
    investment_share: np.ndarray
    export_share: np.ndarray
    import_share: np.ndarray
    capacity: np.ndarray
    transport_intensity: np.ndarray
    spoilage: np.ndarray
    value: np.ndarray
    district_weight: np.ndarray
    affluence: np.ndarray
    spare_parts: int
    essential: np.ndarray
    steady_output: np.ndarray

    @property
    def n(self) -> int:
        return int(self.final_demand.size)

    @property
    def n_districts(self) -> int:
        return int(self.district_weight.size)

    @property
    def imports(self) -> np.ndarray:
        """Steady imports, units/day, shape (n,): s ∘ (A x + y)."""
        x = self.steady_output
        return np.asarray(self.import_share * (self.A @ x + self.final_demand))


DIRECT_LIMIT = 3000


def solve_leontief(M: sp.spmatrix, b: np.ndarray) -> np.ndarray:
    """Solve (I - M) z = b for a productive non-negative M of shape (n, n).

    Direct sparse LU up to DIRECT_LIMIT products; above, GMRES preconditioned by nothing
    (the Neumann series converges at rate ρ(M) < 1, so GMRES does too), refined to 1e-12.
    LU on a large random sparse A fills in catastrophically, hence the switch.
    """
    n = b.size
    K = sp.identity(n, format="csc") - sp.csc_matrix(M)
    if n == 1:
        return np.asarray(b / K.toarray()[0])
    if n <= DIRECT_LIMIT:
        return np.asarray(spla.spsolve(sp.csc_matrix(K), b), dtype=float).reshape(n)
    z, info = spla.gmres(K.tocsr(), b, rtol=1e-12, atol=0.0, restart=50, maxiter=1000)
    if info != 0:
        raise ValueError(f"Expected the Leontief solve to converge, GMRES info={info}.")
    return np.asarray(z, dtype=float)


def steady_output(A: sp.spmatrix, y: np.ndarray, import_share: np.ndarray) -> np.ndarray:
    """Domestic gross output x of shape (n,) with x = (1 - s) ∘ (A x + y)."""
    keep = 1.0 - import_share
    x = solve_leontief(sp.diags(keep) @ sp.csc_matrix(A), keep * y)
    return np.asarray(np.maximum(x, 0.0))


def labour_values(A: sp.spmatrix, labour: np.ndarray) -> np.ndarray:
    """Total labour hours per unit, shape (n,): v = l (I - A)⁻¹, i.e. (I - Aᵀ) v = l."""
    return solve_leontief(sp.csc_matrix(A).T, labour)


def _vec(value: np.ndarray | float | None, n: int, default: float) -> np.ndarray:
    if value is None:
        return np.full(n, default)
    return np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()


def build(io: IOSystem, *, household_share: np.ndarray | float | None = None,
          export_share: np.ndarray | float | None = None,
          import_share: np.ndarray | float | None = None,
          transport_intensity: np.ndarray | float | None = None,
          spoilage: np.ndarray | float | None = None,
          district_weight: np.ndarray | None = None, affluence: np.ndarray | None = None,
          spare_parts: int = -1, essential: np.ndarray | None = None) -> SimEconomy:
    """A `SimEconomy` from an IO system (annual flows are divided by 365).

    Shares not given: households 0.6, exports 0.2 (investment takes the rest), no imports,
    transport intensity 1, no spoilage, one district.
    """
    n = io.n
    hh = _vec(household_share, n, 0.6)
    ex = _vec(export_share, n, 0.2)
    if np.any(hh < 0) or np.any(ex < 0) or np.any(hh + ex > 1 + 1e-12):
        raise ValueError("Expected household and export shares >= 0 with sum <= 1.")
    inv = np.maximum(1.0 - hh - ex, 0.0)
    imp = _vec(import_share, n, 0.0)
    if np.any(imp < 0) or np.any(imp >= 1):
        raise ValueError("Expected import shares in [0, 1).")
    A = sp.csc_matrix(io.A, dtype=float)
    A.sort_indices()
    y = io.final_demand / DAYS_PER_YEAR
    weight = np.ones(1) if district_weight is None else np.asarray(district_weight, float)
    if weight.ndim != 1 or weight.size == 0 or np.any(weight < 0) or weight.sum() <= 0:
        raise ValueError("Expected non-negative district weights with a positive sum.")
    aff = np.zeros(weight.size) if affluence is None else np.asarray(affluence, float)
    if aff.shape != weight.shape or np.any(aff < 0) or np.any(aff > 1):
        raise ValueError("Expected one affluence in [0, 1] per district.")
    cols = np.repeat(np.arange(n), np.diff(A.indptr))
    return SimEconomy(
        A=A, rows=A.indices.astype(np.int64), cols=cols, final_demand=y,
        household_share=hh, investment_share=inv, export_share=ex, import_share=imp,
        capacity=io.capacity / DAYS_PER_YEAR,
        transport_intensity=_vec(transport_intensity, n, 1.0),
        spoilage=_vec(spoilage, n, 0.0), value=labour_values(A, io.labour),
        district_weight=weight / weight.sum(), affluence=aff, spare_parts=spare_parts,
        essential=np.zeros(n, bool) if essential is None else np.asarray(essential, bool),
        steady_output=steady_output(A, y, imp))
