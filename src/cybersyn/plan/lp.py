"""A thin wrapper over HiGHS (highspy): pass a sparse LP, solve, return values and duals.

Huangfu & Hall, "Parallelizing the dual revised simplex method", Math. Prog. Comp. 2018;
HiGHS's interior point (IPX) and PDLP. No hand-written LP solver here.
Duals are reported as the gain in the objective per unit increase of a row bound or a
column bound (for a maximisation, positive on a binding `≤` limit).
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from cybersyn.errors import InvalidInput

INF = highspy.kHighsInf
SOLVERS = ("simplex", "ipm", "ipx", "hipo", "pdlp", "choose")
#: HiGHS's "ipm" is HiPO (direct) when highspy-extras is installed and IPX (iterative)
#: otherwise; here "ipm" stays IPX, what every figure in docs/plan.md was measured with
#: (HiPO fills the factor of I - A: the five-year one LP at 10^3 took 93 s against ~25).
_HIGHS_SOLVER = {"ipm": "ipx"}


@dataclass(frozen=True)
class LpSolution:
    """x (ncol,), row_value (nrow,), row_dual (nrow,), col_dual (ncol,), objective."""

    x: np.ndarray
    row_value: np.ndarray
    row_dual: np.ndarray
    col_dual: np.ndarray
    objective: float
    status: str


def _inf(v: np.ndarray) -> np.ndarray:
    out = np.asarray(v, dtype=float).copy()
    out[np.isposinf(out)] = INF
    out[np.isneginf(out)] = -INF
    return out


def solve_lp(c: np.ndarray, M: sp.spmatrix, row_lo: np.ndarray, row_hi: np.ndarray,
             col_lo: np.ndarray, col_hi: np.ndarray, *, maximize: bool = True,
             solver: str = "choose", tol: float = 1e-9, time_limit: float = 3600.0,
             what: str = "the plan") -> LpSolution:
    """Solve max/min cᵀx s.t. row_lo ≤ M x ≤ row_hi, col_lo ≤ x ≤ col_hi.

    M : sparse (nrow, ncol). Raises InvalidInput with a sentence for infeasible or unbounded
    problems, never a solver trace.
    """
    if solver not in SOLVERS:
        raise InvalidInput(f"solver must be one of {SOLVERS}, got {solver!r}")
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", _HIGHS_SOLVER.get(solver, solver))
    h.setOptionValue("time_limit", float(time_limit))
    for opt in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
        h.setOptionValue(opt, float(tol))
    if solver in ("ipm", "ipx", "hipo"):
        h.setOptionValue("ipm_optimality_tolerance", float(min(tol, 1e-8)))
    h.passModel(_model(c, sp.csc_matrix(M), row_lo, row_hi, col_lo, col_hi, maximize))
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    _raise_for(status, what)
    s = h.getSolution()
    sign = 1.0 if maximize else -1.0
    return LpSolution(np.array(s.col_value), np.array(s.row_value),
                      sign * np.array(s.row_dual), sign * np.array(s.col_dual),
                      float(h.getInfo().objective_function_value), status)


def _model(c: np.ndarray, M: sp.csc_matrix, row_lo: np.ndarray, row_hi: np.ndarray,
           col_lo: np.ndarray, col_hi: np.ndarray, maximize: bool) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = M.shape[1], M.shape[0]
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_, lp.col_upper_ = _inf(col_lo), _inf(col_hi)
    lp.row_lower_, lp.row_upper_ = _inf(row_lo), _inf(row_hi)
    M.sort_indices()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = M.indptr.astype(np.int32)
    lp.a_matrix_.index_ = M.indices.astype(np.int32)
    lp.a_matrix_.value_ = M.data.astype(float)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    return lp


def _raise_for(status: str, what: str) -> None:
    if status == "Optimal":
        return
    if status == "Infeasible":
        raise InvalidInput(f"{what} is infeasible: no production plan meets every limit and "
                           "balance at once (check capacities, minimum outputs and that A is "
                           "productive)")
    if "nbounded" in status:
        raise InvalidInput(f"{what} is unbounded: nothing limits production (give a labour "
                           "limit, capacities or scarce resources that every product needs)")
    raise InvalidInput(f"{what} could not be solved: HiGHS stopped with status {status!r}")
