"""The BEA 2012 detail tables from ../shared/data (skipped where the data is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from cybersyn.economy import spectral_radius
from cybersyn.economy.bea import load_bea_detail, published_gross_output, read_use_make

BEA = Path(os.environ.get("CYBERSYN_DATA", Path(__file__).parents[3] / "shared" / "data")) \
    / "io" / "bea2012"
pytestmark = [pytest.mark.data, pytest.mark.skipif(
    not BEA.exists(), reason=f"BEA data not found at {BEA} (set CYBERSYN_DATA)")]


def test_total_output_row_equals_published_gross_output() -> None:
    tables = read_use_make(BEA)
    published = published_gross_output(BEA)
    ours = dict(zip(tables["industry_codes"], tables["g"], strict=True))
    assert ours.keys() == published.keys()
    gaps = [abs(ours[c] - published[c]) for c in ours]
    assert max(gaps) <= 1.0  # both are rounded to $1 million


def test_detail_A_is_productive_with_405_products() -> None:
    eco = load_bea_detail(BEA)
    assert eco.io.n == 405
    dense = eco.io.A.toarray()
    rho_dense = float(np.abs(np.linalg.eigvals(dense)).max())
    assert spectral_radius(eco.io.A) == pytest.approx(rho_dense, abs=1e-3)
    assert rho_dense < 1


def test_industry_technology_reproduces_commodity_output() -> None:
    """With A = B D, the commodity balance q = A q + (final demand incl. imports) holds."""
    t = read_use_make(BEA)
    eco = load_bea_detail(BEA)
    q = np.asarray(t["q"])
    intermediate = np.clip(np.asarray(t["U"]), 0, None).sum(axis=1)
    # Make row totals equal industry output only to the $1 million rounding of the tables
    np.testing.assert_allclose(eco.io.A @ q, intermediate, rtol=1e-4, atol=1.0)
