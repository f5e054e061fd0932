"""Who may see and act on an alert.

Act (acknowledge, resolve): planners and admins anywhere; operators and council members
whose units cover the alert's current holder (a unit covers its subtree). See: planners
and admins everything; any other principal the alerts that arose in its subtree (so the
parent sees what climbed to it, and the plant still sees what it let climb). Inject:
planners, admins, and operators for indicators in their subtree.
"""

from __future__ import annotations

from typing import Any

from cybersyn.auth import Principal
from cybersyn.errors import Forbidden
from cybersyn.intake.catalog import Catalog

OFFICE = ("planner", "admin")
ACTORS = ("operator", "member")


def may_see(who: Principal, alert: Any, cat: Catalog) -> bool:
    return who.kind in OFFICE or cat.covers(who.units, alert["origin_unit_id"])


def may_act(who: Principal, alert: Any, cat: Catalog) -> bool:
    return who.kind in OFFICE or (who.kind in ACTORS and cat.covers(who.units,
                                                                    alert["unit_id"]))


def require_act(who: Principal, alert: Any, cat: Catalog, what: str) -> None:
    if not may_act(who, alert, cat):
        raise Forbidden(f"{who.kind}:{who.id} may not {what} alert {alert['id']} held by "
                        f"{alert['unit_id']}: only its operators or council members (or "
                        "those of a unit above it) may")


def require_inject(who: Principal, unit_id: str, cat: Catalog) -> None:
    if who.kind in OFFICE or (who.kind == "operator" and cat.covers(who.units, unit_id)):
        return
    raise Forbidden(f"{who.kind}:{who.id} may not raise alerts for unit {unit_id}")
