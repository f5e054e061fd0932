"""The alert lifecycle on both backends: raise, aggregate, escalate, act, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cybersyn.alerts import (
    acknowledge,
    escalate,
    history,
    list_alerts,
    raise_from_signals,
    resolve,
)
from cybersyn.auth import Principal
from cybersyn.errors import Conflict, Forbidden, InvalidInput, NotFound
from cybersyn.signals import Signal
from cybersyn.store import audit

T0 = datetime(1972, 10, 9, tzinfo=UTC)
IND = "CL.copper.e01.p1.output"
ADMIN = Principal("admin", "t")


def sig(ind=IND, p=0.9, kind="step"):
    return Signal(ind, kind, p, T0, T0, p)


def test_raise_and_aggregate(demo_store):
    (a,) = raise_from_signals(demo_store, [sig()], T0)
    assert (a["unit_id"], a["level"], a["status"], a["path"]) == (
        "CL.copper.e01.p1", "plant", "open", ["CL.copper.e01.p1"])
    assert a["deadline"] == (T0 + timedelta(days=1)).isoformat()
    (b,) = raise_from_signals(demo_store, [sig(p=0.95, kind="slope"), sig(p=0.5)], T0)
    assert b["id"] == a["id"] and b["signals"] == 3 and b["probability"] == 0.95
    assert len(list_alerts(demo_store, ADMIN)) == 1


def test_unknown_indicator_refused(demo_store):
    with pytest.raises(InvalidInput, match="unknown indicator"):
        raise_from_signals(demo_store, [sig(), sig("nope")], T0)
    assert list_alerts(demo_store, ADMIN) == []


def test_escalation_to_nation_idempotent_and_audited(demo_store):
    (a,) = raise_from_signals(demo_store, [sig()], T0)
    assert escalate(demo_store, T0 + timedelta(hours=23)) == []
    (moved,) = escalate(demo_store, T0 + timedelta(days=1))
    assert moved["unit_id"] == "CL.copper.e01" and moved["level"] == "enterprise"
    (moved,) = escalate(demo_store, T0 + timedelta(days=30))
    assert moved["path"] == ["CL.copper.e01.p1", "CL.copper.e01", "CL.copper", "CL"]
    assert escalate(demo_store, T0 + timedelta(days=30)) == []
    assert escalate(demo_store, T0 + timedelta(days=60)) == []  # the nation keeps it
    with demo_store.read() as conn:
        assert audit.verify(conn) == []
        esc = audit.entries(conn, subject=f"alert:{a['id']}", action="alert.escalated")
    assert [e.payload["to"] for e in esc] == ["CL.copper.e01", "CL.copper", "CL"]
    assert all(e.actor == "system:escalation" for e in esc)


def test_who_may_act(demo_store):
    (a,) = raise_from_signals(demo_store, [sig()], T0)
    other = Principal("operator", "o", frozenset({"CL.coal"}))
    enterprise = Principal("enterprise", "e", frozenset({"CL.copper.e01"}))
    council = Principal("member", "m", frozenset({"CL.copper.e01"}), frozenset({"worker_rep"}))
    for who in (other, enterprise):
        with pytest.raises(Forbidden):
            acknowledge(demo_store, a["id"], who, "fixing", T0)
    with pytest.raises(InvalidInput, match="note"):
        acknowledge(demo_store, a["id"], council, "  ", T0)
    done = acknowledge(demo_store, a["id"], council, "crew sent", T0 + timedelta(hours=2))
    assert done["status"] == "acknowledged" and done["note"] == "crew sent"
    assert escalate(demo_store, T0 + timedelta(days=10)) == []  # acknowledged: stays
    with pytest.raises(Conflict):
        acknowledge(demo_store, a["id"], council, "again", T0)
    assert resolve(demo_store, a["id"], council, "fixed", T0)["status"] == "resolved"
    with pytest.raises(NotFound):
        resolve(demo_store, 999, council, "x", T0)
    actions = [h["action"] for h in history(demo_store, a["id"], council)]
    assert actions == ["raised", "acknowledged", "resolved"]
    with demo_store.read() as conn:
        acts = [e.actor for e in audit.entries(conn, subject=f"alert:{a['id']}")]
    assert acts == ["system:monitor", "member:m", "member:m"]
    # a new signal after resolution opens a new alert
    (b,) = raise_from_signals(demo_store, [sig()], T0)
    assert b["id"] != a["id"]


def test_visibility(demo_store):
    raise_from_signals(demo_store, [sig(), sig("CL.coal.e01.p1.output")], T0)
    copper = Principal("member", "m", frozenset({"CL.copper"}))
    assert [a["indicator_id"] for a in list_alerts(demo_store, copper)] == [IND]
    assert len(list_alerts(demo_store, ADMIN)) == 2
    assert len(list_alerts(demo_store, ADMIN, unit="CL.coal")) == 1
    assert list_alerts(demo_store, ADMIN, status="resolved") == []
    with pytest.raises(InvalidInput):
        list_alerts(demo_store, ADMIN, status="bogus")
