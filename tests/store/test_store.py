from __future__ import annotations

import numpy as np
import pytest

from cybersyn.economy import Economy
from cybersyn.errors import Conflict
from cybersyn.store import Store


def test_economy_round_trips(demo_store: Store, demo: Economy) -> None:
    back = demo_store.load_economy()
    assert back.io.product_codes == demo.io.product_codes
    np.testing.assert_array_equal(back.io.A.toarray(), demo.io.A.toarray())
    np.testing.assert_array_equal(back.io.capacity, demo.io.capacity)
    assert [u.__dict__ for u in back.units] == [u.__dict__ for u in demo.units]
    assert back.indicators == demo.indicators
    assert back.districts == demo.districts


def test_second_load_refused_without_replace(demo_store: Store, demo: Economy) -> None:
    with pytest.raises(Conflict):
        demo_store.save_economy(demo)
    demo_store.save_economy(demo, replace=True)
    assert len(demo_store.load_economy().units) == len(demo.units)


def test_migrate_is_idempotent(store: Store) -> None:
    store.migrate()
    assert store.is_current()


def test_unmigrated_database_is_reported(store_url: str) -> None:
    from cybersyn.errors import CybersynError

    fresh = Store(store_url)
    assert not fresh.is_current()
    with pytest.raises(CybersynError, match="cybersyn init"):
        fresh.require_current()
    fresh.close()


def test_unopenable_database_is_one_line(tmp_path: object) -> None:
    from cybersyn.errors import CybersynError

    store = Store(f"sqlite:///{tmp_path}/no/such/folder/x.db")
    with pytest.raises(CybersynError, match="cannot open database"):
        store.require_current()
