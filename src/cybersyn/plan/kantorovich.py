"""Kantorovich's plan: maximise λ with net output ≥ λ · targets (targets met in proportion).

L. V. Kantorovich, *Mathematical Methods of Organizing and Planning Production* (1939;
Management Science 6(4), 1960), problem A: the "plan ray". The LP over activities x ≥ 0:

    max λ  s.t.  (B − A) x ≥ λ t,  l·x ≤ L,  R x ≤ r,  x ≤ capacity.

With one technique per product (B = I) and A productive, the LP has a closed form: any
feasible x satisfies x = (I − A)⁻¹ (I − A) x ≥ λ (I − A)⁻¹ t = λ x̂ because (I − A)⁻¹ ≥ 0, so
every limit g·x ≤ b (g ≥ 0) gives λ ≤ b / g·x̂, and x = λ* x̂ attains the smallest bound
(the non-substitution theorem, Samuelson 1951). One sparse Leontief solve replaces the LP;
the dual is π = 1/(g·x̂) on the binding limit and product prices p = π (I − A)⁻ᵀ g.
With several techniques per product, HiGHS solves the LP.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cybersyn.errors import InvalidInput
from cybersyn.plan.leontief import DEFAULT_TOL, solve_leontief
from cybersyn.plan.lp import solve_lp
from cybersyn.plan.problem import Binding, PlanProblem, PlanResult

TIE = 1e-9


def kantorovich_plan(problem: PlanProblem, *, method: str = "auto", solver: str = "choose",
                     tol: float = 1e-9) -> PlanResult:
    """Solve Kantorovich's problem. method: "auto" (closed form when square, else LP),
    "closed" or "lp"; solver: HiGHS "simplex", "ipm" (IPX), "ipx", "hipo", "pdlp" or "choose"
    for the LP."""
    _check_targets(problem)
    problem.check_productive()
    if method == "auto":
        method = "closed" if problem.square else "lp"
    if method == "closed":
        if not problem.square:
            raise InvalidInput("the closed form needs one technique per product (B = I)")
        return _closed(problem)
    if method == "lp":
        return _lp(problem, solver, tol)
    raise InvalidInput(f"method must be 'auto', 'closed' or 'lp', got {method!r}")


def _check_targets(p: PlanProblem) -> None:
    if not np.any(p.targets > 0):
        raise InvalidInput("every target is zero: give at least one positive target")


def _limits(p: PlanProblem, xhat: np.ndarray) -> list[tuple[str, int, float, float]]:
    """(kind, index, limit, requirement at x̂) for every finite limit with positive use."""
    out: list[tuple[str, int, float, float]] = []
    if np.isfinite(p.labour_available):
        out.append(("labour", -1, float(p.labour_available), float(p.labour @ xhat)))
    cap = p.capacity
    assert cap is not None and p.resources is not None and p.resource_limits is not None
    for j in np.flatnonzero(np.isfinite(cap) & (xhat > 0)):
        out.append(("capacity", int(j), float(cap[j]), float(xhat[j])))
    use = p.resources @ xhat
    for r in np.flatnonzero(np.isfinite(p.resource_limits) & (use > 0)):
        out.append(("resource", int(r), float(p.resource_limits[r]), float(use[r])))
    return out


def _closed(p: PlanProblem) -> PlanResult:
    xhat = solve_leontief(p.A, p.targets, tol=DEFAULT_TOL)
    xhat = np.maximum(xhat, 0.0)
    limits = [lim for lim in _limits(p, xhat) if lim[3] > 0]
    if not limits:
        raise InvalidInput("the plan is unbounded: nothing limits production (give a labour "
                           "limit, capacities or scarce resources that the targets need)")
    ratios = np.array([lim[2] / lim[3] for lim in limits])
    lam = float(ratios.min())
    x = lam * xhat
    tight = [limits[k] for k in np.flatnonzero(ratios <= lam * (1 + TIE) + 1e-300)]
    kind, idx, _limit, req = tight[0]
    g = _limit_row(p, kind, idx)
    prices = solve_leontief(p.A, g, transpose=True) / req
    labour_price = 1.0 / req if kind == "labour" else 0.0
    cap_prices = np.zeros(p.m)
    res_prices = np.zeros(p.resources.shape[0] if p.resources is not None else 0)
    if kind == "capacity":
        cap_prices[idx] = 1.0 / req
    elif kind == "resource":
        res_prices[idx] = 1.0 / req
    binding = tuple(_binding(p, k, i, lim, 1.0 / rq) for k, i, lim, rq in tight)
    return PlanResult(p, x, p.net_output(x), "kantorovich", lam, lam, prices, labour_price,
                      cap_prices, res_prices, binding, "closed form (one sparse Leontief solve)")


def _limit_row(p: PlanProblem, kind: str, idx: int) -> np.ndarray:
    if kind == "labour":
        return p.labour.copy()
    if kind == "capacity":
        e = np.zeros(p.m)
        e[idx] = 1.0
        return e
    assert p.resources is not None
    return np.asarray(p.resources[idx].toarray()).ravel()


def _binding(p: PlanProblem, kind: str, idx: int, limit: float, price: float) -> Binding:
    if kind == "labour":
        name = "labour"
    else:
        name = (p.activity_names if kind == "capacity" else p.resource_names)[idx]
    t = p.targets
    prod = idx if kind == "capacity" and p.square and t[idx] > 0 else int(np.argmax(t))
    return Binding(kind, name, limit, price, p.product_names[prod], price * float(t[prod]))


def _lp(p: PlanProblem, solver: str, tol: float) -> PlanResult:
    n, m = p.n, p.m
    assert p.resources is not None and p.resource_limits is not None and p.capacity is not None
    net = p.net_matrix()
    t_col = sp.csr_matrix(-p.targets.reshape(-1, 1))
    rows = [sp.hstack([net, t_col])]
    lo, hi = [np.zeros(n)], [np.full(n, np.inf)]
    has_labour = bool(np.isfinite(p.labour_available))
    if has_labour:
        rows.append(sp.hstack([sp.csr_matrix(p.labour.reshape(1, -1)), sp.csr_matrix((1, 1))]))
        lo.append(np.array([-np.inf]))
        hi.append(np.array([p.labour_available]))
    k = p.resources.shape[0]
    if k:
        rows.append(sp.hstack([p.resources, sp.csr_matrix((k, 1))]))
        lo.append(np.full(k, -np.inf))
        hi.append(p.resource_limits)
    M = sp.vstack(rows).tocsc()
    c = np.zeros(m + 1)
    c[-1] = 1.0
    sol = solve_lp(c, M, np.concatenate(lo), np.concatenate(hi),
                   np.zeros(m + 1), np.append(p.capacity, np.inf), solver=solver, tol=tol,
                   what="Kantorovich's plan")
    x, lam = np.maximum(sol.x[:m], 0.0), float(sol.x[m])
    prices = np.maximum(-sol.row_dual[:n], 0.0)
    labour_price = float(sol.row_dual[n]) if has_labour else 0.0
    res_prices = sol.row_dual[n + int(has_labour):]
    cap_prices = np.where(np.isfinite(p.capacity), np.maximum(sol.col_dual[:m], 0.0), 0.0)
    binding = _lp_binding(p, labour_price, cap_prices, res_prices)
    return PlanResult(p, x, p.net_output(x), "kantorovich", lam, lam, prices, labour_price,
                      cap_prices, np.asarray(res_prices), binding, f"HiGHS LP ({sol.status})")


def _lp_binding(p: PlanProblem, labour_price: float, cap_prices: np.ndarray,
                res_prices: np.ndarray) -> tuple[Binding, ...]:
    assert p.capacity is not None and p.resource_limits is not None
    out: list[Binding] = []
    if labour_price > TIE:
        out.append(_binding(p, "labour", -1, float(p.labour_available), labour_price))
    for j in np.flatnonzero(cap_prices > TIE):
        out.append(_binding(p, "capacity", int(j), float(p.capacity[j]), float(cap_prices[j])))
    for r in np.flatnonzero(res_prices > TIE):
        out.append(_binding(p, "resource", int(r), float(p.resource_limits[r]),
                            float(res_prices[r])))
    return tuple(sorted(out, key=lambda b: -b.shadow_price))
