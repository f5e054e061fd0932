"""Members' credentials: argon2id password hashes, session tokens, brute-force slowing.

Sessions are random tokens stored only as `cybersyn.auth.token_digest`; the same token works
as a bearer token for the API and as the Opsroom's `cybersyn_session` cookie. Neither
passwords nor tokens are ever written to the audit log.

Brute force: failures are counted per username (known or not, so names cannot be probed);
from the LOCK_AFTER-th failure on the username is locked for 2^(k - LOCK_AFTER) seconds
(k = failures so far), at most MAX_LOCK_SECONDS, even for the right password. A success
resets the count.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cybersyn.auth import Principal, new_token, token_digest
from cybersyn.councils.tables import login_failures, members, seats, sessions
from cybersyn.errors import CybersynError, InvalidInput, Unauthorized

HASHER = PasswordHasher()
LOCK_AFTER = 3
MAX_LOCK_SECONDS = 900
SESSION_HOURS = 12
MIN_PASSWORD = 8
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_DUMMY_HASH = HASHER.hash("not a real password")


class TooManyAttempts(CybersynError):
    status = 429


def check_username(username: str) -> str:
    if not USERNAME.match(username or ""):
        raise InvalidInput(f"username {username!r}: expected 2-64 characters of a-z, 0-9, "
                           "'.', '_' or '-', starting with a letter or digit")
    return username


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"password: expected at least {MIN_PASSWORD} characters")
    return HASHER.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _locked_until(conn: sa.Connection, username: str) -> datetime | None:
    return conn.execute(sa.select(login_failures.c.locked_until)
                        .where(login_failures.c.username == username)).scalar_one_or_none()


def lock_seconds(failures: int) -> float:
    """How long a username is locked after `failures` failed logins (0 below LOCK_AFTER)."""
    if failures < LOCK_AFTER:
        return 0.0
    return float(min(2 ** (failures - LOCK_AFTER), MAX_LOCK_SECONDS))


def _record_failure(conn: sa.Connection, username: str, now: datetime) -> None:
    row = conn.execute(sa.select(login_failures.c.failures)
                       .where(login_failures.c.username == username)).first()
    failures = (row.failures if row else 0) + 1
    locked = None
    if failures >= LOCK_AFTER:
        locked = now + timedelta(seconds=lock_seconds(failures))
    values = {"failures": failures, "last_failure_at": now, "locked_until": locked}
    if row is None:
        conn.execute(login_failures.insert().values(username=username, **values))
    else:
        conn.execute(login_failures.update().where(login_failures.c.username == username)
                     .values(**values))


def login(conn: sa.Connection, username: str, password: str, now: datetime) -> str:
    """A new session token for `username`, or Unauthorized / TooManyAttempts (429).

    Call it in a transaction of its own: on failure the failure count is committed before
    the error is raised (a rolled-back count would not slow anyone down)."""
    username = (username or "").strip().lower()
    until = _locked_until(conn, username)
    if until is not None and now < until:
        raise TooManyAttempts(f"too many failed logins for {username!r}: try again after "
                              f"{until.isoformat(timespec='seconds')}")
    row = conn.execute(sa.select(members.c.id, members.c.password_hash)
                       .where(members.c.username == username)).first()
    if row is None or not _verify(row.password_hash, password or ""):
        _record_failure(conn, username, now)
        conn.commit()
        raise Unauthorized("wrong username or password")
    conn.execute(login_failures.delete().where(login_failures.c.username == username))
    token = new_token()
    conn.execute(sessions.insert().values(
        token_digest=token_digest(token), member_id=row.id, created_at=now,
        expires_at=now + timedelta(hours=SESSION_HOURS)))
    return token


def logout(conn: sa.Connection, token: str) -> None:
    conn.execute(sessions.delete().where(sessions.c.token_digest == token_digest(token)))


def new_session(conn: sa.Connection, member_id: str, now: datetime) -> str:
    """A session for a member without a password check (CLI administration, tests)."""
    token = new_token()
    conn.execute(sessions.insert().values(
        token_digest=token_digest(token), member_id=member_id, created_at=now,
        expires_at=now + timedelta(hours=SESSION_HOURS)))
    return token


def principal_for(conn: sa.Connection, member_id: str, now: datetime) -> Principal | None:
    """The member as a Principal: units = councils where they hold a current seat."""
    m = conn.execute(sa.select(members).where(members.c.id == member_id)).first()
    if m is None:
        return None
    rows = conn.execute(sa.select(seats).where(seats.c.member_id == member_id)).all()
    current = [s for s in rows if s.term_start <= now and (s.term_end is None or now < s.term_end)]
    roles = {f"{s.side}_rep" for s in current} | {"chair" for s in current if s.chair}
    if m.kind == "planner":
        roles.add("planner")
    return Principal(kind="planner" if m.kind == "planner" else "member", id=m.id,
                     units=frozenset(s.council_id for s in current),
                     roles=frozenset(roles), name=m.name)


def authenticate(conn: sa.Connection, token: str) -> Principal | None:
    """The member behind a session token, or None (unknown or expired)."""
    now = datetime.now(UTC)
    row = conn.execute(sa.select(sessions.c.member_id, sessions.c.expires_at)
                       .where(sessions.c.token_digest == token_digest(token or ""))).first()
    if row is None or row.expires_at <= now:
        return None
    return principal_for(conn, row.member_id, now)
