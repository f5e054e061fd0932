"""The numba kernel: one step of the class II multi-process filter for one series.

Equations (West & Harrison 1997, §4.3 for the DLM with unknown variance, §12.3-12.4 for
class II mixtures; Harrison & Stevens 1976, §5): for each component i (regime at t-1) and
regime j at t, with G = [[1, dt], [0, 1]], the Harrison–Stevens linear-growth evolution
(a slope change moves the level in the same step: mu_t = mu + beta + d_mu + d_beta) and all
covariances scale-free (in units of V):

    a_i = G m_i,  R_ij = G C_i G' + dt W_j,  W_j = [[wl_j + ws_j, ws_j], [ws_j, ws_j]]
    Q_ij = R_ij[0, 0] + v_j,  e_i = y - a_i[0]
    A = R_ij[:, 0] / Q_ij,  m_ij = a_i + A e_i,  C_ij = R_ij - A A' Q_ij
    n' = delta n + 1,  d_ij = delta d + e_i^2 / Q_ij
    p_ij ∝ pi_j p_i t_n(e_i; 0, S Q_ij)                          (S = d / n)

then the 16 branches are collapsed to 4 by moment matching (W&H §12.3.4): for each j,
p_j = sum_i p_ij, m_j = sum_i p_ij m_ij / p_j, and C_j matches the second moment; the
precision estimate 1/S' = sum_ij p_ij n' / d_ij.

Params vector layout (FilterParams.as_array): [0:4] log priors, [4:8] level_var,
[8:12] slope_var, [12:16] obs_var, 16 discount, 17 learn, 18 prior_dof, 19 init_cv,
20 init_level_var, 21 init_slope_var, 22 min_cv.
Output columns (OUT_*): forecast, forecast_var, level, slope, p[4], p_prev[4], score, error,
prev_error (the error of the previous observation, read before it is overwritten).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

N_OUT = 15
OUT_FORECAST, OUT_FVAR, OUT_LEVEL, OUT_SLOPE, OUT_P, OUT_PPREV = 0, 1, 2, 3, 4, 8
OUT_SCORE, OUT_ERR, OUT_PREV_ERR = 12, 13, 14


@nb.njit(cache=True, inline="always")
def _init(k, y, t, prm, m, C, p, n, d, tl, pe, cnt, out):  # type: ignore[no-untyped-def]
    s0 = prm[19] * abs(y) if y != 0.0 else 1.0
    for i in range(4):
        m[k, i, 0] = y
        m[k, i, 1] = 0.0
        C[k, i, 0, 0] = prm[20]
        C[k, i, 0, 1] = 0.0
        C[k, i, 1, 0] = 0.0
        C[k, i, 1, 1] = prm[21]
        p[k, i] = math.exp(prm[i])
        out[k, 4 + i] = p[k, i]
        out[k, 8 + i] = p[k, i]
    n[k] = prm[18]
    d[k] = prm[18] * s0 * s0
    tl[k] = t
    pe[k] = 0.0
    cnt[k] = 1
    out[k, 0] = y
    out[k, 1] = s0 * s0 * (prm[20] + 1.0)
    out[k, 2] = y
    out[k, 3] = 0.0
    out[k, 12] = 0.0
    out[k, 13] = 0.0
    out[k, 14] = 0.0


@nb.njit(cache=True, inline="always")
def _step_one(k, y, t, prm, m, C, p, n, d, tl, pe, cnt, out,  # type: ignore[no-untyped-def]
              lw, mm, cc, dd, a0, q0, w4):
    if math.isnan(y):
        for c in range(N_OUT):
            out[k, c] = math.nan
        return
    if cnt[k] == 0:
        _init(k, y, t, prm, m, C, p, n, d, tl, pe, cnt, out)
        return
    dt = t - tl[k]
    if dt < 0.0:
        dt = 0.0
    S = d[k] / n[k]
    learn = prm[17] > 0.0
    n1 = prm[16] * n[k] + 1.0 if learn else n[k]
    half = 0.5 * (n[k] + 1.0)
    # branch quantities, (4, 4) and (4, 4, 2), (4, 4, 3) [c00, c01, c11]
    fc = 0.0
    for i in range(4):
        a0[i] = m[k, i, 0] + dt * m[k, i, 1]
        fc += p[k, i] * a0[i]
    fv = 0.0
    for i in range(4):
        c00 = C[k, i, 0, 0]
        c01 = C[k, i, 0, 1]
        c11 = C[k, i, 1, 1]
        p00 = c00 + 2.0 * dt * c01 + dt * dt * c11
        p01 = c01 + dt * c11
        e = y - a0[i]
        lpi = math.log(p[k, i]) if p[k, i] > 0.0 else -math.inf
        for j in range(4):
            ws = dt * prm[8 + j]
            r00 = p00 + dt * prm[4 + j] + ws
            r01 = p01 + ws
            r11 = c11 + ws
            q = r00 + prm[12 + j]
            if j == 0:
                q0[i] = q
            g0 = r00 / q
            g1 = r01 / q
            mm[i, j, 0] = a0[i] + g0 * e
            mm[i, j, 1] = m[k, i, 1] + g1 * e
            cc[i, j, 0] = r00 - g0 * r00
            cc[i, j, 1] = r01 - g0 * r01
            cc[i, j, 2] = r11 - g1 * r01
            dd[i, j] = prm[16] * d[k] + e * e / q if learn else d[k]
            z = e * e / (S * q)
            lw[i, j] = prm[j] + lpi - 0.5 * math.log(q) - half * math.log1p(z / n[k])
        fv += p[k, i] * (S * q0[i] + (a0[i] - fc) ** 2)
    _collapse(k, m, C, p, n, d, tl, cnt, out, lw, mm, cc, dd, q0, w4, n1, learn, t,
              prm[22])
    out[k, 0] = fc
    out[k, 1] = fv
    out[k, 13] = y - fc
    out[k, 14] = pe[k]
    pe[k] = y - fc


@nb.njit(cache=True, inline="always")
def _collapse(k, m, C, p, n, d, tl, cnt, out, lw, mm, cc, dd, pold, w, n1, learn,
              t, min_cv):  # type: ignore[no-untyped-def]
    mx = -math.inf
    for i in range(4):
        for j in range(4):
            if lw[i, j] > mx:
                mx = lw[i, j]
    tot = 0.0
    for i in range(4):
        for j in range(4):
            lw[i, j] = math.exp(lw[i, j] - mx)
            tot += lw[i, j]
    prec = 0.0
    for i in range(4):
        for j in range(4):
            lw[i, j] /= tot
            prec += lw[i, j] * n1 / dd[i, j]
    S1 = 1.0 / prec if learn else d[k] / n[k]
    for i in range(4):
        pold[i] = p[k, i]
        out[k, 8 + i] = lw[i, 0] + lw[i, 1] + lw[i, 2] + lw[i, 3]
    lev = 0.0
    slo = 0.0
    for j in range(4):
        pj = lw[0, j] + lw[1, j] + lw[2, j] + lw[3, j]
        for i in range(4):
            w[i] = lw[i, j] / pj if pj > 1e-300 else pold[i]
        m0 = 0.0
        m1 = 0.0
        for i in range(4):
            m0 += w[i] * mm[i, j, 0]
            m1 += w[i] * mm[i, j, 1]
        c00 = 0.0
        c01 = 0.0
        c11 = 0.0
        for i in range(4):
            sc = dd[i, j] / (n1 * S1) if learn else 1.0
            x0 = mm[i, j, 0] - m0
            x1 = mm[i, j, 1] - m1
            c00 += w[i] * (cc[i, j, 0] * sc + x0 * x0 / S1)
            c01 += w[i] * (cc[i, j, 1] * sc + x0 * x1 / S1)
            c11 += w[i] * (cc[i, j, 2] * sc + x1 * x1 / S1)
        m[k, j, 0] = m0
        m[k, j, 1] = m1
        C[k, j, 0, 0] = c00
        C[k, j, 0, 1] = c01
        C[k, j, 1, 0] = c01
        C[k, j, 1, 1] = c11
        p[k, j] = pj
        out[k, 4 + j] = pj
        lev += pj * m0
        slo += pj * m1
    if learn:
        floor = min_cv * abs(lev)
        S1 = max(S1, floor * floor, 1e-300)
        n[k] = n1
        d[k] = n1 * S1
    tl[k] = t
    if cnt[k] < 2147483647:
        cnt[k] += 1
    out[k, 2] = lev
    out[k, 3] = slo
    out[k, 12] = 1.0 - p[k, 0]


@nb.njit(cache=True, inline="always")
def _run(lo, hi, y, t, prm, m, C, p, n, d, tl, pe, cnt, out):  # type: ignore[no-untyped-def]
    lw = np.empty((4, 4))
    mm = np.empty((4, 4, 2))
    cc = np.empty((4, 4, 3))
    dd = np.empty((4, 4))
    a0 = np.empty(4)
    q0 = np.empty(4)
    w4 = np.empty(4)
    for k in range(lo, hi):
        _step_one(k, y[k], t[k], prm, m, C, p, n, d, tl, pe, cnt, out, lw, mm, cc, dd, a0, q0, w4)


@nb.njit(cache=True)
def step_serial(y, t, prm, m, C, p, n, d, tl, pe, cnt, out):  # type: ignore[no-untyped-def]
    _run(0, y.shape[0], y, t, prm, m, C, p, n, d, tl, pe, cnt, out)


@nb.njit(cache=True, parallel=True)
def step_parallel(y, t, prm, m, C, p, n, d, tl, pe, cnt, out):  # type: ignore[no-untyped-def]
    size = y.shape[0]
    chunks = 64
    for c in nb.prange(chunks):
        lo = size * c // chunks
        hi = size * (c + 1) // chunks
        _run(lo, hi, y, t, prm, m, C, p, n, d, tl, pe, cnt, out)
