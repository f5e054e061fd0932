"""The alerts API the Opsroom builds on: list, inject, acknowledge, resolve, history, SSE."""

from __future__ import annotations

import json

from cybersyn.intake.tokens import issue

IND = "CL.copper.e01.p1.output"
START = "1972-10-09T00:00:00Z"


def bearer(store, kind, subject):
    return {"Authorization": f"Bearer {issue(store, kind, subject).token}"}


def inject(client, headers, ind=IND, p=0.8):
    return client.post("/api/v1/alerts", headers=headers,
                       json={"indicator": ind, "kind": "step", "probability": p, "start": START})


def test_inject_list_act_history(client, demo_store):
    planner = bearer(demo_store, "planner", "odeplan")
    r = inject(client, planner)
    assert r.status_code == 201, r.text
    alert = r.json()
    assert set(alert) >= {"id", "indicator_id", "origin_unit_id", "unit_id", "level", "kind",
                          "probability", "status", "opened_at", "deadline", "path", "note",
                          "updated_at"}
    assert alert["unit_id"] == "CL.copper.e01.p1" and alert["status"] == "open"
    listed = client.get("/api/v1/alerts?status=open", headers=planner).json()
    assert [a["id"] for a in listed] == [alert["id"]]
    assert client.get("/api/v1/alerts?status=resolved", headers=planner).json() == []
    op = bearer(demo_store, "operator", "CL.copper.e01")
    r = client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=op, json={"note": ""})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    r = client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=op,
                    json={"note": "sending the spare crew"})
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    r = client.post(f"/api/v1/alerts/{alert['id']}/resolve", headers=op, json={"note": "ok"})
    assert r.json()["status"] == "resolved"
    hist = client.get(f"/api/v1/alerts/{alert['id']}/history", headers=op).json()
    assert [h["action"] for h in hist] == ["raised", "acknowledged", "resolved"]
    assert hist[1]["actor"] == "operator:CL.copper.e01"


def test_refusals(client, demo_store):
    assert client.get("/api/v1/alerts").status_code == 401
    assert inject(client, {}).status_code == 401
    enterprise = bearer(demo_store, "enterprise", "CL.copper.e01")
    assert inject(client, enterprise).status_code == 403
    coal_op = bearer(demo_store, "operator", "CL.coal")
    assert inject(client, coal_op).status_code == 403
    admin = bearer(demo_store, "admin", "root")
    aid = inject(client, admin).json()["id"]
    r = client.post(f"/api/v1/alerts/{aid}/acknowledge", headers=coal_op, json={"note": "x"})
    assert r.status_code == 403 and "may not" in r.json()["detail"]
    assert client.get(f"/api/v1/alerts/{aid}", headers=coal_op).status_code == 404
    assert client.get("/api/v1/alerts", headers=coal_op).json() == []
    bad = {"indicator": IND, "kind": "wobble", "probability": 2, "start": "soon"}
    r = client.post("/api/v1/alerts", headers=admin, json=bad)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"body.probability", "body.start"} <= fields
    r = client.post("/api/v1/alerts", headers=admin, json={**bad, "probability": 0.5,
                                                           "start": START})
    assert r.status_code == 422 and "kind" in r.json()["detail"]
    assert client.get("/api/v1/alerts?status=nope", headers=admin).status_code == 422
    assert client.post("/api/v1/alerts/999/resolve", headers=admin,
                       json={}).status_code == 404


def test_stream_sends_one_event_per_change(client, demo_store):
    admin = bearer(demo_store, "admin", "root")
    aid = inject(client, admin).json()["id"]
    client.post(f"/api/v1/alerts/{aid}/acknowledge", headers=admin, json={"note": "on it"})
    with client.stream("GET", "/api/v1/alerts/stream?max_events=2",
                       headers={**admin, "Last-Event-ID": "0"}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    events = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    assert [(e["id"], e["action"]) for e in events] == [(aid, "raised"),
                                                         (aid, "acknowledged")]
    assert "event: alert" in text and "id: 2" in text


def test_stream_token_in_query(client, demo_store):
    token = issue(demo_store, "planner", "p").token
    admin = bearer(demo_store, "admin", "root")
    inject(client, admin)
    with client.stream("GET", f"/api/v1/alerts/stream?max_events=1&token={token}",
                       headers={"Last-Event-ID": "0"}) as r:
        assert r.status_code == 200
        assert '"action": "raised"' in "".join(r.iter_text())
