"""Fuzz every JSON endpoint from the app's OpenAPI schema (schemathesis): no 5xx.

Runs against its own store and server (a planner's token reaches past authentication, so
the fuzzer may change data), with a few examples per operation to stay quick. Streams
(server-sent events) are left out: they never end by design."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings

from cybersyn.economy import Economy
from cybersyn.store import Store
from cybersyn.web.app import create_app

EXAMPLES = 3
STATUSES: list[int] = []


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory,
                demo: Economy) -> Iterator[tuple[str, str, dict[str, Any]]]:
    from cybersyn.intake.tokens import issue

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/fuzz.db")
    store.migrate()
    store.save_economy(demo)
    token = issue(store, "planner", "fuzzer").token
    app = create_app(store)
    schema = app.openapi()
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="critical", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", token, schema
    server.should_exit = True
    thread.join(5)
    store.close()


def test_openapi_fuzzing_finds_no_server_error(fuzz_server: tuple[str, str, dict[str, Any]]
                                               ) -> None:
    import schemathesis

    base, token, raw = fuzz_server
    schema = schemathesis.openapi.from_dict(raw)
    failures: list[str] = []
    tried = 0
    with httpx.Client(base_url=base, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        for result in schema.get_all_operations():
            op = result.ok()
            if "stream" in op.path:
                continue
            tried += 1
            _fuzz(op, http, failures)
    assert tried >= 5 and len(STATUSES) >= tried
    print(f"fuzzed {tried} operations, {len(STATUSES)} requests, statuses {sorted(set(STATUSES))}")
    assert failures == [], "\n".join(failures[:20])


def _fuzz(op: Any, http: httpx.Client, failures: list[str]) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy())
    def run(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url=str(http.base_url))
        r = http.request(case.method, kwargs["url"], params=kwargs.get("params"),
                         json=kwargs.get("json"), content=kwargs.get("data"),
                         headers={k: v for k, v in (kwargs.get("headers") or {}).items()
                                  if k.lower() in ("content-type", "last-event-id")})
        STATUSES.append(r.status_code)
        if r.status_code >= 500:
            failures.append(f"{case.method} {kwargs['url']} -> {r.status_code}: {r.text[:200]}")

    run()
