from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cybersyn import auth as core_auth
from cybersyn.councils.auth import (
    LOCK_AFTER,
    TooManyAttempts,
    authenticate,
    lock_seconds,
    login,
)
from cybersyn.councils.membership import add_planner, set_password
from cybersyn.errors import InvalidInput, Unauthorized
from cybersyn.store import Store
from cybersyn.store.schema import audit_log

NOW = datetime.now(UTC)


def _login(store: Store, user: str, pw: str, when: datetime) -> str:
    with store.write() as conn:
        return login(conn, user, pw, when)


def test_login_gives_a_member_principal(store: Store, council: Callable[..., str]) -> None:
    council()
    with store.write() as conn:
        set_password(conn, "e1w1", "correct horse", "test")
    token = _login(store, "e1w1", "correct horse", NOW)
    with store.read() as conn:
        who = authenticate(conn, token)
        assert core_auth.authenticate(conn, token) == who
        assert authenticate(conn, "not-a-token") is None
        logged = " ".join(conn.execute(sa.select(audit_log.c.payload)).scalars())
    assert who is not None and who.kind == "member" and who.id == "e1w1"
    assert who.units == frozenset({"E1"}) and who.roles == {"worker_rep", "chair"}
    assert "correct horse" not in logged and token not in logged


def test_planner_principal(store: Store) -> None:
    with store.write() as conn:
        add_planner(conn, "odeplan", "Planning office", "planner-pass", NOW, "test")
    with store.read() as conn:
        who = authenticate(conn, _login(store, "odeplan", "planner-pass", NOW))
    assert who is not None and who.kind == "planner"


TICK = timedelta(milliseconds=100)


def test_brute_force_is_slowed_and_success_resets(store: Store,
                                                  council: Callable[..., str]) -> None:
    council()
    with store.write() as conn:
        set_password(conn, "e1w1", "correct horse", "test")
    t = NOW
    for _ in range(LOCK_AFTER):
        with pytest.raises(Unauthorized):
            _login(store, "e1w1", "guess", t)
    with pytest.raises(TooManyAttempts):                 # even the right password waits
        _login(store, "e1w1", "correct horse", t)
    # the injected clock steps past each lock of the schedule (no waiting, no wall clock)
    first, second = lock_seconds(LOCK_AFTER), lock_seconds(LOCK_AFTER + 1)
    assert second > first > 0
    t += timedelta(seconds=first) + TICK                 # the first lock is over
    with pytest.raises(Unauthorized):
        _login(store, "e1w1", "guess again", t)
    second_lock_ends = t + timedelta(seconds=second)     # an instant of the injected clock
    with pytest.raises(TooManyAttempts):                 # inside the second, longer lock
        _login(store, "e1w1", "correct horse", second_lock_ends - TICK)
    token = _login(store, "e1w1", "correct horse", second_lock_ends + TICK)
    assert token
    with pytest.raises(Unauthorized):                    # count was reset: not locked
        _login(store, "e1w1", "guess", second_lock_ends + 2 * TICK)
    for _ in range(LOCK_AFTER):                          # unknown names are slowed too
        with pytest.raises(Unauthorized):
            _login(store, "nobody", "guess", t)
    with pytest.raises(TooManyAttempts):
        _login(store, "nobody", "guess", t)


def test_short_password_refused(store: Store, council: Callable[..., str]) -> None:
    council()
    with store.write() as conn, pytest.raises(InvalidInput, match="at least 8"):
        set_password(conn, "e1w1", "short", "test")
