"""The numba kernel: one step of the class II multi-process filter, series by series.

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

The Student-t density is evaluated with one log1p, one exp and one sqrt a branch:
t_n(e; 0, S Q) ∝ Q^{-1/2} exp(-(n+1)/2 log1p(e²/(n S Q))), the common factor dropped and
the largest exponent subtracted before exp (no underflow).

Layout (speed: a series' state is one contiguous 256-byte record read once and written
once; no allocation per step; scalar 2×2 algebra): the state array of `STATE_DTYPE` is
passed as three views of the same memory, `sf` (N, 32) float64, `s32` (N, 64) float32 and
`si` (N, 64) int32; slots: m[i] = sf[2i : 2i+2], C[i] = sf[8+4i : 12+4i] (row-major 2×2),
p[i] = sf[24+i], n = sf[28], d = sf[29], t_last = sf[30], prev_error = s32[62],
count = si[63]. Scratch per chunk: (8, 16) float64, one column per branch 4i + j.

Params vector layout (FilterParams.as_array): [0:4] log priors, [4:8] level_var,
[8:12] slope_var, [12:16] obs_var, 16 discount, 17 learn, 18 prior_dof, 19 init_cv,
20 init_level_var, 21 init_slope_var, 22 min_cv, [23:27] priors.
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
P_PRIOR = 23
N_SCRATCH = 8
_M0, _M1, _C00, _C01, _C11, _DD, _LR, _W = 0, 1, 2, 3, 4, 5, 6, 7


@nb.njit(cache=True, inline="always")
def _init(k, y, t, prm, sf, s32, si, out):  # type: ignore[no-untyped-def]
    s0 = prm[19] * abs(y) if y != 0.0 else 1.0
    for i in range(4):
        sf[k, 2 * i] = y
        sf[k, 2 * i + 1] = 0.0
        sf[k, 8 + 4 * i] = prm[20]
        sf[k, 9 + 4 * i] = 0.0
        sf[k, 10 + 4 * i] = 0.0
        sf[k, 11 + 4 * i] = prm[21]
        sf[k, 24 + i] = prm[P_PRIOR + i]
        out[k, OUT_P + i] = prm[P_PRIOR + i]
        out[k, OUT_PPREV + i] = prm[P_PRIOR + i]
    sf[k, 28] = prm[18]
    sf[k, 29] = prm[18] * s0 * s0
    sf[k, 30] = t
    s32[k, 62] = 0.0
    si[k, 63] = 1
    out[k, OUT_FORECAST] = y
    out[k, OUT_FVAR] = s0 * s0 * (prm[20] + 1.0)
    out[k, OUT_LEVEL] = y
    out[k, OUT_SLOPE] = 0.0
    out[k, OUT_SCORE] = 0.0
    out[k, OUT_ERR] = 0.0
    out[k, OUT_PREV_ERR] = 0.0


@nb.njit(cache=True, inline="always")
def _branches(k, y, dt, prm, sf, br, S, learn):  # type: ignore[no-untyped-def]
    """Fill the 16 branch columns of `br`; returns (forecast, forecast variance)."""
    n = sf[k, 28]
    dsc = prm[16] * sf[k, 29]
    h = 0.5 * (n + 1.0)
    inv_sn = 1.0 / (S * n)
    fc = 0.0
    for i in range(4):
        fc += sf[k, 24 + i] * (sf[k, 2 * i] + dt * sf[k, 2 * i + 1])
    fv = 0.0
    for i in range(4):
        m0 = sf[k, 2 * i]
        m1 = sf[k, 2 * i + 1]
        c00 = sf[k, 8 + 4 * i]
        c01 = sf[k, 9 + 4 * i]
        c11 = sf[k, 11 + 4 * i]
        a0 = m0 + dt * m1
        e = y - a0
        ee = e * e
        p00 = c00 + 2.0 * dt * c01 + dt * dt * c11
        p01 = c01 + dt * c11
        for j in range(4):
            b = 4 * i + j
            ws = dt * prm[8 + j]
            r00 = p00 + dt * prm[4 + j] + ws
            r01 = p01 + ws
            r11 = c11 + ws
            q = r00 + prm[12 + j]
            iq = 1.0 / q
            g0 = r00 * iq
            g1 = r01 * iq
            br[_M0, b] = a0 + g0 * e
            br[_M1, b] = m1 + g1 * e
            br[_C00, b] = r00 - g0 * r00
            br[_C01, b] = r01 - g0 * r01
            br[_C11, b] = r11 - g1 * r01
            br[_DD, b] = dsc + ee * iq if learn else sf[k, 29]
            br[_LR, b] = -h * math.log1p(ee * inv_sn * iq)
            br[_W, b] = prm[P_PRIOR + j] * sf[k, 24 + i] * math.sqrt(iq)
        q0 = p00 + dt * (prm[4] + prm[8]) + prm[12]
        fv += sf[k, 24 + i] * (S * q0 + (a0 - fc) ** 2)
    return fc, fv


@nb.njit(cache=True, inline="always")
def _weights(br, out, k):  # type: ignore[no-untyped-def]
    """Normalised branch probabilities into br[_W]; p_prev (sum over j) into out."""
    mx = -math.inf
    for b in range(16):
        if br[_W, b] > 0.0 and br[_LR, b] > mx:
            mx = br[_LR, b]
    tot = 0.0
    for b in range(16):
        w = br[_W, b] * math.exp(br[_LR, b] - mx) if br[_W, b] > 0.0 else 0.0
        br[_W, b] = w
        tot += w
    for i in range(4):
        s = 0.0
        for j in range(4):
            br[_W, 4 * i + j] /= tot  # a division: one live branch gets exactly 1
            s += br[_W, 4 * i + j]
        out[k, OUT_PPREV + i] = s


@nb.njit(cache=True, inline="always")
def _collapse(k, sf, br, out, n1, S1, learn):  # type: ignore[no-untyped-def]
    """Moment-match the 16 branches to 4 components; returns (level, slope)."""
    lev = 0.0
    slo = 0.0
    iS = 1.0 / S1
    isc = 1.0 / (n1 * S1)
    for j in range(4):
        pj = br[_W, j] + br[_W, 4 + j] + br[_W, 8 + j] + br[_W, 12 + j]
        ok = pj > 1e-300
        inv = 1.0 / pj if ok else 0.0
        m0 = 0.0
        m1 = 0.0
        for i in range(4):
            w = br[_W, 4 * i + j] * inv if ok else sf[k, 24 + i]
            m0 += w * br[_M0, 4 * i + j]
            m1 += w * br[_M1, 4 * i + j]
        c00 = 0.0
        c01 = 0.0
        c11 = 0.0
        for i in range(4):
            b = 4 * i + j
            w = br[_W, b] * inv if ok else sf[k, 24 + i]
            sc = br[_DD, b] * isc if learn else 1.0
            x0 = br[_M0, b] - m0
            x1 = br[_M1, b] - m1
            c00 += w * (br[_C00, b] * sc + x0 * x0 * iS)
            c01 += w * (br[_C01, b] * sc + x0 * x1 * iS)
            c11 += w * (br[_C11, b] * sc + x1 * x1 * iS)
        br[_LR, j] = pj  # the new p[j]; sf[24+i] is still read above as a fallback
        br[_LR, 4 + j] = m0
        br[_LR, 8 + j] = m1
        sf[k, 8 + 4 * j] = c00
        sf[k, 9 + 4 * j] = c01
        sf[k, 10 + 4 * j] = c01
        sf[k, 11 + 4 * j] = c11
    for j in range(4):
        pj = br[_LR, j]
        sf[k, 2 * j] = br[_LR, 4 + j]
        sf[k, 2 * j + 1] = br[_LR, 8 + j]
        sf[k, 24 + j] = pj
        out[k, OUT_P + j] = pj
        lev += pj * br[_LR, 4 + j]
        slo += pj * br[_LR, 8 + j]
    return lev, slo


@nb.njit(cache=True, inline="always")
def _step_one(k, y, t, prm, sf, s32, si, out, br):  # type: ignore[no-untyped-def]
    if math.isnan(y):
        for c in range(N_OUT):
            out[k, c] = math.nan
        return
    if si[k, 63] == 0:
        _init(k, y, t, prm, sf, s32, si, out)
        return
    dt = max(t - sf[k, 30], 0.0)
    n = sf[k, 28]
    S = sf[k, 29] / n
    learn = prm[17] > 0.0
    n1 = prm[16] * n + 1.0 if learn else n
    fc, fv = _branches(k, y, dt, prm, sf, br, S, learn)
    _weights(br, out, k)
    S1 = S
    if learn:
        prec = 0.0
        for b in range(16):
            prec += br[_W, b] * n1 / br[_DD, b]
        S1 = 1.0 / prec
    lev, slo = _collapse(k, sf, br, out, n1, S1, learn)
    if learn:
        floor = prm[22] * abs(lev)
        S1 = max(S1, floor * floor, 1e-300)
        sf[k, 28] = n1
        sf[k, 29] = n1 * S1
    sf[k, 30] = t
    if si[k, 63] < 2147483647:
        si[k, 63] += 1
    out[k, OUT_FORECAST] = fc
    out[k, OUT_FVAR] = fv
    out[k, OUT_LEVEL] = lev
    out[k, OUT_SLOPE] = slo
    out[k, OUT_SCORE] = 1.0 - sf[k, 24]
    out[k, OUT_ERR] = y - fc
    out[k, OUT_PREV_ERR] = s32[k, 62]
    s32[k, 62] = y - fc


@nb.njit(cache=True, inline="always")
def _run(lo, hi, y, t, prm, sf, s32, si, out):  # type: ignore[no-untyped-def]
    br = np.empty((N_SCRATCH, 16))
    for k in range(lo, hi):
        _step_one(k, y[k], t[k], prm, sf, s32, si, out, br)


@nb.njit(cache=True)
def step_serial(y, t, prm, sf, s32, si, out):  # type: ignore[no-untyped-def]
    _run(0, y.shape[0], y, t, prm, sf, s32, si, out)


@nb.njit(cache=True, parallel=True)
def step_parallel(y, t, prm, sf, s32, si, out):  # type: ignore[no-untyped-def]
    size = y.shape[0]
    chunks = 64
    for c in nb.prange(chunks):
        lo = size * c // chunks
        hi = size * (c + 1) // chunks
        _run(lo, hi, y, t, prm, sf, s32, si, out)


def views(state: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (N, 32) float64, (N, 64) float32 and (N, 64) int32 views of a state array."""
    n = state.shape[0]
    return (state.view(np.float64).reshape(n, 32), state.view(np.float32).reshape(n, 64),
            state.view(np.int32).reshape(n, 64))
