"""The councils' small interface to the plan package's stored versions.

`cybersyn.plan.versions` may land before or after the councils; every call here checks
for it, so approvals work either way (without it, the approval's own status is the record).
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Any

import sqlalchemy as sa


def versions() -> ModuleType | None:
    if importlib.util.find_spec("cybersyn.plan") is None:
        return None
    if importlib.util.find_spec("cybersyn.plan.versions") is None:
        return None
    return importlib.import_module("cybersyn.plan.versions")


def get_version(conn: sa.Connection, version_id: str) -> dict[str, Any] | None:
    mod = versions()
    return None if mod is None else dict(mod.get_version(conn, version_id))


def set_status(conn: sa.Connection, version_id: str, status: str, actor: str,
               note: str = "") -> bool:
    """Move the version to `status` when the plan package is there and the move is new;
    returns whether it was moved."""
    mod = versions()
    if mod is None:
        return False
    current = mod.get_version(conn, version_id)["status"]
    if current == status:
        return False
    mod.set_version_status(conn, version_id, status, actor, note=note)
    return True
