"""What the Opsroom reads from the councils package (councils, members, proposals, votes,
rounds of participatory planning), behind small functions that answer empty when the
package, or its tables, are not there yet."""

from __future__ import annotations

from typing import Any

from cybersyn.store import Store


def approvals_for_plan(store: Store, version_id: str) -> list[dict[str, Any]]:
    """[{council, unit_id, status, result, reason}] for the proposals of a plan version."""
    return []
