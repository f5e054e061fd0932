"""The numba kernel: one step of the class II multi-process filter over N series.

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

Layout and speed. The state is one contiguous 256-byte record per series (`STATE_DTYPE`),
passed as three views of the same memory: `sf` (N, 32) float64, `s32` (N, 64) float32 and
`si` (N, 64) int32; slots: m[i] = sf[2i : 2i+2], C[i] = sf[8+4i : 12+4i] (row-major 2×2),
p[i] = sf[24+i], n = sf[28], d = sf[29], t_last = sf[30], prev_error = s32[62],
count = si[63]. The kernel works on blocks of `LANES` series: it copies a block's records
into the columns of a scratch array `wk` (rows = quantities, columns = series: a
structure-of-arrays tile that stays in cache), runs every stage of the update as a loop
over the block's series (the innermost loop, with no calls and no branches, so LLVM
vectorises it: AVX-512 does 8 series at a time), and copies the new records back. The
transcendental functions are this module's own `_exp` and `_log1p` (fdlibm's polynomials,
< 1 ulp; IEEE arithmetic only, so they vectorise without SVML and a series gives the same
bits whatever its position in a block, block size or thread: serial == parallel, one series
alone == the same series among others; the one fast-math flag is `contract`, letting
LLVM fuse a*b+c into one FMA, the same way in every column). A missing value or a
series' first observation is handled while copying in (the vector stages then skip that
column's results).

Params vector layout (FilterParams.as_array): [0:4] log priors, [4:8] level_var,
[8:12] slope_var, [12:16] obs_var, 16 discount, 17 learn, 18 prior_dof, 19 init_cv,
20 init_level_var, 21 init_slope_var, 22 min_cv, [23:27] priors.
Output columns (OUT_*): forecast, forecast_var, level, slope, p[4], p_prev[4], score, error,
prev_error (the error of the previous observation, read before it is overwritten).
"""

from __future__ import annotations

import math
from typing import Any

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

N_OUT = 15
OUT_FORECAST, OUT_FVAR, OUT_LEVEL, OUT_SLOPE, OUT_P, OUT_PPREV = 0, 1, 2, 3, 4, 8
OUT_SCORE, OUT_ERR, OUT_PREV_ERR = 12, 13, 14
P_PRIOR = 23
LANES = 32  # series per tile (the tile, ROWS x LANES float64 = 62 KB, stays in L1/L2)
VEC = 8  # the tile width used when at most VEC series are left (one AVX-512 vector)

# Rows of the scratch tile `wk` (ROWS, LANES). 0..31: the old state, slot for slot.
R_Y, R_T, R_DT, R_S, R_H, R_ISN, R_DSC, R_N1 = 32, 33, 34, 35, 36, 37, 38, 39
R_FC, R_FV, R_MX, R_TOT, R_PREC, R_LEV, R_SLO = 40, 41, 42, 43, 44, 45, 46
R_A0, R_E, R_EE, R_P00, R_P01 = 48, 52, 56, 60, 64  # + i (component at t-1)
R_LR, R_W, R_BM0, R_BM1, R_BC00, R_BC01, R_BC11, R_DD = 68, 84, 100, 116, 132, 148, 164, 180
R_NEW = 196  # + slot: the new state (m, C, p), written by the collapse
R_OUT = 228  # + OUT_* column
ROWS = R_OUT + N_OUT

# fdlibm (e_exp.c, e_log.c) constants.
_LN2_HI, _LN2_LO, _INV_LN2 = 6.93147180369123816490e-01, 1.90821492927058770002e-10, \
    1.44269504088896338700e+00
_P1, _P2, _P3 = 1.66666666666666019037e-01, -2.77777777770155933842e-03, \
    6.61375632143793436117e-05
_P4, _P5 = -1.65339022054652515390e-06, 4.13813679705723846039e-08
_LG1, _LG2, _LG3 = 6.666666666666735130e-01, 3.999999999940941908e-01, \
    2.857142874366239149e-01
_LG4, _LG5, _LG6 = 2.222219843214978396e-01, 1.818357216161805012e-01, \
    1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT2 = 1.4142135623730951
_EXP_MIN = -708.39  # below: 0 (a weight e^-708 of the largest is nothing)


def _f2i_typing(typingctx, x):  # type: ignore[no-untyped-def]
    """The bits of a float64 as int64 (an LLVM bitcast, vectorisable)."""
    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


_f2i: Any = intrinsic(_f2i_typing)


def _i2f_typing(typingctx, x):  # type: ignore[no-untyped-def]
    """The float64 whose bits are an int64 (an LLVM bitcast, vectorisable)."""
    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


_i2f: Any = intrinsic(_i2f_typing)


def _sqrt_typing(typingctx, x):  # type: ignore[no-untyped-def]
    """IEEE sqrt as the LLVM intrinsic (numba's math.sqrt is a libm call, which stops
    vectorisation)."""
    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        fn = builder.module.declare_intrinsic("llvm.sqrt", [ir.DoubleType()])
        return builder.call(fn, args)
    return types.float64(types.float64), codegen


_sqrt: Any = intrinsic(_sqrt_typing)


def _stream_typing(typingctx, arr, i, j, val):  # type: ignore[no-untyped-def]
    """arr[i, j] = val as a non-temporal store (no read of the line first; the output rows
    are written once and not read back here, which saves a third of their memory traffic)."""
    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1], args[2]],
                                       wraparound=False)  # type: ignore[no-untyped-call]
        st = builder.store(args[3], ptr)
        st.set_metadata("nontemporal", builder.module.add_metadata(
            [ir.Constant(ir.IntType(32), 1)]))
        return context.get_dummy_value()
    return types.void(arr, i, j, val), codegen


_stream: Any = intrinsic(_stream_typing)


def _sfence_typing(typingctx):  # type: ignore[no-untyped-def]
    """Order the non-temporal stores before anything that follows (x86 sfence)."""
    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        fn = builder.module.declare_intrinsic("llvm.x86.sse.sfence", fnty=ir.FunctionType(
            ir.VoidType(), []))
        builder.call(fn, [])
        return context.get_dummy_value()
    return types.void(), codegen


_sfence: Any = intrinsic(_sfence_typing)


@nb.njit(cache=True, inline="always", error_model="numpy")
def _exp(x):  # type: ignore[no-untyped-def]
    """e**x for x <= 0 (fdlibm's reduction and rational approximation, < 1 ulp); 0 below
    -708.39; NaN for NaN. exp(0) == 1 exactly."""
    xc = x if x > _EXP_MIN else _EXP_MIN
    k = math.floor(xc * _INV_LN2 + 0.5)
    hi = xc - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    v = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    v = v * _i2f((np.int64(k) + 1023) << 52)
    return v if x >= _EXP_MIN else (0.0 if x < _EXP_MIN else x)


@nb.njit(cache=True, inline="always", error_model="numpy")
def _log1p(z):  # type: ignore[no-untyped-def]
    """log(1 + z) for z >= 0 (fdlibm's log polynomial on 1 + z plus the rounding
    correction (z - ((1 + z) - 1)) / (1 + z)); inf for inf."""
    u = 1.0 + z
    bits = _f2i(u)
    e = (bits >> 52) - 1023
    m = _i2f((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # u = 2^e m, 1 <= m < 2
    big = m > _SQRT2
    m = 0.5 * m if big else m
    dk = np.float64(e + 1 if big else e)
    f = m - 1.0
    s = f / (2.0 + f)
    z2 = s * s
    w = z2 * z2
    r = w * (_LG2 + w * (_LG4 + w * _LG6)) + z2 * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    hfsq = 0.5 * f * f
    lg = dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + dk * _LN2_LO)) - f)
    v = lg + (z - (u - 1.0)) / u
    return v if u < math.inf else u


@nb.njit(cache=True, inline="always", error_model="numpy")
def _load(k0, nb_, y, t, sf, s32, si, out, cnt, prm, wk):  # type: ignore[no-untyped-def]
    """Copy series k0..k0+nb_ into the tile's columns; settle missing values and first
    observations here. Returns how many columns need the full update (0 = skip them)."""
    live = 0
    for b in range(nb_):
        k = k0 + b
        yk = y[k]
        tk = t[k] if t.shape[0] > 1 else t[0]
        for s in range(31):
            wk[s, b] = sf[k, s]
        wk[R_Y, b] = yk
        wk[R_T, b] = tk
        if math.isnan(yk):
            for c in range(N_OUT):
                out[k, c] = math.nan
            cnt[k] = si[k, 63]
            wk[R_Y, b] = math.nan  # marks the column: do not store
        elif si[k, 63] == 0:
            _init(k, yk, tk, prm, sf, s32, si, out)
            cnt[k] = 1
            wk[R_Y, b] = math.nan
        else:
            live += 1
    return live


@nb.njit(cache=True, inline="always", error_model="numpy")
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


@nb.njit(cache=True, inline="always", error_model="numpy")
def _store(k0, nb_, sf, s32, si, out, cnt, wk):  # type: ignore[no-untyped-def]
    """Copy the updated columns back into their records and output rows."""
    for b in range(nb_):
        if math.isnan(wk[R_Y, b]):
            continue
        k = k0 + b
        for s in range(28):
            sf[k, s] = wk[R_NEW + s, b]
        sf[k, 28] = wk[R_NEW + 28, b]
        sf[k, 29] = wk[R_NEW + 29, b]
        sf[k, 30] = wk[R_T, b]
        for c in range(N_OUT - 1):
            _stream(out, k, c, wk[R_OUT + c, b])
        _stream(out, k, OUT_PREV_ERR, np.float64(s32[k, 62]))
        s32[k, 62] = wk[R_OUT + OUT_ERR, b]
        if si[k, 63] < 2147483647:
            si[k, 63] += 1
        cnt[k] = si[k, 63]


@nb.njit(cache=True, inline="always", error_model="numpy")
def _update_tile(prm, wk, width):  # type: ignore[no-untyped-def]
    """The update of the tile's first `width` columns (a constant: LANES, or VEC for small
    tiles). Each stage is a loop over them (a constant trip count: LLVM then proves the
    rows independent and vectorises), with
    every load outside conditionals (so branches become selects). Columns not in use hold
    stale numbers; their results are never stored."""
    learn = prm[17] > 0.0
    disc = prm[16]
    for b in range(width):  # per series
        n = wk[28, b]
        d = wk[29, b]
        dt = max(wk[R_T, b] - wk[30, b], 0.0)
        S = d / n
        wk[R_DT, b] = dt
        wk[R_S, b] = S
        wk[R_H, b] = 0.5 * (n + 1.0)
        wk[R_ISN, b] = 1.0 / (S * n)
        wk[R_DSC, b] = disc * d
        wk[R_N1, b] = disc * n + 1.0 if learn else n
        fc = 0.0
        for i in range(4):
            fc += wk[24 + i, b] * (wk[2 * i, b] + dt * wk[2 * i + 1, b])
        wk[R_FC, b] = fc
        wk[R_FV, b] = 0.0
        wk[R_MX, b] = -math.inf
        wk[R_TOT, b] = 0.0
        wk[R_PREC, b] = 0.0
    q0c = prm[4] + prm[8]
    ov0 = prm[12]
    for i in range(4):  # per component at t-1
        for b in range(width):
            dt = wk[R_DT, b]
            c01 = wk[9 + 4 * i, b]
            c11 = wk[11 + 4 * i, b]
            a0 = wk[2 * i, b] + dt * wk[2 * i + 1, b]
            e = wk[R_Y, b] - a0
            p00 = wk[8 + 4 * i, b] + 2.0 * dt * c01 + dt * dt * c11
            wk[R_A0 + i, b] = a0
            wk[R_E + i, b] = e
            wk[R_EE + i, b] = e * e
            wk[R_P00 + i, b] = p00
            wk[R_P01 + i, b] = c01 + dt * c11
            q0 = p00 + dt * q0c + ov0
            fc = wk[R_FC, b]
            wk[R_FV, b] += wk[24 + i, b] * (wk[R_S, b] * q0 + (a0 - fc) * (a0 - fc))
    for i in range(4):  # per branch: Kalman update and log predictive density
        for j in range(4):
            br = 4 * i + j
            lv, sv, ov, pr = prm[4 + j], prm[8 + j], prm[12 + j], prm[P_PRIOR + j]
            for b in range(width):
                dt = wk[R_DT, b]
                e = wk[R_E + i, b]
                ee = wk[R_EE + i, b]
                ws = dt * sv
                r00 = wk[R_P00 + i, b] + dt * lv + ws
                r01 = wk[R_P01 + i, b] + ws
                r11 = wk[11 + 4 * i, b] + ws
                iq = 1.0 / (r00 + ov)
                g0 = r00 * iq
                g1 = r01 * iq
                wk[R_BM0 + br, b] = wk[R_A0 + i, b] + g0 * e
                wk[R_BM1 + br, b] = wk[2 * i + 1, b] + g1 * e
                wk[R_BC00 + br, b] = r00 - g0 * r00
                wk[R_BC01 + br, b] = r01 - g0 * r01
                wk[R_BC11 + br, b] = r11 - g1 * r01
                dd_learn = wk[R_DSC, b] + ee * iq  # loads outside conditionals: selects
                dd_fixed = wk[29, b]
                wk[R_DD + br, b] = dd_learn if learn else dd_fixed
                lr = -wk[R_H, b] * _log1p(ee * wk[R_ISN, b] * iq)
                w = pr * wk[24 + i, b] * _sqrt(iq)
                wk[R_LR + br, b] = lr
                wk[R_W + br, b] = w
                mx = wk[R_MX, b]
                wk[R_MX, b] = lr if (w > 0.0 and lr > mx) else mx
    for br in range(16):  # weights, relative to the largest live exponent
        for b in range(width):
            w = wk[R_W + br, b]
            x = _exp(wk[R_LR + br, b] - wk[R_MX, b])
            w = w * x if w > 0.0 else 0.0
            wk[R_W + br, b] = w
            wk[R_TOT, b] += w
    for i in range(4):  # normalise (a division: one live branch gets exactly 1); p_prev
        for b in range(width):
            wk[R_OUT + OUT_PPREV + i, b] = 0.0
        for j in range(4):
            br = 4 * i + j
            for b in range(width):
                w = wk[R_W + br, b] / wk[R_TOT, b]
                wk[R_W + br, b] = w
                wk[R_OUT + OUT_PPREV + i, b] += w
                wk[R_PREC, b] += w * wk[R_N1, b] / wk[R_DD + br, b]
    for b in range(width):
        s_learn = 1.0 / wk[R_PREC, b]
        s_fixed = wk[R_S, b]
        wk[R_PREC, b] = s_learn if learn else s_fixed  # now S'
        wk[R_LEV, b] = 0.0
        wk[R_SLO, b] = 0.0
    for j in range(4):  # collapse the 4 branches ending in regime j (moment matching)
        for b in range(width):
            S1 = wk[R_PREC, b]
            iS = 1.0 / S1
            isc = 1.0 / (wk[R_N1, b] * S1)
            pj = wk[R_W + j, b] + wk[R_W + 4 + j, b] + wk[R_W + 8 + j, b] + wk[R_W + 12 + j, b]
            ok = pj > 1e-300
            inv = 1.0 / pj if ok else 0.0
            m0 = 0.0
            m1 = 0.0
            for i in range(4):
                wn = wk[R_W + 4 * i + j, b] * inv
                wp = wk[24 + i, b]
                w = wn if ok else wp
                m0 += w * wk[R_BM0 + 4 * i + j, b]
                m1 += w * wk[R_BM1 + 4 * i + j, b]
            c00 = 0.0
            c01 = 0.0
            c11 = 0.0
            for i in range(4):
                br = 4 * i + j
                wn = wk[R_W + br, b] * inv
                wp = wk[24 + i, b]
                w = wn if ok else wp
                sc_learn = wk[R_DD + br, b] * isc
                sc = sc_learn if learn else 1.0
                x0 = wk[R_BM0 + br, b] - m0
                x1 = wk[R_BM1 + br, b] - m1
                c00 += w * (wk[R_BC00 + br, b] * sc + x0 * x0 * iS)
                c01 += w * (wk[R_BC01 + br, b] * sc + x0 * x1 * iS)
                c11 += w * (wk[R_BC11 + br, b] * sc + x1 * x1 * iS)
            wk[R_NEW + 2 * j, b] = m0
            wk[R_NEW + 2 * j + 1, b] = m1
            wk[R_NEW + 8 + 4 * j, b] = c00
            wk[R_NEW + 9 + 4 * j, b] = c01
            wk[R_NEW + 10 + 4 * j, b] = c01
            wk[R_NEW + 11 + 4 * j, b] = c11
            wk[R_NEW + 24 + j, b] = pj
            wk[R_OUT + OUT_P + j, b] = pj
            wk[R_LEV, b] += pj * m0
            wk[R_SLO, b] += pj * m1
    floor_cv = prm[22]
    for b in range(width):  # the variance estimate and the outputs
        lev = wk[R_LEV, b]
        S1 = wk[R_PREC, b]
        n1 = wk[R_N1, b]
        if learn:
            fl = floor_cv * abs(lev)
            S1 = max(S1, fl * fl, 1e-300)
        wk[R_NEW + 28, b] = n1
        d_fixed = wk[29, b]
        wk[R_NEW + 29, b] = n1 * S1 if learn else d_fixed
        fc = wk[R_FC, b]
        wk[R_OUT + OUT_FORECAST, b] = fc
        wk[R_OUT + OUT_FVAR, b] = wk[R_FV, b]
        wk[R_OUT + OUT_LEVEL, b] = lev
        wk[R_OUT + OUT_SLOPE, b] = wk[R_SLO, b]
        wk[R_OUT + OUT_SCORE, b] = 1.0 - wk[R_NEW + 24, b]
        wk[R_OUT + OUT_ERR, b] = wk[R_Y, b] - fc


@nb.njit(cache=True, error_model="numpy", fastmath={"contract"})
def _run(lo, hi, y, t, prm, sf, s32, si, out, cnt):  # type: ignore[no-untyped-def]
    """Series lo..hi-1, tile by tile (compiled once; the tile is allocated here, where
    LLVM sees its constant shape and that it aliases nothing: both are what let the
    stages vectorise, so `_update_tile` is inlined here, not compiled on its own)."""
    wk = np.empty((ROWS, LANES))  # unused columns hold stale numbers, never stored
    for k0 in range(lo, hi, LANES):
        nb_ = min(LANES, hi - k0)
        if _load(k0, nb_, y, t, sf, s32, si, out, cnt, prm, wk) > 0:
            if nb_ <= VEC:  # a tile of at most VEC series (one filtered alone): one vector
                _update_tile(prm, wk, VEC)
            else:
                _update_tile(prm, wk, LANES)
            _store(k0, nb_, sf, s32, si, out, cnt, wk)
    _sfence()


@nb.njit(cache=True, error_model="numpy")
def step_serial(y, t, prm, sf, s32, si, out, cnt):  # type: ignore[no-untyped-def]
    """One step over all N series in this thread. y (N,); t (N,) or (1,) times; prm
    params vector; sf/s32/si views of the state (`views`); out (N, N_OUT) float64 and
    cnt (N,) int32 (observations seen) are written."""
    _run(0, y.shape[0], y, t, prm, sf, s32, si, out, cnt)


@nb.njit(cache=True, parallel=True, error_model="numpy")
def step_parallel(y, t, prm, sf, s32, si, out, cnt):  # type: ignore[no-untyped-def]
    """`step_serial` over numba's threads (same bits: series are independent)."""
    size = y.shape[0]
    chunks = 64
    for c in nb.prange(chunks):
        lo = size * c // chunks
        hi = size * (c + 1) // chunks
        _run(lo, hi, y, t, prm, sf, s32, si, out, cnt)


def views(state: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (N, 32) float64, (N, 64) float32 and (N, 64) int32 views of a state array."""
    n = state.shape[0]
    return (state.view(np.float64).reshape(n, 32), state.view(np.float32).reshape(n, 64),
            state.view(np.int32).reshape(n, 64))
