"""Intake speed: accepted observations per second over HTTP on loopback, batches of 1,000,
into SQLite (and PostgreSQL when CYBERSYN_TEST_PG_URL is set), with p50/p99 latency per
batch. The server is uvicorn (one process) running `cybersyn.intake.server:app` in a
subprocess; clients are httpx on the same machine (so they share its 2 cores).

Cases: `http_1_client` (batches one after another), `http_4_clients` (4 clients at once:
group commit shares a commit among concurrent batches). Each case starts after 5 warm-up
batches (not counted). Besides wall-clock figures each line gives the server's CPU time
per batch (from /proc, so it is not inflated by waiting for a loaded machine's CPUs) and
the 1-minute load average when the case ended: on a shared machine read the two together.
Peer measured in the same run: the foundation's `loop.store_readings` (SQLAlchemy Core
insert in one transaction per batch, in process, no HTTP and no validation) on the same
batches.

    python bench/intake.py [--json] [--batches 60]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cybersyn.economy import demo_economy
from cybersyn.intake.tokens import issue
from cybersyn.loop import store_readings
from cybersyn.store import Store, normalize_url

T0 = datetime(1900, 1, 1, tzinfo=UTC)
SIZE = 1000
WARMUP = 5


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rows(inds: list[str], start: int, n: int) -> list[dict[str, object]]:
    return [{"indicator": inds[k % len(inds)],
             "time": (T0 + timedelta(days=k // len(inds))).isoformat(), "value": float(k)}
            for k in range(start, start + n)]


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "cybersyn.intake.server:app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env={**os.environ, "CYBERSYN_DATABASE_URL": url})
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/alerts", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_case(port: int, token: str, bodies: list[bytes], clients: int) -> dict[str, float]:
    lat: list[float] = []
    accepted = [0]
    lock = threading.Lock()
    queue = list(enumerate(bodies))

    def work() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"}) as c:
            while True:
                with lock:
                    if not queue:
                        return
                    _k, body = queue.pop()
                t = time.perf_counter()
                r = c.post("/api/v1/observations", content=body)
                dt = time.perf_counter() - t
                r.raise_for_status()
                with lock:
                    lat.append(dt)
                    accepted[0] += r.json()["accepted"]

    threads = [threading.Thread(target=work) for _ in range(clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    assert accepted[0] == len(bodies) * SIZE, accepted[0]
    return {"observations_per_s": round(accepted[0] / wall),
            "p50_ms": round(float(np.percentile(lat, 50)) * 1e3, 2),
            "p99_ms": round(float(np.percentile(lat, 99)) * 1e3, 2)}


def peer_case(store: Store, inds: list[str], start: int, batches: int) -> dict[str, float]:
    lat = []
    t0 = time.perf_counter()
    for b in range(batches):
        batch = [(r["indicator"], datetime.fromisoformat(str(r["time"])), float(r["value"]))
                 for r in rows(inds, start + b * SIZE, SIZE)]
        t = time.perf_counter()
        n = store_readings(store, batch, "bench")  # type: ignore[arg-type]
        lat.append(time.perf_counter() - t)
        assert n == SIZE
    wall = time.perf_counter() - t0
    return {"observations_per_s": round(batches * SIZE / wall),
            "p50_ms": round(float(np.percentile(lat, 50)) * 1e3, 2),
            "p99_ms": round(float(np.percentile(lat, 99)) * 1e3, 2)}


def run_store(name: str, url: str, batches: int, as_json: bool) -> None:
    store = Store(url)
    store.migrate()
    eco = demo_economy()
    store.save_economy(eco, replace=True)
    token = issue(store, "admin", f"bench-{uuid.uuid4().hex[:6]}").token
    inds = [i.id for i in eco.indicators]
    port = free_port()
    log(f"[{name}] starting uvicorn on port {port}")
    proc = serve(url, port)
    peer = None
    try:
        offset = 0
        for case, clients in (("http_1_client", 1), ("http_4_clients", 4)):
            bodies = [json.dumps(rows(inds, offset + b * SIZE, SIZE)).encode()
                      for b in range(batches + WARMUP)]
            offset += (batches + WARMUP) * SIZE
            log(f"[{name}] {case}: {batches} batches of {SIZE}")
            http_case(port, token, bodies[:WARMUP], 1)
            cpu0 = cpu_s(proc.pid)
            res = http_case(port, token, bodies[WARMUP:], clients)
            res["server_cpu_ms_per_batch"] = round((cpu_s(proc.pid) - cpu0) / batches * 1e3, 2)
            res["load_avg_1m"] = round(os.getloadavg()[0], 2)
            if peer is None:
                log(f"[{name}] peer: loop.store_readings in process")
                peer = peer_case(store, inds, 10**8, batches)
            line = {"case": case, "store": name, **res, "batch": SIZE, "batches": batches,
                    "peer": "loop.store_readings (in-process Core insert, no HTTP)",
                    "peer_observations_per_s": peer["observations_per_s"],
                    "peer_p50_ms": peer["p50_ms"], "peer_p99_ms": peer["p99_ms"]}
            print(json.dumps(line) if as_json else
                  f"{name:10} {case:16} {res['observations_per_s']:>8} obs/s  p50 "
                  f"{res['p50_ms']} ms  p99 {res['p99_ms']} ms  (peer "
                  f"{peer['observations_per_s']} obs/s)", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        store.close()


def pg_schema_url(base: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with sa.create_engine(normalize_url(base)).begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="one JSON line per case")
    ap.add_argument("--batches", type=int, default=60, help="batches per case")
    args = ap.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        run_store("sqlite", f"sqlite:///{tmp}/bench.db", args.batches, args.json)
    pg = os.environ.get("CYBERSYN_TEST_PG_URL")
    if pg:
        url, schema = pg_schema_url(pg)
        try:
            run_store("postgresql", url, args.batches, args.json)
        finally:
            with sa.create_engine(normalize_url(pg)).begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    else:
        log("PostgreSQL skipped: set CYBERSYN_TEST_PG_URL")


if __name__ == "__main__":
    main()
