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
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cybersyn.auth import Principal
from cybersyn.errors import Conflict, CybersynError, Forbidden, InvalidInput, NotFound
from cybersyn.intake.catalog import Catalog, catalog
from cybersyn.intake.commit import group_commit
from cybersyn.intake.decode import Columns
from cybersyn.intake.params import DEFAULT_PARAMS, IntakeParams
from cybersyn.intake.tables import intake_idempotency, observation_revisions
from cybersyn.intake.validate import Row, check_columns, check_rows, parse_time, parse_value
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
    check_size(principal, len(rows), params)
    cat = catalog(store)
    parsed = validate_batch(rows, cat, now, params, first_row)
    digest = request_sha256 or (_digest(rows) if idempotency_key else "")
    return store_rows(store, principal, parsed, cat, idempotency_key, now, source=source,
                      request_sha256=digest)


def ingest_columns(store: Store, principal: Principal, cols: Columns,
                   idempotency_key: str | None = None, now: datetime | None = None, *,
                   params: IntakeParams = DEFAULT_PARAMS, source: str = "api",
                   request_sha256: str = "") -> IngestResult:
    """`ingest_batch` for a batch already decoded into columns (`decode.decode_columns`):
    checked by `validate.check_columns` without a Python object per row; if anything is
    wrong the rows go through `validate_batch`, which names every bad row and field."""
    now = now or datetime.now(UTC)
    check_size(principal, len(cols), params)
    cat = catalog(store)
    rows = check_columns(cols.indicators, cols.times, cols.values,
                         cat.indicator_unit.__contains__, now,
                         timedelta(seconds=params.max_future_s))
    if rows is None:
        rows = validate_batch([{"indicator": i, "time": t, "value": v} for i, t, v in
                               zip(cols.indicators, cols.times, cols.values, strict=True)],
                              cat, now, params, 0)
    return store_rows(store, principal, rows, cat, idempotency_key, now, source=source,
                      request_sha256=request_sha256)


def check_size(principal: Principal, n: int, params: IntakeParams) -> None:
    """403 for a principal that may not report; 413 for a batch of more than max_rows."""
    if principal.kind not in REPORTERS:
        raise Forbidden(f"a {principal.kind} cannot report observations")
    if n > params.max_rows:
        raise CybersynError(f"batch of {n} rows exceeds the limit of {params.max_rows}; "
                            "split it", status=413)


def store_rows(store: Store, principal: Principal, rows: list[Row], cat: Catalog,
               idempotency_key: str | None, now: datetime, *, source: str,
               request_sha256: str) -> IngestResult:
    """Authorise and write validated `rows`; the answer comes after the commit (group
    commit). With an idempotency key, the key is claimed in the same transaction before
    anything is written, so concurrent requests with one key store the batch once and
    all get its answer."""
    _authorise(principal, rows, cat)

    def apply(conn: sa.Connection) -> IngestResult:
        if idempotency_key:
            earlier = _claim(conn, principal, idempotency_key, request_sha256, now)
            if earlier is not None:
                return earlier
        result = _insert(conn, rows, now, source)
        if idempotency_key:
            conn.execute(intake_idempotency.update()
                         .where(intake_idempotency.c.principal == actor_of(principal),
                                intake_idempotency.c.key == idempotency_key)
                         .values(response=json.dumps(result.to_json())))
        return result

    result: IngestResult = group_commit(store).submit(store, apply)
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
    units = {cat.indicator_unit[i] for i in {r[0] for r in rows}}
    denied = {u for u in units if not cat.covers(principal.units, u)}
    if not denied:
        return
    refused = list(dict.fromkeys(i for i, _t, _v in rows if cat.indicator_unit[i] in denied))
    more = f" and {len(refused) - 3} more" if len(refused) > 3 else ""
    raise Forbidden(f"{actor_of(principal)} may not report indicators outside its units: "
                    f"{', '.join(refused[:3])}{more}")


def _digest(rows: Sequence[object]) -> str:
    body = json.dumps(rows, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _upsert(conn: sa.Connection) -> Callable[[sa.Table], Any]:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def _claim(conn: sa.Connection, principal: Principal, key: str, digest: str,
           now: datetime) -> IngestResult | None:
    """None when this request now holds `key` (claimed in the caller's transaction), else
    the answer stored for the key. The claim is INSERT .. ON CONFLICT DO NOTHING: on
    PostgreSQL, while another transaction holds the same key uncommitted, it waits for
    that one to end, then finds its answer (or claims the key if it rolled back); on
    SQLite the write lock orders the two."""
    who = actor_of(principal)
    claim = (_upsert(conn)(intake_idempotency)
             .values(principal=who, key=key, request_sha256=digest, response="",
                     created_at=now).on_conflict_do_nothing()
             .returning(intake_idempotency.c.key))
    if conn.execute(claim).first() is not None:
        return None
    row = conn.execute(sa.select(intake_idempotency.c.request_sha256,
                                 intake_idempotency.c.response)
                       .where(intake_idempotency.c.principal == who,
                              intake_idempotency.c.key == key)).one()
    if row.request_sha256 != digest:
        raise InvalidInput(f"Idempotency-Key {key!r} was already used with a different batch",
                           errors=[{"field": "Idempotency-Key", "reason": "reused"}])
    if not row.response:  # never committed empty; kept as a guard
        raise Conflict(f"a request with Idempotency-Key {key!r} is in progress; retry")
    return IngestResult(**{**json.loads(row.response), "replayed": True})


def _insert(conn: sa.Connection, rows: list[Row], now: datetime, source: str) -> IngestResult:
    """INSERT .. ON CONFLICT (indicator_id, observed_at) DO NOTHING of `rows` in one
    statement (PostgreSQL: unnest of three arrays; SQLite: the driver's executemany),
    in key order (one lock order for concurrent writers, and index pages in sequence)."""
    if not rows:
        return IngestResult(0, 0, 0)
    to_db = _time_to_db(conn.dialect)
    stamps = {t: to_db(t) for t in {r[1] for r in rows}}
    keyed = sorted((i, stamps[t], v) for i, t, v in rows)
    received = to_db(now)
    if conn.dialect.name == "postgresql":
        inds, times, values = (list(c) for c in zip(*keyed, strict=True))
        res = conn.exec_driver_sql(PG_INSERT, (received, source, inds, times, values))
    else:
        sql = INSERT_SQL.format(p="?" if conn.dialect.paramstyle == "qmark" else "%s")
        res = conn.exec_driver_sql(sql, [(i, t, v, received, source) for i, t, v in keyed])
    accepted = res.rowcount
    conflicts = _conflicts(conn, rows, stamps) if accepted < len(rows) else []
    return IngestResult(len(rows), accepted, len(rows) - accepted, conflicts)


INSERT_SQL = ("INSERT INTO observations (indicator_id, observed_at, value, received_at, "
              "source) VALUES ({p}, {p}, {p}, {p}, {p}) "
              "ON CONFLICT (indicator_id, observed_at) DO NOTHING")
PG_INSERT = ("INSERT INTO observations (indicator_id, observed_at, value, received_at, "
             "source) SELECT i, t, v, %s, %s FROM unnest(%s::varchar[], %s::timestamp[], "
             "%s::float8[]) AS u(i, t, v) ON CONFLICT (indicator_id, observed_at) DO NOTHING")
PG_STORED = ("SELECT o.indicator_id, o.observed_at, o.value FROM observations o JOIN "
             "unnest(%s::varchar[], %s::timestamp[]) AS u(i, t) "
             "ON o.indicator_id = u.i AND o.observed_at = u.t")
SQLITE_STORED = ("SELECT o.indicator_id, o.observed_at, o.value FROM json_each(?) AS j "
                 "JOIN observations AS o ON o.indicator_id = json_extract(j.value, '$[0]') "
                 "AND o.observed_at = json_extract(j.value, '$[1]')")


@functools.cache
def _time_to_db(dialect: sa.Dialect) -> Callable[[datetime], Any]:
    """The converter SQLAlchemy itself applies to a `UTCDateTime` on `dialect`, so times
    written through the driver match those written through Core. The driver is used
    directly because Core's per-row bind processing costs more than the database."""
    proc = observations.c.observed_at.type.dialect_impl(dialect).bind_processor(dialect)
    return proc or (lambda t: t)


def _conflicts(conn: sa.Connection, rows: list[Row],
               stamps: dict[datetime, Any]) -> list[dict[str, Any]]:
    """Rows of the batch whose (indicator, time) is stored with another value (first 100),
    found by one join of the batch's keys with the unique index."""
    wanted = {(i, stamps[t]): (t, v) for i, t, v in rows}
    keys = list(wanted)
    if conn.dialect.name == "postgresql":
        stored = conn.exec_driver_sql(PG_STORED, ([k[0] for k in keys], [k[1] for k in keys]))
    else:
        stored = conn.exec_driver_sql(SQLITE_STORED, (json.dumps(keys),))
    out = []
    for i, db_t, v in stored:
        t, sent = wanted[(i, db_t)]
        if sent != v:
            out.append({"indicator": i, "time": t.isoformat(), "stored": v, "sent": sent})
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
