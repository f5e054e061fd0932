"""A parallel CSR matrix-vector product (numba, all cores): the inner loop of every
iterative Leontief solve, y = K x gathered row by row."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(parallel=True, cache=True, fastmath=False)
def _csr_matvec(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                x: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    n = indptr.size - 1
    for i in numba.prange(n):
        acc = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            acc += data[k] * x[indices[k]]
        out[i] = acc


def csr_matvec(K: object, x: np.ndarray) -> np.ndarray:
    """K @ x for a scipy CSR matrix K of shape (n, m) and x of shape (m,)."""
    out = np.empty(K.shape[0])  # type: ignore[attr-defined]
    _csr_matvec(K.indptr, K.indices, K.data, np.ascontiguousarray(x, dtype=float), out)  # type: ignore[attr-defined]
    return out
