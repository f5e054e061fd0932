"""The alert lifecycle on the store: raise (aggregating), escalate, acknowledge, resolve.

Every change is one row in `alert_events` (the history and the event stream) and one
entry in the audit log naming who did it, in the same transaction as the change. The
clock is always passed in (`now`), so the demo, cron and tests drive time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cybersyn.alerts.access import may_see, require_act
from cybersyn.alerts.escalation import EscalationParams, climb
from cybersyn.alerts.tables import LIVE, alert_events, alerts
from cybersyn.auth import Principal
from cybersyn.errors import Conflict, InvalidInput, NotFound
from cybersyn.intake.catalog import Catalog, catalog
from cybersyn.signals import Signal
from cybersyn.store import Store, audit
from cybersyn.store.schema import audit_head

STATUSES = ("open", "acknowledged", "resolved")
SYSTEM = "system:escalation"


def alert_json(row: Any) -> dict[str, Any]:
    """The API's alert object (see docs/alerts.md)."""
    m = row._mapping if hasattr(row, "_mapping") else row
    iso = _iso
    return {"id": m["id"], "indicator_id": m["indicator_id"],
            "origin_unit_id": m["origin_unit_id"], "unit_id": m["unit_id"],
            "level": m["level"], "kind": m["kind"], "probability": m["probability"],
            "signals": m["signals"], "status": m["status"], "opened_at": iso(m["opened_at"]),
            "deadline": iso(m["deadline"]), "path": json.loads(m["path"]), "note": m["note"],
            "signal_start": iso(m["signal_start"]), "updated_at": iso(m["updated_at"])}


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _event(conn: sa.Connection, alert_id: int, at: datetime, actor: str, action: str,
           from_unit: str | None = None, to_unit: str | None = None, note: str = "",
           audit_at: datetime | None = None, payload: dict[str, Any] | None = None) -> None:
    conn.execute(alert_events.insert().values(alert_id=alert_id, at=at, actor=actor,
                                              action=action, from_unit=from_unit,
                                              to_unit=to_unit, note=note))
    audit.append(conn, actor, f"alert.{action}", f"alert:{alert_id}",
                 {"from": from_unit, "to": to_unit, "note": note, **(payload or {})},
                 at=audit_at or at)


def raise_from_signals(store: Store, signals: Iterable[Signal], now: datetime,
                       params: EscalationParams | None = None,
                       actor: str = "system:monitor") -> list[dict[str, Any]]:
    """Raise an alert at each signal's indicator unit, or aggregate into the indicator's
    alert that is not yet resolved; returns the alerts raised or changed, in the order of
    the signals. Concurrent raises for one indicator open one alert (a partial unique
    index on live alerts; the loser of the race aggregates)."""
    params = params or EscalationParams()
    sigs = list(signals)
    if not sigs:
        return []
    cat = catalog(store)
    unknown = sorted({s.indicator_id for s in sigs} - cat.indicator_unit.keys())
    if unknown:
        raise InvalidInput(f"unknown indicator {unknown[0]!r}", errors=[
            {"field": "indicator", "reason": f"unknown indicator {u!r}"} for u in unknown])
    ids: dict[str, int] = {}
    with store.write() as conn:
        _begin_write(conn)
        for s in sorted(sigs, key=lambda s: s.indicator_id):  # one lock order for all
            ids[s.indicator_id] = _raise_one(conn, s, now, cat, params, actor)
        return _fetch(conn, list(dict.fromkeys(ids[s.indicator_id] for s in sigs)))


def _begin_write(conn: sa.Connection) -> None:
    """Take the write lock before reading: a no-op update of the audit head row, which
    every audited write locks anyway. PostgreSQL: the row lock orders all alert writers
    (no deadlocks, and reads after it see every earlier commit); SQLite: the driver
    begins the transaction here and the database's write lock is held from now on, so
    another process (cron) cannot change what we read before we write."""
    conn.execute(audit_head.update().where(audit_head.c.id == 1)
                 .values(seq=audit_head.c.seq))


def _raise_one(conn: sa.Connection, s: Signal, now: datetime, cat: Catalog,
               params: EscalationParams, actor: str) -> int:
    for _attempt in range(3):
        alert_id = _aggregate(conn, s, now, actor)
        if alert_id is None:
            alert_id = _open(conn, s, now, cat, params, actor)
        if alert_id is not None:
            return alert_id
    raise Conflict(f"alert for {s.indicator_id} is changing concurrently; retry")


def _aggregate(conn: sa.Connection, s: Signal, now: datetime, actor: str) -> int | None:
    """Count `s` into the indicator's live alert (probability and kind follow the most
    probable signal), in one statement; None when there is no live alert."""
    better = sa.literal(s.probability, sa.Float) > alerts.c.probability
    alert_id = conn.execute(
        alerts.update().where(alerts.c.indicator_id == s.indicator_id, LIVE)
        .values(signals=alerts.c.signals + 1, updated_at=now,
                probability=sa.case((better, s.probability), else_=alerts.c.probability),
                kind=sa.case((better, s.kind), else_=alerts.c.kind))
        .returning(alerts.c.id)).scalar_one_or_none()
    if alert_id is not None:
        _event(conn, alert_id, now, actor, "aggregated", note=f"{s.kind} p={s.probability:.3f}")
    return alert_id


def _open(conn: sa.Connection, s: Signal, now: datetime, cat: Catalog,
          params: EscalationParams, actor: str) -> int | None:
    """Open a new alert at the indicator's unit; None if a live one appeared meanwhile."""
    unit = cat.indicator_unit[s.indicator_id]
    insert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(alerts)
    alert_id = conn.execute(insert.values(
        indicator_id=s.indicator_id, origin_unit_id=unit, unit_id=unit, level=cat.level[unit],
        kind=s.kind, probability=s.probability, signal_start=s.start, signals=1,
        status="open", opened_at=now, deadline=now + params.response(cat.level[unit]),
        path=json.dumps([unit]), note="", updated_at=now)
        .on_conflict_do_nothing(index_elements=[alerts.c.indicator_id], index_where=LIVE)
        .returning(alerts.c.id)).scalar_one_or_none()
    if alert_id is not None:
        _event(conn, alert_id, now, actor, "raised", to_unit=unit,
               note=f"{s.kind} p={s.probability:.3f}")
    return None if alert_id is None else int(alert_id)


def escalate(store: Store, now: datetime,
             params: EscalationParams | None = None) -> list[dict[str, Any]]:
    """Move every open alert past its deadline up one level per missed deadline (see
    `escalation.climb`); returns the alerts that moved. Running it again at the same
    `now` changes nothing."""
    params = params or EscalationParams()
    cat = catalog(store)
    moved: list[int] = []
    with store.write() as conn:
        _begin_write(conn)
        due = conn.execute(sa.select(alerts).where(alerts.c.status == "open",
                                                   alerts.c.deadline <= now)).all()
        for a in due:
            steps = climb(a.unit_id, a.deadline, now, cat.parent.get,
                          lambda u: cat.level[u], params)
            if steps:
                _apply_steps(conn, a, steps, now, cat.level[steps[-1].to_unit])
                moved.append(int(a.id))
        return _fetch(conn, moved)


def _apply_steps(conn: sa.Connection, a: Any, steps: list[Any], now: datetime,
                 level: str) -> None:
    path = json.loads(a.path)
    for step in steps:
        path.append(step.to_unit)
        _event(conn, a.id, step.missed, SYSTEM, "escalated", step.from_unit, step.to_unit,
               f"no acknowledgement by {step.missed.isoformat()}", audit_at=now,
               payload={"deadline_missed": step.missed.isoformat(),
                        "new_deadline": step.deadline.isoformat()})
    last = steps[-1]
    conn.execute(alerts.update().where(alerts.c.id == a.id).values(
        unit_id=last.to_unit, level=level, deadline=last.deadline, path=json.dumps(path),
        updated_at=now))


def acknowledge(store: Store, alert_id: int, principal: Principal, note: str,
                now: datetime) -> dict[str, Any]:
    """The holder says what it is doing; the alert stops climbing."""
    if not isinstance(note, str) or not note.strip():
        raise InvalidInput("say what is being done: a note is required to acknowledge",
                           errors=[{"field": "note", "reason": "missing"}])
    return _act(store, alert_id, principal, note.strip(), now, "acknowledged", ("open",))


def resolve(store: Store, alert_id: int, principal: Principal, note: str,
            now: datetime) -> dict[str, Any]:
    """The trouble is over; the alert closes (a new signal then opens a new alert)."""
    text = note.strip() if isinstance(note, str) else ""
    return _act(store, alert_id, principal, text, now, "resolved", ("open", "acknowledged"))


def _act(store: Store, alert_id: int, who: Principal, note: str, now: datetime,
         status: str, allowed_from: tuple[str, ...]) -> dict[str, Any]:
    cat = catalog(store)
    verb = "acknowledge" if status == "acknowledged" else "resolve"
    with store.write() as conn:
        _begin_write(conn)
        row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first()
        if row is None:
            raise NotFound(f"no alert {alert_id}")
        require_act(who, row._mapping, cat, verb)
        if row.status not in allowed_from:
            raise Conflict(f"alert {alert_id} is {row.status}; cannot {verb} it")
        conn.execute(alerts.update().where(alerts.c.id == alert_id).values(
            status=status, note=note or row.note, deadline=None, updated_at=now))
        _event(conn, alert_id, now, f"{who.kind}:{who.id}", status, row.unit_id, None, note)
        return _fetch(conn, [alert_id])[0]


def _fetch(conn: sa.Connection, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = {r.id: alert_json(r) for r in conn.execute(sa.select(alerts)
                                                      .where(alerts.c.id.in_(ids)))}
    return [rows[i] for i in ids]


def get_alert(store: Store, alert_id: int, who: Principal) -> dict[str, Any]:
    with store.read() as conn:
        row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first()
    if row is None or not may_see(who, row._mapping, catalog(store)):
        raise NotFound(f"no alert {alert_id}")
    return alert_json(row)


def list_alerts(store: Store, who: Principal, status: str | None = None,
                unit: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Alerts `who` may see, most urgent first; `unit`: those that arose in its subtree."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, got {status!r}",
                           errors=[{"field": "status", "reason": "unknown status"}])
    cat = catalog(store)
    if unit is not None and unit not in cat.parent:
        raise NotFound(f"unknown unit {unit!r}")
    q = sa.select(alerts).order_by(alerts.c.deadline.is_(None), alerts.c.deadline,
                                   alerts.c.opened_at, alerts.c.id)
    if status:
        q = q.where(alerts.c.status == status)
    with store.read() as conn:
        rows = conn.execute(q).all()
    out = [alert_json(r) for r in rows if may_see(who, r._mapping, cat)
           and (unit is None or cat.covers({unit}, r.origin_unit_id))]
    return out[:limit]


def history(store: Store, alert_id: int, who: Principal) -> list[dict[str, Any]]:
    get_alert(store, alert_id, who)
    with store.read() as conn:
        rows = conn.execute(sa.select(alert_events).where(alert_events.c.alert_id == alert_id)
                            .order_by(alert_events.c.id)).all()
    return [event_json(r) for r in rows]


def event_json(r: Any) -> dict[str, Any]:
    return {"id": r.id, "alert_id": r.alert_id, "at": r.at.isoformat(), "actor": r.actor,
            "action": r.action, "from_unit": r.from_unit, "to_unit": r.to_unit,
            "note": r.note}


def events_after(store: Store, after: int, limit: int = 200) -> list[tuple[dict[str, Any],
                                                                           dict[str, Any]]]:
    """[(event, alert as it is now)] for events with id > `after`, oldest first."""
    with store.read() as conn:
        rows = conn.execute(sa.select(alert_events).where(alert_events.c.id > after)
                            .order_by(alert_events.c.id).limit(limit)).all()
        alerts_now = {a["id"]: a for a in _fetch(conn, sorted({r.alert_id for r in rows}))}
    return [(event_json(r), alerts_now[r.alert_id]) for r in rows]


def last_event_id(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(alert_events.c.id), 0)))
                   .scalar_one())
