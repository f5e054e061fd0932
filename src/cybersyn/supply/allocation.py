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
the continuous awards are rounded by cumulative (systematic) rounding: each household gets
the floor or the ceiling of its continuous award, the extra units going by register order. Integer
rounding keeps boundedness and efficiency (sum = min(floor(E), C)) but equal treatment
holds only up to one unit and, as with every quota method, resource monotonicity can fail
by one unit (the Alabama paradox; Balinski & Young, *Fair Representation*, 1982).
"""

from __future__ import annotations

import itertools

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
    if priority is None:
        order, bounds = None, [0, c.shape[0]]
    else:  # households sorted by class: each class is a contiguous block of rows (a view)
        order = np.argsort(priority, kind="stable")
        keys = np.asarray(priority)[order]
        bounds = [0, *(np.flatnonzero(keys[1:] != keys[:-1]) + 1), c.shape[0]]
        c = c[order]
    out = np.zeros_like(c)
    remaining = e.copy()
    for lo, hi in itertools.pairwise(bounds):
        ck = c[lo:hi]
        share = np.minimum(remaining, ck.sum(axis=0))
        out[lo:hi] = _award(ck, share, rule, integer)
        remaining = remaining - share
    if order is not None:
        unsorted = np.empty_like(out)
        unsorted[order] = out
        out = unsorted
    return out[:, 0].copy() if one_good else out


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


def _award(c: np.ndarray, e: np.ndarray, rule: str, integer: bool) -> np.ndarray:
    """c (n, g) claims of one class, e (g,) supply <= column totals; all goods at once."""
    totals = c.sum(axis=0)
    short = e < totals
    if not np.any(short):
        return c.copy()
    x = _RULE[rule](c, np.where(short, e, totals), totals)
    x = np.where(short[None, :], x, c)
    return _round_systematic(x, c) if integer else x


def _proportional(c: np.ndarray, e: np.ndarray, totals: np.ndarray) -> np.ndarray:
    scale = np.divide(e, totals, out=np.zeros_like(e), where=totals > 0)
    out: np.ndarray = c * scale[None, :]
    return out


def _cea(c: np.ndarray, e: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """min(c, lam_j) with column sums e_j <= totals_j; lam_j exact from sorted claims."""
    lam = np.array([_cea_level(c[:, j], float(e[j])) for j in range(c.shape[1])])
    out: np.ndarray = np.minimum(c, lam[None, :])
    return out


def _cea_level(col: np.ndarray, e: float) -> float:
    """The level lam with sum(min(col, lam)) = e, for e <= sum(col).

    With s the claims sorted ascending, f_k = s_1 + ... + s_k + (n - k) s_k is what the
    awards would sum to if lam were s_k; m = #{k: f_k <= e} and lam = (e - S_m) / (n - m).
    """
    s = np.sort(col)  # contiguous copy: sorting and running sums stay cache-friendly
    n = s.size
    cum = np.cumsum(s)
    f = cum + (n - np.arange(1, n + 1)) * s
    m = int(np.searchsorted(f, e, side="right"))
    if m >= n:  # e equals the total (up to rounding): everybody in full
        return float("inf")
    below = float(cum[m - 1]) if m > 0 else 0.0
    return (e - below) / (n - m)


def _cel(c: np.ndarray, e: np.ndarray, totals: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.maximum(c - _cea(c, totals - e, totals), 0.0)
    return out


_RULE = {"proportional": _proportional, "cea": _cea, "cel": _cel}


def _round_systematic(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Whole-number awards, column by column: differences of the floored running sums.

    Each award is floor(x_i) or ceil(x_i) and the column sum is floor(sum x) (cumulative
    rounding), in one O(n) pass without sorting; which households get the extra unit is
    decided by register order. The result is clipped to [0, c] against float round-off.
    """
    run = np.cumsum(x, axis=0)
    run += 1e-7
    np.floor(run, out=run)
    out = np.diff(run, axis=0, prepend=0.0)
    np.clip(out, 0.0, c, out=out)
    return out
