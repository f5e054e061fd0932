"""HTTP helpers shared by the intake and alerts routers: who is calling, bounded bodies."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from cybersyn.auth import Principal, authenticate
from cybersyn.errors import CybersynError, InvalidInput
from cybersyn.intake.params import DEFAULT_PARAMS, IntakeParams
from cybersyn.store import Store


def bearer(request: Request) -> str | None:
    """The token from `Authorization: Bearer ...`, else from `?token=` (for EventSource)."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.query_params.get("token") or None


def principal(request: Request) -> Principal:
    """The authenticated caller (401 problem when there is none)."""
    store: Store = request.app.state.store
    with store.read() as conn:
        return authenticate(conn, bearer(request))


def params(request: Request) -> IntakeParams:
    return getattr(request.app.state, "intake_params", DEFAULT_PARAMS)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> CybersynError:
    return CybersynError(f"request body exceeds {limit} bytes; send smaller batches",
                         status=413)


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e)
        raise InvalidInput(f"body is not valid JSON: {reason}",
                           errors=[{"field": "body", "reason": reason}]) from None
