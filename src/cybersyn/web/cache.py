"""The loaded economy, cached per app and reloaded only when the database's copy changes.

Loading an economy of 10^4 units from the store costs far more than a page may take, so the
Opsroom keeps one copy (with the derived lookups its pages need) and checks a cheap
fingerprint (unit and indicator counts, economy name) on each request.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from cybersyn.economy.model import Economy, Indicator
from cybersyn.store import Store
from cybersyn.store import schema as t


@dataclass(frozen=True)
class Loaded:
    """An economy with lookups: `order` lists unit ids depth-first (parents first) with
    their depth; `indicators_of` maps a unit id to its own indicators."""

    economy: Economy
    order: tuple[tuple[str, int], ...]
    indicators_of: dict[str, tuple[Indicator, ...]] = field(repr=False)
    subtree_size: dict[str, int] = field(repr=False)


def derive(economy: Economy) -> Loaded:
    units = economy.units
    order: list[tuple[str, int]] = []
    depth: dict[str, int] = {}
    for uid in units.walk():
        parent = units[uid].parent
        depth[uid] = 0 if parent is None else depth[parent] + 1
        order.append((uid, depth[uid]))
    size = dict.fromkeys(depth, 1)
    for uid, _d in reversed(order):
        parent = units[uid].parent
        if parent is not None:
            size[parent] += size[uid]
    by_unit: dict[str, list[Indicator]] = defaultdict(list)
    for ind in economy.indicators:
        by_unit[ind.unit_id].append(ind)
    return Loaded(economy, tuple(order), {k: tuple(v) for k, v in by_unit.items()}, size)


class EconomyCache:
    """One `Loaded` economy per store, refreshed when the fingerprint changes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._fingerprint: tuple[object, ...] | None = None
        self._loaded: Loaded | None = None

    def _fingerprint_now(self) -> tuple[object, ...]:
        with self.store.read() as conn:
            n_units = conn.execute(sa.select(sa.func.count()).select_from(t.units)).scalar()
            n_ind = conn.execute(sa.select(sa.func.count()).select_from(t.indicators)).scalar()
            name = conn.execute(sa.select(t.economy_meta.c.value)
                                .where(t.economy_meta.c.key == "name")).scalar()
        return (n_units, n_ind, name)

    def get(self) -> Loaded:
        """The current economy; raises NotFound when none is loaded."""
        fp = self._fingerprint_now()
        with self._lock:
            if self._loaded is None or fp != self._fingerprint:
                self._loaded = derive(self.store.load_economy())
                self._fingerprint = fp
            return self._loaded
