"""Councils benchmark: participatory planning and votes under concurrency.

One JSON line per case (--json):
  {"case": "demo" | "synthetic-10000", "products", "rounds", "converged", "gap_pct",
   "labour_gap_pct", "seconds", "peer": "central plan (plan package / HiGHS)",
   "peer_seconds"}
  {"case": "votes", "backend", "voters", "votes_per_s", "seconds", "counted_once",
   "peer": "same voters on SQLite", "peer_votes_per_s"}

gap_pct = 100 ||x - x*||_1 / ||x*||_1: the participatory plan's gross outputs against the
central optimal plan's on the same economy. Votes: `voters` threads, each casting one vote
through `cast_vote` in its own transaction (audit entry included) on PostgreSQL
($CYBERSYN_BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/test, in a private
schema), and the same on a SQLite file as the peer. --full adds a 10^5-product economy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def _rounds_case(case: str, io: Any, shares: np.ndarray | None) -> dict[str, Any]:
    from cybersyn.councils.central import central_plan, gap_pct, labour_gap_pct
    from cybersyn.councils.participatory import run_rounds

    t = time.perf_counter()
    result = run_rounds(io, shares)
    seconds = time.perf_counter() - t
    t = time.perf_counter()
    optimal = central_plan(io)
    peer_seconds = time.perf_counter() - t
    x = result.final.outputs
    return {"case": case, "products": io.n, "rounds": len(result.rounds),
            "converged": result.converged, "gap_pct": round(gap_pct(x, optimal), 3),
            "labour_gap_pct": round(labour_gap_pct(io, x, optimal), 3),
            "max_excess_pct": round(100 * result.final.max_excess, 3),
            "seconds": round(seconds, 3), "peer": "central plan (plan package / HiGHS)",
            "peer_seconds": round(peer_seconds, 3)}


def _votes_on(url: str, voters: int) -> tuple[float, float, bool]:
    """(votes per second, seconds, every vote counted exactly once) for `voters` threads."""
    from cybersyn.auth import Principal
    from cybersyn.councils.membership import Composition, appoint_many, create_council
    from cybersyn.councils.proposals import cast_vote, close_proposal, open_proposal
    from cybersyn.economy import Unit
    from cybersyn.store import Store

    store = Store(url, pool_size=20)
    store.migrate()
    now = datetime.now(UTC)
    office = Principal("planner", "bench")
    half = voters // 2
    with store.write() as conn:
        create_council(conn, Unit("B1", "Bench", "enterprise"), now, "bench",
                       Composition(half, voters - half))
        people = [(f"v{k}", f"Voter {k}", "worker" if k < half else "government", False)
                  for k in range(voters)]
        appoint_many(conn, "B1", people, now, "bench")
        pid = open_proposal(conn, office, council_id="B1", kind="investment", title="Bench",
                            body={}, closes_at=now + timedelta(hours=1), now=now)
    side = {f"v{k}": "worker" if k < half else "government" for k in range(voters)}

    def vote(k: int) -> None:
        who = Principal("member", f"v{k}", frozenset({"B1"}))
        with store.write() as conn:
            cast_vote(conn, who, pid, ("yes", "no", "abstain")[k % 3], datetime.now(UTC))

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=voters) as pool:
        list(pool.map(vote, range(voters)))
    seconds = time.perf_counter() - t
    with store.write() as conn:
        out = close_proposal(conn, office, pid, datetime.now(UTC))
    expected = [sum(k % 3 == c for k in range(voters)) for c in range(3)]
    ok = [out["yes"], out["no"], out["abstain"]] == expected and len(side) == voters
    store.close()
    return voters / seconds, seconds, ok


def _pg_schema(base: str) -> tuple[str, Any]:
    from cybersyn.store import normalize_url

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(normalize_url(base))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def votes_case(voters: int) -> dict[str, Any]:
    base = os.environ.get("CYBERSYN_BENCH_PG_URL", PG_DEFAULT)
    with tempfile.TemporaryDirectory() as tmp:
        peer_rate, _, peer_ok = _votes_on(f"sqlite:///{tmp}/bench.db", voters)
    row: dict[str, Any] = {"case": "votes", "backend": "postgresql", "voters": voters,
                           "peer": "same voters on SQLite (one writer)",
                           "peer_votes_per_s": round(peer_rate, 1), "peer_counted_once": peer_ok}
    try:
        url, drop = _pg_schema(base)
    except sa.exc.OperationalError as e:
        return {**row, "votes_per_s": None, "error": f"PostgreSQL unavailable: {e.orig}"}
    try:
        rate, seconds, ok = _votes_on(url, voters)
    finally:
        drop()
    return {**row, "votes_per_s": round(rate, 1), "seconds": round(seconds, 3),
            "counted_once": ok}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="one JSON line per case")
    ap.add_argument("--full", action="store_true", help="add a 10^5-product economy")
    ap.add_argument("--voters", type=int, default=100)
    args = ap.parse_args()
    from cybersyn.councils._synthetic import synthetic_io
    from cybersyn.councils.rounds import district_shares
    from cybersyn.economy import demo_economy

    demo = demo_economy()
    cases = [lambda: _rounds_case("demo", demo.io, district_shares(demo)),
             lambda: _rounds_case("synthetic-10000", synthetic_io(10_000, seed=1),
                                  np.full(50, 1 / 50))]
    if args.full:
        cases.append(lambda: _rounds_case("synthetic-100000", synthetic_io(100_000, seed=1),
                                          np.full(50, 1 / 50)))
    cases.append(lambda: votes_case(args.voters))
    for make in cases:
        row = make()
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print(", ".join(f"{k}={v}" for k, v in row.items()), file=sys.stdout, flush=True)


if __name__ == "__main__":
    main()
