"""Allocation of scarce goods to households: priority classes, then a claims rule.

The claims problem (O'Neill 1982; Thomson, "Axiomatic and game-theoretic analysis of
bankruptcy and taxation problems: an update", Math. Soc. Sci. 74, 2015): claimants i with
claims c_i >= 0 share an estate E < sum(c). Three classical rules:

- proportional: x_i = c_i E / C. Awards proportional to claims.
- cea (constrained equal awards, max-min): x_i = min(c_i, lam), lam solving sum = E.
  Maximises the smallest award; small claims are met in full first.
- cel (constrained equal losses): x_i = max(0, c_i - mu), mu solving sum = E.
  Everybody loses the same amount; the dual of cea: CEL(c, E) = c - CEA(c, C - E).

All three satisfy, for every E: 0 <= x_i <= c_i (claims boundedness), sum x = min(E, C)
(efficiency: never more than supply, nothing withheld), equal treatment of equals
(equal claims, equal awards) and resource monotonicity (more E, nobody gets less).

Priority classes (lower first): class 0 is served fully before class 1 gets anything, and
so on; the class where supply runs out is rationed with the rule. With `integer=True`
the continuous awards are rounded by largest remainders (Hamilton): each household gets
the floor or the ceiling of its continuous award, ties broken by lower index. Integer
rounding keeps boundedness and efficiency (sum = min(floor(E), C)) but equal treatment
holds only up to one unit and, as with every quota method, resource monotonicity can fail
by one unit (the Alabama paradox; Balinski & Young, *Fair Representation*, 1982).
"""

from __future__ import annotations

import numpy as np

RULES = ("proportional", "cea", "cel")


def allocate(claims: np.ndarray, supply: np.ndarray | float, rule: str = "proportional",
             priority: np.ndarray | None = None, integer: bool = False) -> np.ndarray:
    """Awards of shape `claims.shape` (float64; whole numbers when `integer`).

    claims : ndarray of shape (n_households, n_goods) or (n_households,), >= 0.
    supply : ndarray of shape (n_goods,) or a scalar, >= 0 (same units as claims).
    rule : "proportional", "cea" or "cel", applied within the class where supply runs out.
    priority : int ndarray of shape (n_households,); lower classes are served first.
    integer : claims must be whole numbers; awards are whole numbers.
    """
    c, e, one_good = _check(claims, supply, rule, priority, integer)
    out = np.zeros_like(c)
    classes = [None] if priority is None else np.unique(priority)
    remaining = e.copy()
    for k in classes:
        rows = slice(None) if k is None else np.flatnonzero(priority == k)
        ck = c[rows]
        share = np.minimum(remaining, ck.sum(axis=0))
        out[rows] = _per_good(ck, share, rule, integer)
        remaining = remaining - share
    return out[:, 0] if one_good else out


def allocate_tiered(tiers: list[np.ndarray], supply: np.ndarray | float,
                    rule: str = "proportional", integer: bool = False) -> list[np.ndarray]:
    """Claims in tiers served in order (e.g. the children's half-litre of milk first, then
    the rest of the household's milk): tier t is met in full before tier t+1 gets anything.

    tiers : list of ndarrays, each of shape (n_households, n_goods); returns one award
    array per tier, same shapes; the sum over tiers never exceeds supply.
    """
    if not tiers:
        raise ValueError("Expected at least one tier of claims.")
    stacked = np.concatenate([np.atleast_2d(np.asarray(t, dtype=float).T).T for t in tiers])
    n = np.asarray(tiers[0]).shape[0]
    priority = np.repeat(np.arange(len(tiers)), n)
    awards = allocate(stacked, supply, rule, priority, integer)
    return [awards[k * n:(k + 1) * n].reshape(np.shape(tiers[k])) for k in range(len(tiers))]


def _check(claims: np.ndarray, supply: np.ndarray | float, rule: str,
           priority: np.ndarray | None, integer: bool) -> tuple[np.ndarray, np.ndarray, bool]:
    if rule not in RULES:
        raise ValueError(f"Expected rule in {RULES}, got {rule!r}.")
    c = np.asarray(claims, dtype=float)
    one_good = c.ndim == 1
    if one_good:
        c = c[:, None]
    if c.ndim != 2:
        raise ValueError("Expected claims of shape (n_households, n_goods) or (n_households,).")
    e = np.broadcast_to(np.asarray(supply, dtype=float), (c.shape[1],)).copy()
    if not (np.all(np.isfinite(c)) and np.all(c >= 0)):
        raise ValueError("Expected finite claims >= 0.")
    if not (np.all(np.isfinite(e)) and np.all(e >= 0)):
        raise ValueError("Expected finite supply >= 0.")
    if integer:
        if np.any(c != np.round(c)):
            raise ValueError("Expected whole-number claims when integer=True.")
        e = np.floor(e)
    if priority is not None and np.shape(priority) != (c.shape[0],):
        raise ValueError("Expected priority of shape (n_households,).")
    return c, e, one_good


def _per_good(c: np.ndarray, e: np.ndarray, rule: str, integer: bool) -> np.ndarray:
    """c (n, g) claims, e (g,) supply <= column totals; the rule column by column."""
    out = np.empty_like(c)
    totals = c.sum(axis=0)
    for j in range(c.shape[1]):
        col, ej = c[:, j], float(e[j])
        if ej >= totals[j]:
            out[:, j] = col
            continue
        x = _RULE[rule](col, ej, float(totals[j]))
        out[:, j] = _round_hamilton(x, ej) if integer else x
    return out


def _proportional(c: np.ndarray, e: float, total: float) -> np.ndarray:
    return c * (e / total) if total > 0 else np.zeros_like(c)


def _cea(c: np.ndarray, e: float, total: float) -> np.ndarray:
    """min(c, lam) with sum = e < total: lam from the sorted claims (exact, O(n log n))."""
    if e <= 0:
        return np.zeros_like(c)
    s = np.sort(c)
    n = s.size
    cum = np.cumsum(s)
    # f(s_k) = sum of the k smallest + (n - k) s_k: awards if lam were the k-th claim.
    f = cum + (n - np.arange(1, n + 1)) * s
    m = int(np.searchsorted(f, e, side="right"))
    if m >= n:  # e equals the total up to rounding
        return c.copy()
    below = cum[m - 1] if m > 0 else 0.0
    lam = (e - below) / (n - m)
    return np.minimum(c, lam)


def _cel(c: np.ndarray, e: float, total: float) -> np.ndarray:
    return np.maximum(c - _cea(c, total - e, total), 0.0)


_RULE = {"proportional": _proportional, "cea": _cea, "cel": _cel}


def _round_hamilton(x: np.ndarray, e: float) -> np.ndarray:
    """Floor of x plus one unit to the largest remainders until the sum is floor(e)."""
    base = np.floor(x + 1e-9)
    rem = x - base
    k = int(round(np.floor(e + 1e-9) - base.sum()))
    if k > 0:
        order = np.argsort(-rem, kind="stable")[:k]
        base[order] += 1.0
    return base
