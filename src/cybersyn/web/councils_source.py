"""What the Opsroom reads from the councils package (councils, members, proposals, votes,
rounds of participatory planning), behind small functions that answer empty when the
package, or its tables, are not there yet."""

from __future__ import annotations

from typing import Any

from cybersyn.auth import Principal
from cybersyn.store import Store


def approvals_for_plan(store: Store, version_id: str) -> list[dict[str, Any]]:
    """[{council, unit_id, proposal_id, title, status, result, yes, no, abstain, reason}]
    for the proposals of a plan version."""
    return []


def proposals(store: Store, who: Principal | None) -> list[dict[str, Any]]:
    """Proposals (open first) with their council, tallies and, for a member of the
    council, `may_vote` and `my_vote`."""
    return []


def councils(store: Store) -> list[dict[str, Any]]:
    """Every council: id, unit_id, name, seats, members."""
    return []


def council_of_unit(store: Store, unit_id: str, who: Principal | None) -> dict[str, Any] | None:
    """The unit's council with its members and open proposals, or None."""
    return None


def stored_rounds(store: Store) -> dict[str, Any] | None:
    """The latest stored run of participatory rounds (as `councils_page.rounds_summary`)."""
    return None
