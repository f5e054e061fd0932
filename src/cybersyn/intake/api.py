"""Intake API: POST /observations (JSON batch or CSV upload), POST /observations/revisions."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from cybersyn.errors import InvalidInput
from cybersyn.intake import http
from cybersyn.intake.csvio import FIRST_ROW, parse_csv_bytes
from cybersyn.intake.decode import decode_columns
from cybersyn.intake.ingest import ingest_batch, ingest_columns, revise

router = APIRouter(tags=["intake"])

ROW_SCHEMA = {"type": "object", "required": ["indicator", "time", "value"], "properties": {
    "indicator": {"type": "string"}, "time": {"type": "string", "format": "date-time"},
    "value": {"type": "number"}}}
BATCH_DOC = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "array", "items": ROW_SCHEMA}},
    "text/csv": {"schema": {"type": "string"}}}}}


@router.post("/observations", openapi_extra=BATCH_DOC)
async def post_observations(request: Request) -> dict[str, Any]:
    """Store a batch of observations (Bearer token of an enterprise, operator or admin).

    JSON: an array of {indicator, time, value} (or {"observations": [...]}); rows are
    numbered from 0. CSV (Content-Type text/csv): header indicator,time,value; rows are
    numbered from 2. Idempotency-Key header: a retry gets the first answer again."""
    limits = http.params(request)
    key = request.headers.get("idempotency-key")
    if key is not None and not 0 < len(key) <= 255:
        raise InvalidInput("Idempotency-Key must be 1..255 characters",
                           errors=[{"field": "Idempotency-Key", "reason": "length"}])
    who = await run_in_threadpool(http.principal, request)
    body = await http.read_body(request, limits.max_body_bytes)
    store, source = request.app.state.store, f"{who.kind}:{who.id}"[:64]
    digest = hashlib.sha256(body).hexdigest() if key else ""
    csv = request.headers.get("content-type", "").split(";")[0].strip().lower() == "text/csv"
    cols = None if csv else decode_columns(body)
    if cols is not None:  # the common case: typed decoding, checks by column
        result = await run_in_threadpool(lambda: ingest_columns(
            store, who, cols, key, params=limits, source=source, request_sha256=digest))
        return result.to_json()
    rows, first = _rows(csv, body)
    result = await run_in_threadpool(lambda: ingest_batch(
        store, who, rows, key, params=limits, source=source, first_row=first,
        request_sha256=digest or None))
    return result.to_json()


def _rows(csv: bool, body: bytes) -> tuple[list[Any], int]:
    """The rows of a CSV body, or of a JSON body the fast decoder refused (the slow path
    that names every bad row and field)."""
    if csv:
        return list(parse_csv_bytes(body)), FIRST_ROW
    data = http.parse_json(body)
    if isinstance(data, dict) and set(data) == {"observations"}:
        data = data["observations"]
    if not isinstance(data, list):
        raise InvalidInput("expected a JSON array of {indicator, time, value} objects",
                           errors=[{"field": "body", "reason": "not an array"}])
    return data, 0


@router.post("/observations/revisions")
async def post_revision(request: Request) -> dict[str, Any]:
    """Correct one stored observation: {indicator, time, value, reason}; audited."""
    who = await run_in_threadpool(http.principal, request)
    data = http.parse_json(await http.read_body(request, 64 * 1024))
    if not isinstance(data, dict):
        raise InvalidInput("expected an object {indicator, time, value, reason}")
    return await run_in_threadpool(lambda: revise(
        request.app.state.store, who, data.get("indicator"), data.get("time"),
        data.get("value"), data.get("reason")))
