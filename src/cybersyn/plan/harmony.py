"""Cockshott's harmony plan: maximise Σ wᵢ H(sᵢ), sᵢ = (netᵢ − tᵢ)/tᵢ, with
H(s) = s − s²/2 for s < 0 and ln(1 + s) for s ≥ 0 (under-fulfilment hurts more than
over-fulfilment pleases). W. P. Cockshott, "Application of artificial intelligence techniques
to economic planning", Future Computing Systems 2(4), 1990; Cockshott & Cottrell,
*Towards a New Socialism*, 1993, ch. 6.

Our balancing iteration (one technique per product): resources carry prices — μ per hour
of labour, πⱼ per unit of capacity of product j, ρᵣ per unit of resource r. The full cost of
one unit of net output is p = (I − A)⁻ᵀ (μ l + π + Rᵀρ) (prices propagate through the
inputs, like labour values). Given p each product's best net output has a closed form
(H′(sᵢ) = pᵢ tᵢ / wᵢ), μ is set by bisection so the plan uses exactly the labour available
(O(n) per step once v is known), and capacity/resource prices rise multiplicatively where
the plan overshoots. Each round costs two sparse solves, so a round is O(nnz); the final
plan is scaled into feasibility and is never worse than the proportional (Kantorovich) plan.
For checking, `harmony_lp` solves the same problem as an LP with H replaced by its tangents
(an outer approximation, so its optimum bounds the true optimum from above).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cybersyn.errors import InvalidInput
from cybersyn.plan.harmony_pg import PgParams, pg_polish
from cybersyn.plan.kantorovich import kantorovich_plan
from cybersyn.plan.leontief import Leontief
from cybersyn.plan.lp import solve_lp
from cybersyn.plan.problem import Binding, PlanProblem, PlanResult

S_MAX = 4.0


@dataclass(frozen=True)
class HarmonyParams:
    """rounds: price-adjustment rounds (stop early when the best plan has not improved by
    more than tol, relatively, for `patience` rounds); tol: accepted relative overshoot of a limit;
    s_max: largest over-fulfilment considered (sᵢ ≤ s_max); step: exponent of the
    multiplicative price update; polish: largest number of projected-gradient steps on the
    gross outputs after the price rounds (0: none; see harmony_pg); solve_tol: relative
    residual of the Leontief solves inside the rounds; tangents: points sₖ where H is
    linearised for the LP."""

    rounds: int = 100
    patience: int = 15
    solve_tol: float = 1e-8
    tol: float = 1e-4
    s_max: float = S_MAX
    step: float = 2.0
    polish: int = 300
    tangents: tuple[float, ...] = (*np.linspace(-0.99, 0.6, 60).tolist(),
                                   *np.linspace(0.65, S_MAX, 40).tolist())

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ValueError("Expected rounds >= 1.")
        if not 0 < self.tol < 1:
            raise ValueError("Expected tol in (0, 1).")
        if self.patience < 1:
            raise ValueError("Expected patience >= 1.")
        if not 0 < self.solve_tol < 1e-3:
            raise ValueError("Expected solve_tol in (0, 1e-3).")
        if not self.s_max > 0:
            raise ValueError("Expected s_max > 0.")
        if not 0 < self.step <= 4:
            raise ValueError("Expected step in (0, 4].")
        if self.polish < 0:
            raise ValueError("Expected polish >= 0.")
        if len(self.tangents) < 2 or min(self.tangents) <= -1:
            raise ValueError("Expected at least two tangent points, all > -1.")


def H(s: np.ndarray) -> np.ndarray:
    """Cockshott's harmony function, elementwise; s of any shape, s > -1 where s ≥ 0 used."""
    s = np.asarray(s, dtype=float)
    return np.asarray(np.where(s < 0, s - 0.5 * s * s, np.log1p(np.maximum(s, 0.0))))


def dH(s: np.ndarray) -> np.ndarray:
    s = np.asarray(s, dtype=float)
    return np.where(s < 0, 1.0 - s, 1.0 / (1.0 + np.maximum(s, 0.0)))


def harmony_value(problem: PlanProblem, net: np.ndarray, s_max: float = S_MAX) -> float:
    """Σ wᵢ H(min(sᵢ, s_max)) over products with a positive target (over-fulfilment beyond
    s_max brings nothing more)."""
    t, w = problem.targets, problem.weights
    assert w is not None
    on = t > 0
    return float(w[on] @ H(np.minimum(net[on] / t[on] - 1.0, s_max)))


def best_response(p: np.ndarray, t: np.ndarray, w: np.ndarray, s_max: float) -> np.ndarray:
    """Net outputs y (n,) maximising wᵢ H(yᵢ/tᵢ − 1) − pᵢ yᵢ for each product; 0 if tᵢ = 0."""
    y = np.zeros_like(t)
    on = (t > 0) & (w > 0)
    r = p[on] * t[on] / w[on]
    s = np.where(r >= 1.0, np.maximum(1.0 - r, -1.0),
                 np.minimum(1.0 / np.maximum(r, 1e-300) - 1.0, s_max))
    y[on] = t[on] * (1.0 + s)
    return y


def _labour_price(v: np.ndarray, q: np.ndarray, p: PlanProblem, s_max: float,
                  budget: float) -> float:
    """Smallest μ ≥ 0 with v·y(μ v + q) ≤ budget (bisection, 60 halvings in log space)."""
    t, w = p.targets, p.weights
    assert w is not None
    def used(mu: float) -> float:
        return float(v @ best_response(mu * v + q, t, w, s_max))
    if used(0.0) <= budget:
        return 0.0
    lo, hi = 0.0, 1.0 / max(float(v @ t), 1e-300) * float(w.sum())
    while used(hi) > budget:
        hi *= 4.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if used(mid) <= budget else (mid, hi)
    return hi


def harmony_plan(problem: PlanProblem, params: HarmonyParams | None = None, *,
                 method: str = "auto") -> PlanResult:
    """Solve the harmony plan. method: "auto"/"iterative" (ours, needs one technique per
    product) or "lp" (the tangent LP through HiGHS, any technology)."""
    params = params or HarmonyParams()
    if not np.any(problem.targets > 0):
        raise InvalidInput("every target is zero: give at least one positive target")
    problem.check_productive()
    if method == "lp" or (method == "auto" and not problem.square):
        return harmony_lp(problem, params)
    if method not in ("auto", "iterative"):
        raise InvalidInput(f"method must be 'auto', 'iterative' or 'lp', got {method!r}")
    if not problem.square:
        raise InvalidInput("the harmony iteration needs one technique per product; use 'lp'")
    return _iterate(problem, params)


def _iterate(p: PlanProblem, params: HarmonyParams) -> PlanResult:
    assert p.capacity is not None and p.resources is not None and p.resource_limits is not None
    if not np.isfinite(p.labour_available) and not np.isfinite(p.capacity).any() \
            and not np.isfinite(p.resource_limits).any():
        raise InvalidInput("the plan is unbounded: nothing limits production (give a labour "
                           "limit, capacities or scarce resources)")
    lu = Leontief(p.A, tol=params.solve_tol)
    v = lu.solve(p.labour, transpose=True)
    budget = float(p.labour_available)
    pi, rho = np.zeros(p.m), np.zeros(p.resources.shape[0])
    prop = kantorovich_plan(p)
    best = (harmony_value(p, prop.net, params.s_max), prop.x, 0.0, pi, rho, 0)
    x, q = np.zeros(p.m), np.zeros(p.n)
    best_seen, last_gain = best[0], 0
    for k in range(1, params.rounds + 1):
        q = _other_prices(p, pi, rho, lu, q)
        mu = _labour_price(v, q, p, params.s_max, budget) if np.isfinite(budget) else 0.0
        y = best_response(mu * v + q, p.targets, p.weights, params.s_max)  # type: ignore[arg-type]
        x = np.maximum(lu.solve(y, x0=x if k > 1 else None), 0.0)
        xf = _repair(p, x)
        value = harmony_value(p, p.net_output(xf), params.s_max)
        if value > best[0]:
            best = (value, xf, mu, pi, rho, k)
        if value > best_seen + params.tol * abs(best_seen):
            best_seen, last_gain = value, k
        elif k - last_gain >= params.patience:
            break
        over_cap, over_res = _overshoot(p, x)
        if max(over_cap.max(initial=0.0), over_res.max(initial=0.0)) <= params.tol:
            break
        step = params.step / np.sqrt(k)
        pi = _raise(pi, over_cap, mu * v, step)
        rho = _raise(rho, over_res, mu * np.ones_like(rho), step)
    _, x, mu, pi, rho, at = best
    note = f"best at round {at} of {k}" if at else f"proportional plan kept after {k} rounds"
    if params.polish and not np.isfinite(p.resource_limits).any() and prop.lam > 0:
        xp, steps = pg_polish(p, x, prop.x / prop.lam, params.s_max, PgParams(params.polish))
        gain = harmony_value(p, p.net_output(xp), params.s_max) - best[0]
        if gain > 0:
            x = xp
            note += f"; projected gradient {steps} steps, +{gain:.4g}"
    return _result(p, x, mu, pi, rho, v, note, lu)


def _repair(p: PlanProblem, x: np.ndarray) -> np.ndarray:
    """A feasible plan near x: cut overshooting outputs to capacity (which frees their inputs
    for everyone else) if no net output turns negative, then shrink uniformly for labour and
    resources; otherwise shrink x uniformly."""
    assert p.capacity is not None
    clipped = np.minimum(x, p.capacity)
    if np.all(p.net_output(clipped) >= -1e-9 * np.maximum(p.targets, 1.0)):
        return _scale_into(p, clipped)
    return _scale_into(p, x)


def _other_prices(p: PlanProblem, pi: np.ndarray, rho: np.ndarray, lu: Leontief,
                  previous: np.ndarray | None = None) -> np.ndarray:
    """(I − A)⁻ᵀ (π + Rᵀρ), shape (n,): what capacity and resource prices add to each cost."""
    assert p.resources is not None
    g = pi + (p.resources.T @ rho if rho.size else 0.0)
    if not np.any(g):
        return np.zeros(p.n)
    warm = previous if previous is not None and np.any(previous) else None
    return np.asarray(np.maximum(lu.solve(np.asarray(g, dtype=float), transpose=True,
                                          x0=warm), 0.0))


def _overshoot(p: PlanProblem, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relative overshoot of each capacity and resource limit (≤ 0 when respected)."""
    assert p.capacity is not None and p.resources is not None and p.resource_limits is not None
    cap = np.zeros(p.m)
    fin = np.isfinite(p.capacity)
    cap[fin] = x[fin] / np.maximum(p.capacity[fin], 1e-300) - 1.0
    res = np.zeros(p.resources.shape[0])
    if res.size:
        use = p.resources @ x
        lim = p.resource_limits
        ok = np.isfinite(lim)
        res[ok] = use[ok] / np.maximum(lim[ok], 1e-300) - 1.0
    return cap, res


def _raise(price: np.ndarray, over: np.ndarray, scale: np.ndarray, step: float) -> np.ndarray:
    """Multiplicative tâtonnement: seed a price where a limit is first overshot, scale it by
    (1 + overshoot)^step afterwards (falling where the limit is slack)."""
    seed = (price == 0) & (over > 0)
    out = price.copy()
    base = np.maximum(scale, 1e-12)
    out[seed] = base[seed] * over[seed]
    grow = ~seed & (price > 0)
    out[grow] *= np.power(np.maximum(1.0 + over[grow], 1e-3), 2.0 * step)
    out[out < 1e-12 * base] = 0.0
    return out


def _scale_into(p: PlanProblem, x: np.ndarray) -> np.ndarray:
    """Shrink x uniformly until every limit holds (net output shrinks with it, stays ≥ 0)."""
    assert p.capacity is not None and p.resources is not None and p.resource_limits is not None
    f = 1.0
    use = float(p.labour @ x)
    if np.isfinite(p.labour_available) and use > p.labour_available:
        f = min(f, p.labour_available / use)
    fin = np.isfinite(p.capacity) & (x > p.capacity)
    if fin.any():
        f = min(f, float((p.capacity[fin] / x[fin]).min()))
    if p.resources.shape[0]:
        r = p.resources @ x
        bad = np.isfinite(p.resource_limits) & (r > p.resource_limits)
        if bad.any():
            f = min(f, float((p.resource_limits[bad] / r[bad]).min()))
    return x * f


def _result(p: PlanProblem, x: np.ndarray, mu: float, pi: np.ndarray, rho: np.ndarray,
            v: np.ndarray, note: str, lu: Leontief) -> PlanResult:
    net = p.net_output(x)
    t = p.targets
    lam = float((net[t > 0] / t[t > 0]).min())
    prices = mu * v + _other_prices(p, pi, rho, lu)
    return PlanResult(p, x, net, "harmony", harmony_value(p, net), lam, prices, mu, pi, rho,
                      _harmony_binding(p, x, mu, pi, rho),
                      f"harmony balancing ({note})")


def _harmony_binding(p: PlanProblem, x: np.ndarray, mu: float, pi: np.ndarray,
                     rho: np.ndarray) -> tuple[Binding, ...]:
    assert p.capacity is not None and p.resource_limits is not None
    out: list[Binding] = []
    if mu > 0:
        out.append(Binding("labour", "labour", float(p.labour_available), mu))
    for j in np.flatnonzero(pi > 0)[np.argsort(-pi[pi > 0])][:50]:
        out.append(Binding("capacity", p.activity_names[j], float(p.capacity[j]),
                           float(pi[j]), p.product_names[j]))
    for r in np.flatnonzero(rho > 0):
        out.append(Binding("resource", p.resource_names[r], float(p.resource_limits[r]),
                           float(rho[r])))
    return tuple(out)


def harmony_lp(problem: PlanProblem, params: HarmonyParams | None = None, *,
               solver: str = "choose") -> PlanResult:
    """The tangent-LP version of the harmony plan (HiGHS). `gap` holds the relative
    distance between the LP bound and the true harmony of the LP's own plan."""
    params = params or HarmonyParams()
    p = problem
    assert p.capacity is not None and p.resources is not None and p.resource_limits is not None
    M, lo, hi, c, col_lo, col_hi, rows = _tangent_lp(p, np.array(params.tangents), params.s_max)
    sol = solve_lp(c, M, lo, hi, col_lo, col_hi, solver=solver, what="the harmony plan")
    m = p.m
    x = np.maximum(sol.x[:m], 0.0)
    net = p.net_output(x)
    value = harmony_value(p, net, params.s_max)
    bound = sol.objective
    labour_price = float(sol.row_dual[rows["labour"]]) if rows["labour"] >= 0 else 0.0
    cap_prices = np.where(np.isfinite(p.capacity), np.maximum(sol.col_dual[:m], 0.0), 0.0)
    prices = np.maximum(sol.row_dual[: p.n], 0.0)
    k0 = rows["resources"]
    res_prices = sol.row_dual[k0:k0 + p.resources.shape[0]]
    binding = [Binding("labour", "labour", float(p.labour_available), labour_price)] \
        if labour_price > 1e-12 else []
    binding += [Binding("capacity", p.activity_names[j], float(p.capacity[j]),
                        float(cap_prices[j])) for j in np.flatnonzero(cap_prices > 1e-12)]
    lam = float((net[p.targets > 0] / p.targets[p.targets > 0]).min())
    return PlanResult(p, x, net, "harmony", value, lam, prices, labour_price, cap_prices,
                      np.asarray(res_prices), tuple(binding), f"tangent LP ({sol.status})",
                      gap=(bound - value) / max(abs(bound), 1e-300))


def harmony_upper_bound(problem: PlanProblem, params: HarmonyParams | None = None) -> float:
    """The tangent LP's optimum, an upper bound on the best harmony (for measuring gaps)."""
    params = params or HarmonyParams()
    M, lo, hi, c, col_lo, col_hi, _ = _tangent_lp(problem, np.array(params.tangents), params.s_max)
    return solve_lp(c, M, lo, hi, col_lo, col_hi, what="the harmony plan").objective


LpParts = tuple[sp.csc_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                dict[str, int]]


def _tangent_lp(p: PlanProblem, s_k: np.ndarray, s_max: float) -> LpParts:
    """Columns [x (m), y (n), h (n_on)]; rows: y − (B − A)x = 0 (n), labour, resources,
    tangents h_i − H′(s_k) y_i / t_i ≤ H(s_k) − H′(s_k)(1 + s_k) for each k."""
    assert p.resources is not None and p.resource_limits is not None and p.capacity is not None
    n, m = p.n, p.m
    on = np.flatnonzero(p.targets > 0)
    z = len(on)
    blocks = [[-p.net_matrix(), sp.identity(n), None]]
    lo, hi = [np.zeros(n)], [np.zeros(n)]
    rows = {"labour": -1, "resources": n}
    if np.isfinite(p.labour_available):
        blocks.append([sp.csr_matrix(p.labour.reshape(1, -1)), None, None])
        lo.append(np.array([-np.inf]))
        hi.append(np.array([p.labour_available]))
        rows["labour"], rows["resources"] = n, n + 1
    k = p.resources.shape[0]
    if k:
        blocks.append([p.resources, None, None])
        lo.append(np.full(k, -np.inf))
        hi.append(p.resource_limits)
    slopes = dH(s_k)
    for sk, dk in zip(s_k, slopes, strict=True):
        Y = sp.csr_matrix((-dk / p.targets[on], (np.arange(z), on)), shape=(z, n))
        blocks.append([None, Y, sp.identity(z)])
        lo.append(np.full(z, -np.inf))
        hi.append(np.full(z, float(H(sk)) - dk * (1.0 + sk)))
    blocks[0][2] = sp.csr_matrix((n, z))
    M = sp.bmat(blocks, format="csc")
    assert p.weights is not None
    c = np.concatenate([np.zeros(m + n), p.weights[on]])
    col_lo = np.concatenate([np.zeros(m + n), np.full(z, -np.inf)])
    col_hi = np.concatenate([p.capacity, np.full(n, np.inf), np.full(z, float(H(np.array(s_max))))])
    return M, np.concatenate(lo), np.concatenate(hi), c, col_lo, col_hi, rows
