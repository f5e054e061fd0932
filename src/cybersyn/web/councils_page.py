"""The Councils page: open proposals with voting for members, results, and the rounds of
participatory iterative planning with their convergence chart (largest excess demand per
round; Albert & Hahnel 1991, ch. 5).

Proposals, votes and stored rounds come from the councils package through
`councils_source`; when no rounds are stored, the page runs the councils' pure procedure
(`cybersyn.councils.participatory.run_rounds`) on the loaded economy, once per economy,
and says so.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from cybersyn.errors import InvalidInput
from cybersyn.web import councils_source, session, sources
from cybersyn.web.cache import Loaded
from cybersyn.web.pages import loaded, render, script_json

router = APIRouter(include_in_schema=False)
TOP_EXCESS = 8


@router.get("/councils", response_class=HTMLResponse)
def councils_page(request: Request, voted: int | None = None) -> HTMLResponse:
    ld = loaded(request)
    store = request.app.state.store
    who = session.principal_of(request)
    proposals = councils_source.proposals(store, who)
    rounds = councils_source.stored_rounds(store) or computed_rounds(ld)
    return render(request, "councils.html", available=sources.has("councils.participatory"),
                  api=sources.has("councils.api"), proposals=proposals,
                  open_proposals=[p for p in proposals if p.get("status") == "open"],
                  closed=[p for p in proposals if p.get("status") != "open"],
                  rounds=rounds, rounds_json=script_json(rounds),
                  councils=councils_source.councils(store),
                  sees=councils_source.visible_councils(store, who) != set(), voted=voted)


@router.post("/councils/proposals/{proposal_id}/vote")
def vote(request: Request, proposal_id: int, choice: str = Form("")) -> RedirectResponse:
    """A member's ballot from the page (a plain form: works without script). The councils
    package decides: only the council's members, only while the proposal is open."""
    who = session.principal_of(request)
    session.require(who, who is not None, "vote")
    assert who is not None
    if choice not in ("yes", "no", "abstain"):
        raise InvalidInput(f"choice: expected yes, no or abstain, got {choice!r}")
    councils_source.cast_vote(request.app.state.store, who, proposal_id, choice)
    return RedirectResponse(f"/councils?voted={proposal_id}#proposal-{proposal_id}",
                            status_code=303)


def computed_rounds(ld: Loaded) -> dict[str, Any] | None:
    """Rounds of the participatory procedure on the loaded economy (cached per economy)."""
    if not sources.has("councils.participatory"):
        return None
    cached = _ROUNDS.get(id(ld))
    if cached is None or cached[0] is not ld:
        part = importlib.import_module("cybersyn.councils.participatory")
        result = part.run_rounds(ld.economy.io, _district_shares(ld))
        _ROUNDS.clear()
        _ROUNDS[id(ld)] = cached = (ld, rounds_summary(result, ld.economy.io.product_codes,
                                                       stored=False))
    return cached[1]


_ROUNDS: dict[int, tuple[Loaded, dict[str, Any]]] = {}


def _district_shares(ld: Loaded) -> np.ndarray | None:
    households = np.array([d.households for d in ld.economy.districts], dtype=float)
    return households / households.sum() if households.size and households.sum() > 0 else None


def rounds_summary(result: Any, codes: tuple[str, ...], *, stored: bool) -> dict[str, Any]:
    """Per round: number, largest |excess| / scale (share), labour hours; the products
    with the largest excess demand at the last round (units per year, + = short)."""
    rounds = list(result.rounds)
    last = rounds[-1]
    order = np.argsort(-np.abs(last.excess))[:TOP_EXCESS]
    return {"stored": stored, "converged": bool(result.converged),
            "number": [int(r.number) for r in rounds],
            "max_excess_pct": [100 * float(r.max_excess) for r in rounds],
            "labour_hours": [float(r.labour_hours) for r in rounds],
            "final": [{"product": codes[i], "excess": float(last.excess[i]),
                       "price": float(last.prices[i]), "output": float(last.outputs[i])}
                      for i in order]}
