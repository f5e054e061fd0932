"""JSON API of the monitor (mounted under /api/v1)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from cybersyn.monitor.query import series_points

router = APIRouter(tags=["monitor"])


@router.get("/indicators/{indicator_id}/series")
def indicator_series(request: Request, indicator_id: str,
                     limit: Annotated[int, Query(ge=1, le=10_000)] = 365) -> dict[str, Any]:
    """The last `limit` observations of an indicator with the filter's one-step forecast,
    95% band (normal approximation), regime probabilities and anomaly score.
    `indicator_id` may be '<id>:productivity' or '<id>:performance' (Beer's triple index)."""
    with request.app.state.store.read() as conn:
        info, points = series_points(conn, indicator_id, limit)
    return {"indicator": info, "points": points}
