"""Who may see what: the planning office and administrators see every council; a member sees
the councils they sit on and the councils of units below them (a sector council oversees
its enterprises), and nothing else."""

from __future__ import annotations

import sqlalchemy as sa

from cybersyn.auth import Principal
from cybersyn.errors import Forbidden
from cybersyn.store.schema import units

OFFICE = ("planner", "admin")


def ancestors(conn: sa.Connection, unit_id: str) -> list[str]:
    """Unit ids above `unit_id`, parent first."""
    out: list[str] = []
    current: str | None = unit_id
    while current is not None and len(out) < 64:
        current = conn.execute(sa.select(units.c.parent_id)
                               .where(units.c.id == current)).scalar_one_or_none()
        if current is not None:
            out.append(current)
    return out


def may_view(conn: sa.Connection, who: Principal, council_id: str) -> bool:
    if who.kind in OFFICE:
        return True
    if who.kind != "member":
        return False
    return council_id in who.units or any(a in who.units for a in ancestors(conn, council_id))


def require_view(conn: sa.Connection, who: Principal, council_id: str) -> None:
    if not may_view(conn, who, council_id):
        raise Forbidden(f"you may not see council {council_id!r}: it is not yours or below "
                        "yours")


def require_office(who: Principal) -> None:
    if who.kind not in OFFICE:
        raise Forbidden("only the planning office or an administrator may do this")
