"""kill -9 during hand-outs: no acknowledged hand-out is lost, none is counted twice, and
retrying every key afterwards changes nothing that was committed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from cybersyn.store import Store
from cybersyn.supply import ledger
from cybersyn.supply import tables as t
from cybersyn.testing import assert_ledger_balanced

P = "1972-10"
AT = datetime(1972, 10, 5, tzinfo=UTC)
CARDS = 40

WRITER = textwrap.dedent("""
    import sys
    from datetime import UTC, datetime
    from cybersyn.errors import InvalidInput
    from cybersyn.store import Store
    from cybersyn.supply import ledger
    store = Store(sys.argv[1])
    at = datetime(1972, 10, 5, tzinfo=UTC)
    for k in range(int(sys.argv[2])):
        card = f"C{k % 40}"
        try:
            with store.write() as conn:
                h = ledger.hand_out(conn, f"k{k}", card, "milk", 1, "P1", "1972-10", at, "t")
        except InvalidInput:
            print(f"refused k{k}", flush=True)
            continue
        print(f"ack k{k} {int(h.replayed)}", flush=True)
""")


GROUP_WRITER = textwrap.dedent("""
    import itertools, sys, threading
    from datetime import UTC, datetime
    from cybersyn.errors import InvalidInput
    from cybersyn.store import Store
    from cybersyn.supply.handouts import HandOutRequest, submit
    store = Store(sys.argv[1])
    at = datetime(1972, 10, 5, tzinfo=UTC)
    n, keys, out = int(sys.argv[2]), itertools.count(), threading.Lock()
    def say(line):
        with out:
            sys.stdout.write(line + "\\n")
            sys.stdout.flush()
    def client():
        for k in iter(lambda: next(keys), None):
            if k >= n:
                return
            try:
                h = submit(store, HandOutRequest(f"k{k}", f"C{k % 40}", "milk", 1, "P1",
                                                 "1972-10", at, "t"))
            except InvalidInput:
                say(f"refused k{k}")
                continue
            say(f"ack k{k} {int(h.replayed)}")
    threads = [threading.Thread(target=client) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
""")


def _seed(store: Store) -> None:
    with store.write() as conn:
        ledger.add_point(conn, "P1", "D01", "Almacén")
        ledger.set_good(conn, "milk", "Milk", "litre", 180)
        ledger.set_rule(conn, "milk", "child", 15, 0)
        for c in range(CARDS):
            ledger.register(conn, ledger.Household(f"C{c}", "D01", "P1", f"N{c}", f"{c}-K", 2,
                                                   1), AT)
        ledger.issue_entitlements(conn, P)
        ledger.receive(conn, "r1", "P1", "milk", CARDS * 15, P, AT, "depot")


def _writer(url: str, n: int, script: str = WRITER) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, url, str(n)],
                            stdout=subprocess.PIPE, text=True, env=os.environ.copy())


@pytest.mark.slow
@pytest.mark.parametrize("script", [WRITER, GROUP_WRITER], ids=["alone", "group_commit"])
def test_kill9_loses_no_acknowledged_hand_out(store: Store, script: str) -> None:
    """`group_commit`: 8 threads hand out through `handouts.submit`, sharing commits."""
    _seed(store)
    proc = _writer(store.url, 10_000, script)
    acked = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ack"):
            acked.append(line.split()[1])
        if len(acked) >= 100:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    with store.read() as conn:
        keys = set(conn.execute(sa.select(t.journal.c.idem_key)
                                .where(t.journal.c.kind == "handout")).scalars())
        assert set(acked) <= keys  # acknowledged means committed
        assert_ledger_balanced(conn, P)  # nothing counted twice, entitlements agree
        before = len(keys)
    # the shop retries everything it ever sent (acknowledged or not) after the crash
    retry = _writer(store.url, 400)
    out, _ = retry.communicate(timeout=300)
    replays = {ln.split()[1] for ln in out.splitlines() if ln.startswith("ack") and
               ln.endswith(" 1")}
    assert keys <= replays  # every committed hand-out answered as a replay, not redone
    with store.read() as conn:
        assert_ledger_balanced(conn, P)
        total = conn.execute(sa.select(sa.func.sum(t.entitlements.c.handed_out))).scalar_one()
        n = conn.execute(sa.select(sa.func.count()).select_from(t.journal)
                         .where(t.journal.c.kind == "handout")).scalar_one()
    assert total == n >= before
    assert n == min(400, CARDS * 15)
