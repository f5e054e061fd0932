"""Sparse IO analysis against dense linear algebra on small systems."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cybersyn.errors import InvalidInput
from cybersyn.plan import (
    check_productive,
    employment_multipliers,
    labour_values,
    leontief_output,
    output_multipliers,
    total_requirements,
)
from cybersyn.plan.synthetic import random_economy


def small(n: int = 60, seed: int = 3) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    eco = random_economy(n, seed=seed, inputs=(3, 8))
    return eco.A, eco.labour, eco.final_demand


@pytest.mark.parametrize("method", ["direct", "iterative", "power"])
def test_leontief_output_equals_dense_solve(method: str) -> None:
    A, _, y = small()
    x = leontief_output(A, y, method=method)
    dense = np.linalg.solve(np.eye(A.shape[0]) - A.toarray(), y)
    np.testing.assert_allclose(x, dense, rtol=1e-8)


@pytest.mark.parametrize("method", ["direct", "iterative", "power"])
def test_labour_values_are_a_fixed_point(method: str) -> None:
    A, lab, _ = small(80, seed=5)
    v = labour_values(A, lab, method=method)
    np.testing.assert_allclose(v, lab + A.T @ v, rtol=1e-8)
    dense = np.linalg.solve(np.eye(A.shape[0]) - A.toarray().T, lab)
    np.testing.assert_allclose(v, dense, rtol=1e-8)


def test_multipliers_match_the_dense_inverse() -> None:
    A, lab, _ = small(40, seed=7)
    inv = np.linalg.inv(np.eye(40) - A.toarray())
    np.testing.assert_allclose(output_multipliers(A), inv.sum(axis=0), rtol=1e-9)
    np.testing.assert_allclose(employment_multipliers(A, lab), lab @ inv, rtol=1e-9)
    np.testing.assert_allclose(total_requirements(A, 11), inv[:, 11], rtol=1e-9)


def test_non_productive_matrix_is_named() -> None:
    A = sp.csr_matrix(np.array([[0.5, 0.6], [0.7, 0.5]]))
    with pytest.raises(InvalidInput, match="not productive"):
        check_productive(A, ("iron", "coal"))
    with pytest.raises(InvalidInput, match=r"A\[iron, coal\]"):
        check_productive(sp.csr_matrix(np.array([[0.1, -0.2], [0.0, 0.1]])), ("iron", "coal"))
    assert check_productive(sp.csr_matrix(np.array([[0.1, 0.2], [0.3, 0.1]]))) < 1


def test_bad_shapes_and_methods_are_clear() -> None:
    A, lab, _ = small(10)
    with pytest.raises(InvalidInput, match="shape"):
        labour_values(A, lab[:5])
    with pytest.raises(InvalidInput, match="method"):
        labour_values(A, lab, method="magic")


def test_synthetic_economy_has_requested_shape() -> None:
    eco = random_economy(2000, seed=1)
    sums = np.asarray(eco.A.sum(axis=0)).ravel()
    assert sums.max() <= 0.9 + 1e-12 and sums.min() >= 0.5 - 1e-12
    per_column = np.diff(eco.A.tocsc().indptr)
    assert 8 <= per_column.mean() <= 20
    indeg = np.diff(eco.A.indptr)
    assert indeg.max() > 20 * np.median(indeg)  # power-law: a few products feed very many
