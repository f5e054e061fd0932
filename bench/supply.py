"""Supply benchmark, one JSON line per case:

- allocation of 10^6 households x 20 goods (each rule; 3 priority classes; whole units),
  against a peer: a per-good bisection on the rule's parameter (numpy, 50 halvings);
- reconciliation of a month for 10^4 points x 4 goods on SQLite (and PostgreSQL when
  CYBERSYN_TEST_PG_URL is set), against a peer: pandas groupby over the same journal;
- hand-outs per second with 50 concurrent clients, durable commits (PostgreSQL with
  synchronous_commit=on, when CYBERSYN_TEST_PG_URL is set; SQLite synchronous=FULL):
  through group commit (clients in 1 and in 5 processes), against a peer in the same run:
  one transaction per hand-out; each line carries the load average;
- diversion detection precision/recall on synthetic diversion over 5 seeds.

Default sizes finish in a few minutes; `--full` uses 300 hand-outs per point-good in the
reconciliation month and 100,000 hand-outs in the throughput case.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from rich.console import Console

from cybersyn.economy import demo_economy
from cybersyn.errors import InvalidInput
from cybersyn.store import Store, normalize_url
from cybersyn.supply import allocate, handouts, ledger
from cybersyn.supply import tables as t
from cybersyn.supply.detection import flag_points, precision_recall, synthetic_points
from cybersyn.supply.reconcile import reconcile

err = Console(stderr=True)
PG_URL = os.environ.get("CYBERSYN_TEST_PG_URL")
PERIOD = "1972-10"
AT = datetime(1972, 10, 1, tzinfo=UTC)


def emit(line: dict[str, Any], as_json: bool) -> None:
    print(json.dumps(line) if as_json else line, flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


# -- allocation ------------------------------------------------------------------------------
def bisection_peer(c: np.ndarray, e: np.ndarray, rule: str) -> np.ndarray:
    out = np.empty_like(c)
    for j in range(c.shape[1]):
        col, ej = c[:, j], e[j]
        if ej >= col.sum():
            out[:, j] = col
            continue
        if rule == "proportional":
            out[:, j] = col * ej / col.sum()
            continue
        f = (lambda x, col=col: np.minimum(col, x)) if rule == "cea" else (
            lambda x, col=col: np.maximum(col - x, 0))
        lo, hi = 0.0, float(col.max())
        for _ in range(50):
            mid = (lo + hi) / 2
            if (f(mid).sum() < ej) == (rule == "cea"):
                lo = mid
            else:
                hi = mid
        out[:, j] = f((lo + hi) / 2)
    return out


def bench_allocation(as_json: bool, n: int = 1_000_000, g: int = 20) -> None:
    rng = np.random.default_rng(0)
    c = rng.integers(0, 16, (n, g)).astype(float)
    e = c.sum(axis=0) * rng.uniform(0.3, 0.95, g)
    prio = rng.integers(0, 3, n)
    for rule in ("proportional", "cea", "cel"):
        wall, cpu, x = timed(lambda rule=rule: allocate(c, e, rule))
        pwall, pcpu, ref = timed(lambda rule=rule: bisection_peer(c, e, rule))
        iwall, icpu, _ = timed(lambda rule=rule: allocate(c, e, rule, prio, integer=True))
        emit({"case": "allocation", "households": n, "goods": g, "rule": rule,
              "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
              "seconds_priority_integer": round(iwall, 3),
              "cpu_seconds_priority_integer": round(icpu, 3),
              "max_abs_diff_vs_peer": float(np.abs(x - ref).max()),
              "peer": "per-good bisection (numpy)", "peer_seconds": round(pwall, 3),
              "peer_cpu_seconds": round(pcpu, 3), "target_seconds": 2.0}, as_json)


# -- stores ----------------------------------------------------------------------------------
@contextmanager
def pg_store(pool: int = 60) -> Iterator[Store]:
    assert PG_URL is not None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(normalize_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    store = Store(f"{PG_URL}{sep}options=-csearch_path%3D{schema}", pool_size=pool)
    try:
        store.migrate()
        yield store
    finally:
        store.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def sqlite_store() -> Iterator[Store]:
    with tempfile.TemporaryDirectory() as d:
        store = Store(f"sqlite:///{d}/bench.db")
        store.migrate()
        yield store
        store.close()


# -- reconciliation ----------------------------------------------------------------------------
def seed_month(store: Store, points: int, per: int, rng: np.random.Generator) -> int:
    goods = ("milk", "flour", "sugar", "meat")
    with store.write() as conn:
        for g in goods:
            ledger.set_good(conn, g, g, "unit", 100)
        conn.execute(t.points.insert(), [{"id": f"P{i:05d}", "district_id": "D01",
                                          "name": f"P{i}", "kind": "shop"}
                                         for i in range(points)])
    rows, n = [], 0
    for i in range(points):
        for g in goods:
            qty = rng.integers(1, 4, per)
            base = {"period": PERIOD, "point_id": f"P{i:05d}", "good": g, "actor": "b"}
            rows.append({**base, "idem_key": f"r{i}{g}", "at": AT, "kind": "receive",
                         "quantity": int(qty.sum()) + 5, "debit": f"point:P{i:05d}",
                         "credit": "supplier"})
            rows += [{**base, "idem_key": f"h{i}{g}{k}", "at": AT, "kind": "handout",
                      "quantity": int(q), "debit": f"household:X{k}",
                      "credit": f"point:P{i:05d}", "card_id": f"X{k}"}
                     for k, q in enumerate(qty)]
            rows.append({**base, "idem_key": f"l{i}{g}", "at": AT, "kind": "loss",
                         "quantity": 1, "debit": f"lost:P{i:05d}",
                         "credit": f"point:P{i:05d}", "reason": "r"})
        if len(rows) > 50_000 or i == points - 1:
            with store.write() as conn:
                conn.execute(t.journal.insert(), rows)
            n += len(rows)
            rows = []
    return n


def pandas_peer(store: Store) -> int:
    import pandas as pd

    with store.read() as conn:
        df = pd.DataFrame(conn.execute(sa.select(
            t.journal.c.kind, t.journal.c.good, t.journal.c.quantity, t.journal.c.debit,
            t.journal.c.credit).where(t.journal.c.period == PERIOD)).all(),
            columns=["kind", "good", "quantity", "debit", "credit"])
    inflow = df[df.debit.str.startswith("point:")].groupby(["debit", "good"]).quantity.sum()
    outflow = df[df.credit.str.startswith("point:")].groupby(["credit", "good"]).quantity.sum()
    closing = inflow.sub(outflow.rename_axis(inflow.index.names), fill_value=0)
    return int(closing.size)


def bench_reconcile(as_json: bool, points: int, per: int) -> None:
    backends: list[tuple[str, Callable[[], Any]]] = [("sqlite", sqlite_store)]
    if PG_URL:
        backends.append(("postgresql", pg_store))
    for name, factory in backends:
        with factory() as store:
            err.print(f"seeding a month for {points} points on {name} ...")
            rows = seed_month(store, points, per, np.random.default_rng(1))
            with store.read() as conn:
                wall, cpu, rec = timed(lambda conn=conn: reconcile(conn, PERIOD))
            pwall, _, prow = timed(lambda store=store: pandas_peer(store))
            ok = len(rec.rows) == points * 4 == prow
            emit({"case": "reconciliation", "backend": name, "points": points, "goods": 4,
                  "journal_rows": rows, "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                  "rows_agree_with_peer": ok, "discrepancies": len(rec.discrepancies),
                  "peer": "pandas groupby (read + group)", "peer_seconds": round(pwall, 3),
                  "target_seconds": 10.0}, as_json)


# -- hand-outs throughput ---------------------------------------------------------------------
def seed_households(store: Store, cards: int) -> None:
    with store.write() as conn:
        ledger.set_good(conn, "milk", "Milk", "litre", 180)
        conn.execute(t.points.insert(), [{"id": "P1", "district_id": "D01", "name": "P1",
                                          "kind": "shop"}])
        conn.execute(t.entitlements.insert(), [
            {"card_id": f"C{c}", "good": "milk", "period": PERIOD, "entitled": 10**6,
             "handed_out": 0} for c in range(cards)])
    analyze(store)


def analyze(store: Store) -> None:
    """Planner statistics for the freshly filled tables, as a live ledger has them
    (autovacuum would gather them within a minute; without them PostgreSQL plans a
    sequential scan of the journal for the idempotency check)."""
    if not store.is_sqlite:
        with store.write() as conn:
            conn.execute(sa.text("ANALYZE supply_entitlements; ANALYZE supply_journal"))


def _client_process(url: str, first: int, threads: int, per: int, cards: int,
                    start_at: float, grouped: bool) -> tuple[int, int, float, int]:
    """One OS process with `threads` clients (threads). `grouped`: every hand-out goes
    through the process's group commit (`handouts.submit`, what the API does: the process
    is one API server); else each client commits its own transaction on its own
    connection. Returns (handed out, refused, CPU seconds of the process, transactions
    (groups) committed)."""
    store = Store(url, pool_size=threads)
    done = [0, 0]

    def one(w: int, k: int) -> None:
        card = f"C{(w * per + k) % cards}"
        at = AT + timedelta(seconds=k)
        if grouped:
            handouts.submit(store, handouts.HandOutRequest(f"w{w}-{k}", card, "milk", 1, "P1",
                                                           PERIOD, at, "bench"))
            return
        with store.write() as conn:
            ledger.hand_out(conn, f"w{w}-{k}", card, "milk", 1, "P1", PERIOD, at, "bench")

    def work(w: int) -> None:
        for k in range(per):
            try:
                one(w, k)
                done[0] += 1
            except InvalidInput:
                done[1] += 1

    while time.time() < start_at:
        time.sleep(0.005)
    cpu = time.process_time()
    pool = [threading.Thread(target=work, args=(first + i,)) for i in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    cpu = time.process_time() - cpu
    groups = handouts.group_commit(store).groups if grouped else done[0] + done[1]
    store.close()
    return done[0], done[1], cpu, groups


def hand_outs(store: Store, clients: int, total: int, processes: int, grouped: bool
              ) -> dict[str, Any]:
    """`clients` concurrent clients spread over `processes` OS processes (the GIL would
    otherwise cap one process's clients)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    per = total // clients
    threads = clients // processes
    with store.write() as conn:  # a fresh journal for each case
        conn.execute(t.journal.delete())
        conn.execute(t.entitlements.update().values(handed_out=0))
    start_at = time.time() + 3.0
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as ex:
        futures = [ex.submit(_client_process, store.url, p * threads, threads, per,
                             clients * 200, start_at, grouped) for p in range(processes)]
        while time.time() < start_at:
            time.sleep(0.005)
        load0, pg0 = os.getloadavg()[0], postgres_cpu_seconds()
        results = [f.result() for f in futures]
    wall = time.time() - start_at
    load1, pg1 = os.getloadavg()[0], postgres_cpu_seconds()
    with store.read() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(t.journal)).scalar_one()
    done = sum(r[0] for r in results)
    groups = sum(r[3] for r in results)
    return {"per_s": round(done / wall, 1), "handouts": done, "stored": int(n),
            "seconds": round(wall, 2), "transactions": groups,
            "mean_per_transaction": round(done / max(groups, 1), 1),
            "client_cpu_s": round(sum(r[2] for r in results), 1),
            "postgres_cpu_s": None if pg0 is None or pg1 is None else round(pg1 - pg0, 1),
            "load_avg_1min": [round(load0, 1), round(load1, 1)]}


def _durability(store: Store, name: str) -> str:
    if name != "postgresql":
        return "synchronous=FULL, WAL"
    with store.read() as conn:
        return str(conn.execute(sa.text("SHOW synchronous_commit")).scalar_one())


def bench_handouts(as_json: bool, total: int, clients: int = 50) -> None:
    """Per backend: group commit with the 50 clients in one process (one API server) and
    in 5 processes (5 servers), and the peer: one transaction per hand-out (5 processes)."""
    backends: list[tuple[str, Callable[[], Any]]] = [("sqlite", sqlite_store)]
    if PG_URL:
        backends.insert(0, ("postgresql", pg_store))
    cases = (("group_commit", True, 1), ("group_commit", True, 5),
             ("one_transaction_each", False, 5))
    for name, factory in backends:
        with factory() as store:
            seed_households(store, clients * 200)
            sync = _durability(store, name)
            for mode, grouped, processes in cases:
                n = total if name == "postgresql" else max(total // 4, clients * 20)
                err.print(f"{n} hand-outs on {name}, {mode}, {clients} clients in "
                          f"{processes} processes ...")
                r = hand_outs(store, clients, n, processes, grouped)
                emit({"case": "handouts", "backend": name, "mode": mode, "clients": clients,
                      "client_processes": processes, "handouts_per_s": r.pop("per_s"), **r,
                      "durability": sync, "target_per_s": 5000,
                      **({} if PG_URL else {"note": "CYBERSYN_TEST_PG_URL not set: "
                                                    "PostgreSQL case skipped"})}, as_json)


# -- hand-outs through the HTTP API -------------------------------------------------------------
def postgres_cpu_seconds() -> float | None:
    """CPU seconds (user + system) of every local `postgres` process, from /proc, with
    the CPU of backends that already exited (the postmaster's reaped children: cutime +
    cstime); None when the server is not on this machine (or /proc is unreadable)."""
    total, found = 0, False
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.index("(") + 1:stat.rindex(")")].startswith("postgres"):
            fields = stat[stat.rindex(")") + 2:].split()
            total += sum(int(v) for v in fields[11:15])
            found = True
    return total / os.sysconf("SC_CLK_TCK") if found else None


def _serve_api(url: str, port: int, workers: int = 1) -> None:
    """The web app (every package's API) on uvicorn, as `cybersyn serve` (one process) or
    with `workers` processes sharing the port."""
    import uvicorn

    os.environ["CYBERSYN_BENCH_STORE_URL"] = url
    uvicorn.run("supply:app_factory", factory=True, app_dir=os.path.dirname(__file__),
                host="127.0.0.1", port=port, workers=workers, log_level="warning")


def app_factory() -> Any:
    """create_app on the store named by CYBERSYN_BENCH_STORE_URL (for uvicorn's workers)."""
    from cybersyn.web.app import create_app

    return create_app(Store(os.environ["CYBERSYN_BENCH_STORE_URL"], pool_size=60))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Http:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams (one connection), so the
    clients' own CPU stays small beside the server's (httpx spent ~7 ms of CPU per
    request with 50 concurrent connections here)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: Any = None
        self.writer: Any = None

    async def request(self, method: str, path: str, headers: dict[str, str],
                      body: bytes = b"") -> tuple[int, bytes]:
        import asyncio

        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{head}"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and "close" in value.lower():
                close = True
        data = await self.reader.readexactly(length)
        if close:
            self.writer.close()
            self.writer = None
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _http_clients(port: int, token: str, clients: int, per: int, cards: int,
                        prefix: str, peer: bool) -> tuple[int, int, float]:
    """`clients` concurrent clients (asyncio tasks, one keep-alive connection each), `per`
    requests each. Hand-outs: POST /api/v1/supply/handouts; peer: GET
    /api/v1/supply/goods (HTTP plus one database read, no commit). Returns (2xx answers,
    other answers, wall seconds)."""
    import asyncio

    ok, bad = [0], [0]
    post = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def client(w: int) -> None:
        http = _Http("127.0.0.1", port)
        try:
            for k in range(per):
                if peer:
                    status, data = await http.request("GET", "/api/v1/supply/goods", {})
                else:
                    body = json.dumps({
                        "key": f"{prefix}{w}-{k}", "card": f"C{(w * per + k) % cards}",
                        "point": "P1", "good": "milk", "quantity": 1,
                        "at": (AT + timedelta(seconds=k)).isoformat()}).encode()
                    status, data = await http.request("POST", "/api/v1/supply/handouts",
                                                      post, body)
                if 200 <= status < 300:
                    ok[0] += 1
                else:
                    bad[0] += 1
                    if bad[0] <= 3:
                        err.print(f"HTTP {status}: {data[:300]!r}")
        finally:
            http.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(w) for w in range(clients)))
    return ok[0], bad[0], time.perf_counter() - t0


def _process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_handouts_http(as_json: bool, total: int, clients: int = 50,
                        workers: tuple[int, ...] = (1, 2)) -> None:
    """Hand-outs through the API: uvicorn serving create_app on PostgreSQL with 1 and with
    2 worker processes, `clients` concurrent HTTP clients in this process; an admin's
    bearer token (a committee's would add one lookup of the point's district). Peer in the
    same run: the same clients GET the public goods list (HTTP + one read, no commit).
    server_cpu_s: CPU of the uvicorn processes (children included)."""
    from cybersyn.intake.tokens import issue

    if not PG_URL:
        emit({"case": "handouts_http", "note": "CYBERSYN_TEST_PG_URL not set: skipped"},
             as_json)
        return
    with pg_store() as store:
        seed_households(store, clients * 200)
        token = issue(store, "admin", "bench").token
        for n_workers in workers:
            _http_case(store, token, as_json, total, clients, n_workers)


def _tree_cpu(pid: int) -> float:
    """CPU seconds of process `pid` and its live children (uvicorn's workers)."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        with suppress(OSError):
            total += _process_cpu(p)
    return total


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def _http_case(store: Store, token: str, as_json: bool, total: int, clients: int,
               n_workers: int) -> None:
    import asyncio
    from multiprocessing import get_context

    port = _free_port()
    server = get_context("spawn").Process(target=_serve_api,
                                          args=(store.url, port, n_workers))
    server.start()
    try:
        _wait_healthy(port)
        asyncio.run(_http_clients(port, token, clients, 4, clients * 200,
                                  f"warm{n_workers}-", False))
        per = max(1, total // clients)
        for peer in (False, True):
            prefix = f"b{n_workers}-"
            load0, cpu0 = os.getloadavg()[0], time.process_time()
            scpu0, pg0 = _tree_cpu(server.pid or 0), postgres_cpu_seconds()
            ok, bad, wall = asyncio.run(_http_clients(port, token, clients, per,
                                                      clients * 200, prefix, peer))
            scpu1, pg1 = _tree_cpu(server.pid or 0), postgres_cpu_seconds()
            with store.read() as conn:
                stored = conn.execute(sa.select(sa.func.count()).select_from(
                    t.journal).where(t.journal.c.idem_key.like(f"{prefix}%"))).scalar_one()
            emit({"case": "handouts_http", "backend": "postgresql",
                  "mode": "GET /supply/goods (peer)" if peer else "POST /supply/handouts",
                  "clients": clients, "server_processes": n_workers,
                  "requests_per_s": round(ok / wall, 1), "ok": ok, "failed": bad,
                  "stored": int(stored), "seconds": round(wall, 2),
                  "client_cpu_s": round(time.process_time() - cpu0, 1),
                  "server_cpu_s": round(scpu1 - scpu0, 1),
                  "postgres_cpu_s": None if pg0 is None or pg1 is None
                  else round(pg1 - pg0, 1),
                  "load_avg_1min": [round(load0, 1), round(os.getloadavg()[0], 1)],
                  "durability": _durability(store, "postgresql"),
                  **({} if peer else {"target_per_s": 5000})}, as_json)
    finally:
        server.terminate()
        server.join(10)


def _wait_healthy(port: int) -> None:
    import httpx

    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1.0
                         ).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the API server on port {port} did not start")


# -- detection ----------------------------------------------------------------------------------
def bench_detection(as_json: bool) -> None:
    eco = demo_economy()
    ids = [d.id for d in eco.districts]
    hh = np.array([d.households for d in eco.districts])
    for threshold in (3.5, 5.0):
        prs = []
        from cybersyn.supply.detection import DetectParams

        for seed in range(5):
            pts = synthetic_points(ids, hh, np.random.default_rng(seed))
            _, flags = flag_points(pts.features, pts.groups, DetectParams(threshold=threshold))
            prs.append(precision_recall(flags.any(axis=1), pts.diverted))
        emit({"case": "diversion_detection", "threshold": threshold, "seeds": 5,
              "points": len(pts.ids), "diversion_rate": 0.05,
              "precision": round(float(np.mean([p["precision"] for p in prs])), 3),
              "recall": round(float(np.mean([p["recall"] for p in prs])), 3),
              "peer": "none (synthetic ground truth)"}, as_json)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--cases",
                    default="allocation,reconciliation,handouts,handouts_http,detection")
    a = ap.parse_args(argv)
    cases = a.cases.split(",")
    if "allocation" in cases:
        bench_allocation(a.json)
    if "reconciliation" in cases:
        bench_reconcile(a.json, 10_000, 300 if a.full else 20)
    if "handouts" in cases:
        bench_handouts(a.json, 100_000 if a.full else 20_000)
    if "handouts_http" in cases:
        bench_handouts_http(a.json, 50_000 if a.full else 10_000)
    if "detection" in cases:
        bench_detection(a.json)


if __name__ == "__main__":
    main()
