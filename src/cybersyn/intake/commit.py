"""The intake's group commit: batches that arrive together share one transaction and one
durable commit (`cybersyn.store.group_commit`, which supply hand-outs use too).

A durable commit costs a disk flush (~5-20 ms here), more than inserting 1,000 rows, so
committing each batch alone caps the intake at one batch per flush. SQLite has one
writer, so one group is in flight at a time; PostgreSQL runs concurrent transactions (and
groups their WAL flushes itself), so up to `PG_PARALLEL` groups are in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from cybersyn.errors import CybersynError
from cybersyn.store import Store
from cybersyn.store.group_commit import GroupCommit, Job, PerStore

MAX_GROUP = 64
PG_PARALLEL = 3
#: On the SQLite connection that writes observations (per connection, idempotent): a
#: batch dirties about one index leaf page per indicator, so with the default automatic
#: checkpoint every 1,000 WAL pages nearly every commit also ran a checkpoint; every
#: 10,000 pages, a page rewritten by several commits is copied back once (measured: CPU
#: per 1,000-row batch on a table of 200k rows 19 -> 11-13 ms, wall 55-70 -> 23-31 ms).
SQLITE_PRAGMAS = ("PRAGMA wal_autocheckpoint=10000", "PRAGMA cache_size=-32768")

#: A job: writes one batch inside the shared transaction and returns its answer.
Apply = Callable[[sa.Connection], Any]


def _write(store: Store, jobs: list[Job[Apply, Any]]) -> None:
    """Every job in one transaction; each answered only after it commits. A domain error
    (e.g. a reused idempotency key) is raised before its job writes anything, so it fails
    that job alone and the others still commit."""
    answers: list[Any] = []
    with store.write() as conn:
        if store.is_sqlite:
            for pragma in SQLITE_PRAGMAS:
                conn.exec_driver_sql(pragma)
        for job in jobs:
            try:
                answers.append(job.item(conn))
            except CybersynError as e:
                answers.append(e)
    for job, answer in zip(jobs, answers, strict=True):
        job.settle(answer)


def _new(store: Store) -> GroupCommit[Apply, Any]:
    return GroupCommit(_write, parallel=1 if store.is_sqlite else PG_PARALLEL,
                       max_group=MAX_GROUP,
                       busy="the database is busy or unavailable; nothing of this batch "
                            "was stored, retry")


#: The store's intake group commit (one per Store object).
group_commit = PerStore(_new)
