"""Group commit: concurrent callers' writes share one transaction and one durable commit.

A durable commit costs a disk flush (1-20 ms on the shared machine), more than writing a
few hundred rows, so committing each caller's write alone caps throughput at one write
per flush. Each caller queues its job. If fewer than `parallel` groups are in flight it
leads: takes every queued job (up to `max_group`), hands them to `write` (which answers
each job only once the transaction holding it has committed), wakes their callers and
hands the next group (the whole queue at that moment) to the oldest caller in it. Else it
sleeps until its job is answered or a group is handed to it. Each commit wakes only its
own callers and the next leader, each through a lock of its own (waking every waiter on
each commit, or making waiters poll a shared semaphore, left ~1 job per group under the
GIL). Nobody returns before the commit holding its write, so an answer means committed.
(Leader/follower group commit, as write-ahead logs group their flushes.)

SQLite has one writer: `parallel` 1. PostgreSQL runs transactions concurrently (and groups
their WAL flushes itself): with a few groups in flight, the next group is being written
while one waits for its flush.
"""

from __future__ import annotations

import _thread
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

import sqlalchemy as sa

from cybersyn.errors import CybersynError
from cybersyn.store.store import Store

T = TypeVar("T")
R = TypeVar("R")
G = TypeVar("G")
RETRIES = 3
log = logging.getLogger(__name__)


class Job(Generic[T, R]):
    """One caller's `item`; `write` answers it with `settle` once committed (a result, or
    an exception that the caller raises: a domain error writes nothing of its job)."""

    __slots__ = ("answer", "answered", "group", "item", "wake")

    def __init__(self, item: T) -> None:
        self.item = item
        self.answer: R | BaseException | None = None
        self.answered = False
        self.group: list[Job[T, R]] | None = None
        self.wake = _thread.allocate_lock()  # released once: answered, or handed a group
        self.wake.acquire()

    def settle(self, answer: R | BaseException) -> None:
        self.answer, self.answered = answer, True


Write = Callable[[Store, list[Job[T, R]]], None]


class GroupCommit(Generic[T, R]):
    """Leader/follower group commit of `write(store, jobs)` (see the module docstring).

    `write` settles every job it committed; if it raises, the jobs it left unanswered are
    written again one by one, each retried `RETRIES` times on `retry_on` errors (a deadlock
    between groups, which PostgreSQL breaks by aborting one side, must not fail the others)
    and then answered 503 with `busy` (nothing of it stored).
    """

    def __init__(self, write: Write[T, R], *, parallel: int = 1, max_group: int = 64,
                 busy: str = "the database is busy or unavailable; nothing was stored, retry",
                 retry_on: tuple[type[BaseException], ...] = (sa.exc.OperationalError,)
                 ) -> None:
        if parallel < 1 or max_group < 1:
            raise ValueError(f"Expected parallel >= 1 and max_group >= 1, got {parallel}, "
                             f"{max_group}.")
        self._write = write
        self._parallel = parallel
        self._max = max_group
        self._busy = busy
        self._retry_on = retry_on
        self._lock = threading.Lock()
        self._queue: list[Job[T, R]] = []
        self._leading = 0
        self.groups = 0  #: groups taken so far
        self.handled = 0  #: jobs taken so far

    def submit(self, store: Store, item: T) -> R:
        """`item`'s answer, returned only after the transaction holding it commits; raises
        its error (a domain error, or 503 when the database stays unavailable)."""
        job: Job[T, R] = Job(item)
        with self._lock:
            self._queue.append(job)
            if self._leading < self._parallel:  # then the queue held no other job
                self._leading += 1
                job.group = self._take()
        if job.group is None:
            job.wake.acquire()  # answered, or a group headed by our job was handed to us
        if job.group is not None:
            self._lead(store, job.group)
        if isinstance(job.answer, BaseException):
            raise job.answer
        if not job.answered:
            raise RuntimeError("group commit returned an unanswered job")
        return job.answer  # type: ignore[return-value]  # answered: R

    def _take(self) -> list[Job[T, R]]:
        """The queue's head (called holding the lock)."""
        group = self._queue[:self._max]
        del self._queue[:self._max]
        self.groups += 1
        self.handled += len(group)
        return group

    def _lead(self, store: Store, group: list[Job[T, R]]) -> None:
        """Commit `group` (headed by our own job), hand the next group to its oldest
        caller, wake the group's other callers."""
        try:
            self._commit(store, group)
        finally:
            with self._lock:
                nxt = self._take() if self._queue else None
                if nxt is None:
                    self._leading -= 1
                else:
                    nxt[0].group = nxt
            if nxt is not None:
                nxt[0].wake.release()
            for j in group[1:]:
                j.wake.release()

    def _commit(self, store: Store, group: list[Job[T, R]]) -> None:
        try:
            self._write(store, group)
        except Exception as e:  # the unanswered part did not commit: each on its own
            left = [j for j in group if not j.answered]
            log.info("group of %d failed (%s); committing %d one by one", len(group),
                     type(e).__name__, len(left))
            for j in left:
                self._alone(store, j)
        except BaseException as e:
            for j in group:
                if not j.answered:
                    j.settle(e)
            raise

    def _alone(self, store: Store, job: Job[T, R]) -> None:
        for attempt in range(RETRIES):
            try:
                self._write(store, [job])
                return
            except self._retry_on as e:
                log.warning("write failed (attempt %d): %s", attempt + 1,
                            getattr(e, "orig", None) or e)
                job.settle(CybersynError(self._busy, status=503))
                time.sleep(0.02 * (attempt + 1))
            except Exception as e:  # not the database's state: retrying will not help
                job.settle(e)
                return


class PerStore(Generic[G]):
    """One `make(store)` per Store object, made on first use and dropped with the store."""

    def __init__(self, make: Callable[[Store], G]) -> None:
        self._make = make
        self._made: weakref.WeakKeyDictionary[Store, G] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, store: Store) -> G:
        with self._lock:
            if store not in self._made:
                self._made[store] = self._make(store)
            return self._made[store]
