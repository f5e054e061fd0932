"""Acknowledged means committed: kill -9 the server while a client streams batches,
restart it, and find every acknowledged observation stored exactly once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from cybersyn.intake.tokens import issue
from cybersyn.store import Store
from cybersyn.store.schema import observations

T0 = datetime(1960, 1, 1, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CYBERSYN_DATABASE_URL": url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "cybersyn.intake.server:app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/alerts", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def batch(inds: list[str], k: int, size: int = 500) -> list[dict[str, object]]:
    return [{"indicator": inds[n % len(inds)],
             "time": (T0 + timedelta(days=n // len(inds))).isoformat(), "value": float(n)}
            for n in range(k * size, (k + 1) * size)]


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_observation(tmp_path, demo):
    url = f"sqlite:///{tmp_path}/crash.db"
    store = Store(url)
    store.migrate()
    store.save_economy(demo)
    token = issue(store, "admin", "crash-test").token
    inds = [i.id for i in demo.indicators]
    port = free_port()
    proc = start_server(url, port)
    acked: list[int] = []
    failed: list[int] = []

    def stream() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10,
                          headers={"Authorization": f"Bearer {token}"}) as c:
            for k in range(100_000):
                try:
                    r = c.post("/api/v1/observations", json=batch(inds, k))
                except httpx.TransportError:
                    failed.append(k)
                    return
                assert r.status_code == 200, r.text
                acked.append(k)

    client = threading.Thread(target=stream)
    client.start()
    while len(acked) < 8 and client.is_alive():  # a dead client fails, never hangs
        time.sleep(0.05)
    assert len(acked) >= 8, "the client stopped before 8 acknowledged batches"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    client.join(timeout=30)
    assert failed, "the client should have seen the server die mid-stream"

    proc = start_server(url, port)
    try:
        with store.read() as conn:
            rows = conn.execute(sa.select(observations.c.indicator_id,
                                          observations.c.observed_at,
                                          observations.c.value)).all()
        have = {(i, t): v for i, t, v in rows}
        assert len(have) == len(rows)  # exactly once
        for k in acked:
            for r in batch(inds, k):
                t = datetime.fromisoformat(str(r["time"]))
                assert have[(r["indicator"], t)] == r["value"]
        # the batch in flight was either committed whole or not at all; resending fixes it
        in_flight = batch(inds, failed[0])
        present = sum((r["indicator"], datetime.fromisoformat(str(r["time"]))) in have
                      for r in in_flight)
        assert present in (0, len(in_flight))
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/observations", json=in_flight,
                       headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert r.status_code == 200 and r.json()["duplicates"] == present
        assert len(have) in (len(acked) * 500, (len(acked) + 1) * 500)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        store.close()
