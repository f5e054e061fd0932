"""The part of the economy the shell needs per request: indicator -> unit, unit -> parent
and level. Read from the store once and cached per store, re-read when the economy in the
store changes (its name and counts of units and indicators are the fingerprint)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from cybersyn.errors import NotFound
from cybersyn.store import Store
from cybersyn.store.schema import economy_meta, indicators, units


@dataclass(frozen=True)
class Catalog:
    """indicator_unit: indicator id -> unit id; parent: unit id -> parent id (None at the
    root); level: unit id -> level name ('nation', 'sector', 'enterprise', 'plant')."""

    indicator_unit: dict[str, str]
    parent: dict[str, str | None]
    level: dict[str, str]

    def lineage(self, unit_id: str) -> list[str]:
        """`unit_id` and its ancestors, the unit first and the root last."""
        out: list[str] = []
        u: str | None = unit_id
        while u is not None:
            out.append(u)
            u = self.parent[u]
        return out

    def covers(self, units: Iterable[str], unit_id: str) -> bool:
        """Whether one of `units` is `unit_id` or an ancestor (a unit covers its subtree)."""
        held = set(units)
        return bool(held) and unit_id in self.parent and any(
            u in held for u in self.lineage(unit_id))


_cache: weakref.WeakKeyDictionary[Store, tuple[tuple[object, ...], Catalog]] = (
    weakref.WeakKeyDictionary())
_lock = threading.Lock()


def _fingerprint(conn: sa.Connection) -> tuple[object, ...]:
    """(economy name, number of units, number of indicators), in one round trip."""
    name = (sa.select(economy_meta.c.value).where(economy_meta.c.key == "name")
            .scalar_subquery())
    n_units = sa.select(sa.func.count()).select_from(units).scalar_subquery()
    n_ind = sa.select(sa.func.count()).select_from(indicators).scalar_subquery()
    return tuple(conn.execute(sa.select(name, n_units, n_ind)).one())


def catalog(store: Store, conn: sa.Connection | None = None) -> Catalog:
    """The cached catalog of `store` (read through `conn` when given)."""
    if conn is None:
        with store.read() as c:
            return catalog(store, c)
    fp = _fingerprint(conn)
    with _lock:
        hit = _cache.get(store)
    if hit is not None and hit[0] == fp:
        return hit[1]
    if not fp[1]:
        raise NotFound("no economy loaded: run `cybersyn init`")
    cat = Catalog(
        dict(conn.execute(sa.select(indicators.c.id, indicators.c.unit_id)).all()),
        dict(conn.execute(sa.select(units.c.id, units.c.parent_id)).all()),
        dict(conn.execute(sa.select(units.c.id, units.c.level)).all()))
    with _lock:
        _cache[store] = (fp, cat)
    return cat
