"""Escalation in the web server's background (the Opsroom wires it at startup)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool

from cybersyn.alerts.escalation import EscalationParams
from cybersyn.alerts.service import escalate
from cybersyn.store import Store

log = logging.getLogger(__name__)


async def escalation_loop(store: Store, interval_s: float = 60.0,
                          clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                          params: EscalationParams | None = None) -> None:
    """Run `escalate(store, clock())` every `interval_s` seconds until cancelled."""
    while True:
        try:
            await run_in_threadpool(escalate, store, clock(), params)
        except Exception:
            log.exception("escalation run failed; retrying in %s s", interval_s)
        await asyncio.sleep(interval_s)
