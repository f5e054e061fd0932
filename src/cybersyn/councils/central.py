"""The central optimal plan the participatory result is compared with, and the gap.

Uses the plan package's Kantorovich plan when `cybersyn.plan` is installed; otherwise
solves the planning office's LP with HiGHS (Huangfu & Hall 2018):

    minimise   l · x                     (labour hours)
    subject to (I - A) x >= d            (final-demand targets met)
               0 <= x <= capacity

x, l, d, capacity: shape (n,). Kantorovich (1959), *The Best Use of Economic Resources*.
"""

from __future__ import annotations

import importlib
import importlib.util

import highspy
import numpy as np
import scipy.sparse as sp

from cybersyn.economy.model import IOSystem
from cybersyn.errors import InvalidInput

SIMPLEX_MAX_N = 1000
"""Beyond this many products HiGHS's PDLP (first-order, no factorisation) replaces simplex:
the basis of I - A fills in like its LU (2000 products: simplex 22 s, PDLP 0.2 s)."""


def central_plan(io: IOSystem) -> np.ndarray:
    """Gross outputs x* of shape (n,) of the central optimal plan."""
    plugged = _plan_package_solution(io)
    return plugged if plugged is not None else solve_labour_lp(io)


def _plan_package_solution(io: IOSystem) -> np.ndarray | None:
    """Kantorovich's plan from `cybersyn.plan` for the published targets d with exactly the
    labour they need, l·(I - A)^-1 d: the least-labour plan meeting every target (λ = 1)."""
    if importlib.util.find_spec("cybersyn.plan") is None:
        return None
    plan = importlib.import_module("cybersyn.plan")
    if not all(hasattr(plan, f) for f in ("kantorovich_plan", "PlanProblem",
                                          "leontief_output")):
        return None
    xhat = np.asarray(plan.leontief_output(io.A, io.final_demand), dtype=float)
    problem = plan.PlanProblem(io.A, io.labour, io.final_demand,
                               labour_available=float(io.labour @ xhat) * (1 + 1e-9),
                               capacity=io.capacity, product_names=io.product_codes)
    x = np.asarray(plan.kantorovich_plan(problem).x, dtype=float)
    return x if x.shape == (io.n,) else None


def solve_labour_lp(io: IOSystem) -> np.ndarray:
    """min l·x s.t. (I - A) x >= d, 0 <= x <= capacity, with HiGHS; x of shape (n,).

    Without substitution (one technique per product) the optimum is the Leontief solution
    x* = (I - A)^-1 d when it fits in capacity, which the tests use as the independent
    answer; the LP keeps the comparison honest once the plan adds choices of technique."""
    n = io.n
    M = (sp.identity(n, format="csc") - io.A.tocsc()).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, n
    lp.col_cost_ = io.labour.astype(float)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.where(np.isfinite(io.capacity), io.capacity, highspy.kHighsInf)
    lp.row_lower_ = io.final_demand.astype(float)
    lp.row_upper_ = np.full(n, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = M.indptr.astype(np.int32)
    lp.a_matrix_.index_ = M.indices.astype(np.int32)
    lp.a_matrix_.value_ = M.data.astype(float)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    if n > SIMPLEX_MAX_N:
        h.setOptionValue("solver", "pdlp")
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        status = h.modelStatusToString(h.getModelStatus())
        raise InvalidInput(f"the central plan LP has no optimum: {status} "
                           "(final demand beyond capacity?)")
    return np.asarray(h.getSolution().col_value, dtype=float)


def gap_pct(outputs: np.ndarray, optimal: np.ndarray) -> float:
    """100 ||x - x*||_1 / ||x*||_1, in percent of the optimal plan's gross output.

    Products are in different units, so each is weighted by the optimal output (that is,
    the L1 norm of the relative differences weighted by x*): sum |x - x*| / sum x*."""
    total = float(np.abs(optimal).sum())
    return 100.0 * float(np.abs(outputs - optimal).sum()) / total if total else 0.0


def labour_gap_pct(io: IOSystem, outputs: np.ndarray, optimal: np.ndarray) -> float:
    """100 (l·x - l·x*) / l·x*: extra labour hours of the participatory plan, in percent."""
    base = float(io.labour @ optimal)
    return 100.0 * (float(io.labour @ outputs) - base) / base if base else 0.0
