"""The append-only, hash-chained audit log every decision is written to.

Each entry's hash is SHA-256 over the canonical JSON of (seq, at, actor, action, subject,
payload, prev_hash); `prev_hash` is the previous entry's hash (64 zeros for the first).
`audit_head` keeps the last seq and hash, updated in the same transaction, so deleting the
newest entries is detected too. `verify` recomputes the chain and lists every break.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from cybersyn.store.schema import audit_head, audit_log

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def entry_hash(seq: int, at: str, actor: str, action: str, subject: str, payload_json: str,
               prev_hash: str) -> str:
    body = json.dumps([seq, at, actor, action, subject, payload_json, prev_hash],
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def append(conn: sa.Connection, actor: str, action: str, subject: str,
           payload: dict[str, Any] | None = None, at: datetime | None = None) -> AuditEntry:
    """Append one entry inside the caller's transaction (the head row is locked on
    PostgreSQL, so concurrent writers are serialised)."""
    head = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash)
                        .where(audit_head.c.id == 1).with_for_update()).one()
    seq = head.seq + 1
    when = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    body = canonical(payload or {})
    digest = entry_hash(seq, when, actor, action, subject, body, head.hash)
    conn.execute(audit_log.insert().values(seq=seq, at=when, actor=actor, action=action,
                                           subject=subject, payload=body,
                                           prev_hash=head.hash, hash=digest))
    conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=seq, hash=digest))
    return AuditEntry(seq, when, actor, action, subject, payload or {}, head.hash, digest)


def entries(conn: sa.Connection, *, subject: str | None = None,
            action: str | None = None) -> list[AuditEntry]:
    q = sa.select(audit_log).order_by(audit_log.c.seq)
    if subject is not None:
        q = q.where(audit_log.c.subject == subject)
    if action is not None:
        q = q.where(audit_log.c.action == action)
    return [AuditEntry(r.seq, r.at, r.actor, r.action, r.subject, json.loads(r.payload),
                       r.prev_hash, r.hash) for r in conn.execute(q)]


def verify(conn: sa.Connection) -> list[str]:
    """Every break in the chain, as sentences naming the entry; empty when intact."""
    problems: list[str] = []
    prev, expected_seq = GENESIS, 1
    for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)):
        if r.seq != expected_seq:
            problems.append(f"entries {expected_seq}..{r.seq - 1} are missing (deleted)")
        if r.prev_hash != prev:
            problems.append(f"entry {r.seq}: does not follow the entry before it")
        digest = entry_hash(r.seq, r.at, r.actor, r.action, r.subject, r.payload, r.prev_hash)
        if digest != r.hash:
            problems.append(f"entry {r.seq} ({r.action} {r.subject}): content was altered")
        prev, expected_seq = r.hash, r.seq + 1
    head = conn.execute(sa.select(audit_head).where(audit_head.c.id == 1)).one_or_none()
    if head is None:
        problems.append("the audit head row is missing")
    elif (head.seq, head.hash) != (expected_seq - 1, prev):
        problems.append(f"the log ends at entry {expected_seq - 1} but the head records "
                        f"entry {head.seq}: entries were deleted from the end or the head was "
                        "altered")
    return problems
