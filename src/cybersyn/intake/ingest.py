"""`ingest_batch`: the one way observations enter (HTTP JSON and CSV, the CLI, MQTT).

A batch is validated whole (every bad row named, 422, nothing written), checked against
the reporter's units (403), then written in one transaction with INSERT .. ON CONFLICT
DO NOTHING on (indicator_id, observed_at); the answer is given only after the commit, so
an acknowledged observation is durable (SQLite: WAL with synchronous=FULL). A retried
batch changes nothing: rows already stored are counted as duplicates, and a batch sent
with the same Idempotency-Key gets the first answer again (draft-ietf-httpapi-
idempotency-key-header: a key reused with a different body is refused with 422).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from cybersyn.auth import Principal
from cybersyn.errors import CybersynError, Forbidden, InvalidInput, NotFound
from cybersyn.intake.catalog import Catalog, catalog
from cybersyn.intake.commit import group_commit
from cybersyn.intake.params import DEFAULT_PARAMS, IntakeParams
from cybersyn.intake.tables import intake_idempotency, observation_revisions
from cybersyn.intake.validate import Row, check_rows, parse_time, parse_value
from cybersyn.store import Store, audit
from cybersyn.store.schema import observations

REPORTERS = ("enterprise", "operator", "admin")


@dataclass(frozen=True)
class IngestResult:
    """received: rows in the batch; accepted: newly stored; duplicates: already stored
    (left unchanged); conflicts: duplicates whose stored value differs (first 100; correct
    them with a revision); replayed: this is the stored answer to an earlier request."""

    received: int
    accepted: int
    duplicates: int
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def actor_of(principal: Principal) -> str:
    return f"{principal.kind}:{principal.id}"


def ingest_batch(store: Store, principal: Principal, rows: Sequence[object],
                 idempotency_key: str | None = None, now: datetime | None = None, *,
                 params: IntakeParams = DEFAULT_PARAMS, source: str = "api",
                 first_row: int = 0, request_sha256: str | None = None) -> IngestResult:
    """Validate and store `rows` ({indicator, time, value} mappings) for `principal`."""
    now = now or datetime.now(UTC)
    if principal.kind not in REPORTERS:
        raise Forbidden(f"a {principal.kind} cannot report observations")
    if len(rows) > params.max_rows:
        raise CybersynError(f"batch of {len(rows)} rows exceeds the limit of "
                            f"{params.max_rows}; split it", status=413)
    cat = catalog(store)
    parsed = validate_batch(rows, cat, now, params, first_row)
    _authorise(principal, parsed, cat)
    digest = request_sha256 or (_digest(rows) if idempotency_key else "")

    def apply(conn: sa.Connection) -> IngestResult:
        if idempotency_key:
            earlier = _replay(conn, principal, idempotency_key, digest)
            if earlier is not None:
                return earlier
        result = _insert(conn, parsed, now, source)
        if idempotency_key:
            conn.execute(intake_idempotency.insert().values(
                principal=actor_of(principal), key=idempotency_key, request_sha256=digest,
                response=json.dumps(result.to_json()), created_at=now))
        return result

    result: IngestResult = group_commit(store).run(store, apply)
    return result


def validate_batch(rows: Sequence[object], cat: Catalog, now: datetime, params: IntakeParams,
               first_row: int) -> list[Row]:
    checked = check_rows(rows, cat.indicator_unit.__contains__, now,
                         timedelta(seconds=params.max_future_s), first_row,
                         params.max_errors)
    if checked.errors:
        bad = len({e["row"] for e in checked.errors})
        first = checked.errors[0]
        raise InvalidInput(f"{bad} bad row(s), nothing stored; first: row {first['row']} "
                           f"{first['field']}: {first['reason']}", errors=checked.errors)
    return checked.rows


def _authorise(principal: Principal, rows: list[Row], cat: Catalog) -> None:
    if principal.kind == "admin":
        return
    allowed: dict[str, bool] = {}
    refused: list[str] = []
    for ind, _t, _v in rows:
        unit = cat.indicator_unit[ind]
        if unit not in allowed:
            allowed[unit] = cat.covers(principal.units, unit)
        if not allowed[unit] and ind not in refused:
            refused.append(ind)
    if refused:
        more = f" and {len(refused) - 3} more" if len(refused) > 3 else ""
        raise Forbidden(f"{actor_of(principal)} may not report indicators outside its units: "
                        f"{', '.join(refused[:3])}{more}")


def _digest(rows: Sequence[object]) -> str:
    body = json.dumps(rows, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _replay(conn: sa.Connection, principal: Principal, key: str,
            digest: str) -> IngestResult | None:
    row = conn.execute(sa.select(intake_idempotency.c.request_sha256,
                                 intake_idempotency.c.response)
                       .where(intake_idempotency.c.principal == actor_of(principal),
                              intake_idempotency.c.key == key)).first()
    if row is None:
        return None
    if row.request_sha256 != digest:
        raise InvalidInput(f"Idempotency-Key {key!r} was already used with a different batch",
                           errors=[{"field": "Idempotency-Key", "reason": "reused"}])
    return IngestResult(**{**json.loads(row.response), "replayed": True})


def _insert(conn: sa.Connection, rows: list[Row], now: datetime, source: str) -> IngestResult:
    if not rows:
        return IngestResult(0, 0, 0)
    sql, to_db = _insert_sql(conn.dialect)
    stamps: dict[datetime, Any] = {}
    for _i, t, _v in rows:
        if t not in stamps:
            stamps[t] = to_db(t)
    received = to_db(now)
    res = conn.exec_driver_sql(sql, [(i, stamps[t], v, received, source) for i, t, v in rows])
    accepted = res.rowcount
    conflicts = _conflicts(conn, rows) if accepted < len(rows) else []
    return IngestResult(len(rows), accepted, len(rows) - accepted, conflicts)


INSERT_SQL = ("INSERT INTO observations (indicator_id, observed_at, value, received_at, "
              "source) VALUES ({p}, {p}, {p}, {p}, {p}) "
              "ON CONFLICT (indicator_id, observed_at) DO NOTHING")


@functools.cache
def _insert_sql(dialect: sa.Dialect) -> tuple[str, Callable[[datetime], Any]]:
    """INSERT .. ON CONFLICT DO NOTHING for `dialect` (positional parameters indicator_id,
    observed_at, value, received_at, source) and the converter SQLAlchemy itself applies
    to a `UTCDateTime` there (so stored times match those written through Core). Run with
    the driver's executemany: Core's per-row bind processing costs more than the database.
    """
    sql = INSERT_SQL.format(p="?" if dialect.paramstyle == "qmark" else "%s")
    proc = observations.c.observed_at.type.dialect_impl(dialect).bind_processor(dialect)
    return sql, proc or (lambda t: t)


def _conflicts(conn: sa.Connection, rows: list[Row]) -> list[dict[str, Any]]:
    """Rows of the batch whose (indicator, time) is stored with another value (first 100)."""
    wanted = {(i, t): v for i, t, v in rows}
    stored = conn.execute(sa.select(observations.c.indicator_id, observations.c.observed_at,
                                    observations.c.value)
                          .where(sa.tuple_(observations.c.indicator_id,
                                           observations.c.observed_at).in_(list(wanted))))
    out = []
    for i, t, v in stored:
        if (i, t) in wanted and wanted[(i, t)] != v:
            out.append({"indicator": i, "time": t.isoformat(), "stored": v,
                        "sent": wanted[(i, t)]})
            if len(out) == 100:
                break
    return out


def revise(store: Store, principal: Principal, indicator: object, time: object,
           value: object, reason: object, now: datetime | None = None) -> dict[str, Any]:
    """Correct a stored observation: the old and new value, who and why go into
    `observation_revisions` and the audit log, in the same transaction as the update."""
    now = now or datetime.now(UTC)
    if principal.kind not in REPORTERS:
        raise Forbidden(f"a {principal.kind} cannot revise observations")
    errors = _revision_errors(indicator, time, value, reason, catalog(store))
    if errors:
        raise InvalidInput(f"{errors[0]['field']}: {errors[0]['reason']}", errors=errors)
    t, v, ind, why = parse_time(time), parse_value(value), str(indicator), str(reason)
    _authorise(principal, [(ind, t, v)], catalog(store))
    key = (observations.c.indicator_id == ind, observations.c.observed_at == t)
    with store.write() as conn:
        old = conn.execute(sa.select(observations.c.value).where(*key)).scalar_one_or_none()
        if old is None:
            raise NotFound(f"no observation of {ind} at {t.isoformat()} to revise")
        conn.execute(observations.update().where(*key).values(value=v))
        conn.execute(observation_revisions.insert().values(
            indicator_id=ind, observed_at=t, old_value=old, new_value=v, revised_at=now,
            actor=actor_of(principal), reason=why))
        body = {"indicator": ind, "time": t.isoformat(), "old_value": old, "new_value": v,
                "reason": why}
        audit.append(conn, actor_of(principal), "observation.revise", ind, body, at=now)
    return body


def _revision_errors(indicator: object, time: object, value: object, reason: object,
                     cat: Catalog) -> list[dict[str, object]]:
    errors: list[dict[str, object]] = []
    if not isinstance(indicator, str) or indicator not in cat.indicator_unit:
        errors.append({"field": "indicator", "reason": f"unknown indicator {indicator!r}"})
    for name, parse, raw in (("time", parse_time, time), ("value", parse_value, value)):
        try:
            parse(raw)
        except ValueError as e:
            errors.append({"field": name, "reason": str(e)})
    if not isinstance(reason, str) or not reason.strip():
        errors.append({"field": "reason", "reason": "say why the value is corrected"})
    return errors
