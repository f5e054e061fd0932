"""The MQTT adapter against the real broker at 127.0.0.1:1883: same validation, and a
message sent twice (at least once) is stored once."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa

from cybersyn.intake.mqtt import MqttAdapter, broker_address
from cybersyn.store import Store
from cybersyn.store.schema import observations

BROKER = "mqtt://127.0.0.1:1883"
T_BASE = datetime(1960, 1, 1, tzinfo=UTC)


def broker_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
        return True
    except OSError:
        return False


needs_broker = pytest.mark.skipif(not broker_up(),
                                  reason="MQTT tests skipped: no broker at 127.0.0.1:1883")


def wait_for(cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_broker_address():
    assert broker_address("mqtt://h:1884") == ("h", 1884)
    assert broker_address("h") == ("h", 1883)
    with pytest.raises(ValueError, match="Expected a broker URL"):
        broker_address("http://h")


@pytest.mark.mqtt
@needs_broker
def test_mqtt_stored_once_and_validated(tmp_path, demo):
    store = Store(f"sqlite:///{tmp_path}/m.db")
    store.migrate()
    store.save_economy(demo)
    prefix = f"cybersyn-test-{uuid.uuid4().hex[:8]}"
    adapter = MqttAdapter(store, BROKER, prefix=prefix, client_id=f"t-{uuid.uuid4().hex[:8]}")
    adapter.start()
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    try:
        assert adapter.subscribed.wait(10)
        ent, ind = "CL.copper.e01", "CL.copper.e01.p1.output"
        good = json.dumps({"time": "1972-10-09T00:00:00Z", "value": 12.5})
        for _ in range(2):  # a redelivery
            pub.publish(f"{prefix}/{ent}/{ind}", good, qos=1).wait_for_publish(5)
        pub.publish(f"{prefix}/{ent}/CL.coal.e01.p1.output", good, qos=1)  # not its unit
        pub.publish(f"{prefix}/{ent}/{ind}", json.dumps({"time": "x", "value": 1}), qos=1)
        pub.publish(f"{prefix}/{ent}/{ind}", b"not json", qos=1).wait_for_publish(5)
        assert wait_for(lambda: adapter.stats["rejected"] == 3
                        and adapter.stats["stored"] + adapter.stats["duplicate"] == 2)
        with store.read() as conn:
            rows = conn.execute(sa.select(observations.c.indicator_id,
                                          observations.c.value)).all()
        assert [tuple(r) for r in rows] == [(ind, 12.5)]
        assert adapter.stats["stored"] == 1 and adapter.stats["duplicate"] == 1
        reasons = " ".join(r for _t, r in adapter.rejections)
        assert "outside its units" in reasons and "time" in reasons
    finally:
        pub.loop_stop()
        pub.disconnect()
        adapter.stop()
        store.close()


def publish_all(pub: mqtt.Client, topic: str, first: int, n: int) -> list[tuple[str, float]]:
    """Publish n readings of one indicator at QoS 1 (days first .. first+n-1 of 1960),
    waiting for the broker's PUBACK of each; returns their (time, value)."""
    sent = []
    for d in range(first, first + n):
        when = (T_BASE + timedelta(days=d)).isoformat()
        sent.append((when, float(d)))
        pub.publish(topic, json.dumps({"time": when, "value": float(d)}), qos=1
                    ).wait_for_publish(5)
    return sent


@pytest.mark.mqtt
@needs_broker
def test_mqtt_redelivery_after_adapter_killed(tmp_path, demo):
    """kill -9 the adapter while it holds messages it has received but not stored (the
    database is locked by the test, so its commit waits): nothing of them was
    acknowledged, so the broker keeps them for the persistent session, together with
    what is published while the adapter is dead; the restarted adapter (same client id)
    stores every message exactly once."""
    db = tmp_path / "k.db"
    store = Store(f"sqlite:///{db}")
    store.migrate()
    store.save_economy(demo)
    prefix, cid = f"cybersyn-kill-{uuid.uuid4().hex[:8]}", f"t-kill-{uuid.uuid4().hex[:8]}"
    topic = f"{prefix}/CL.copper.e01/CL.copper.e01.p1.output"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cybersyn", "intake", "mqtt", "--broker", BROKER, "--prefix",
         prefix, "--client-id", cid, "-d", store.url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    adapter = None
    try:
        sent: list[tuple[str, float]] = []
        for _ in range(120):  # a probe, resent until the adapter is up and has stored it
            sent = publish_all(pub, topic, 0, 1)
            if wait_for(lambda: count(store) == 1, 0.5):
                break
        assert count(store) == 1, "adapter did not start"
        lock = sqlite3.connect(db, timeout=30)
        lock.execute("BEGIN IMMEDIATE")  # the adapter's next commit waits
        sent += publish_all(pub, topic, 1, 15)
        time.sleep(1.0)  # let the adapter receive them
        proc.kill()
        proc.wait()
        lock.rollback()
        lock.close()
        assert count(store) == 1  # nothing of the 15 was stored, so none was acknowledged
        sent += publish_all(pub, topic, 16, 5)  # while no adapter runs
        adapter = MqttAdapter(store, BROKER, prefix=prefix, client_id=cid)
        adapter.start()
        assert wait_for(lambda: count(store) == 21, 30), count(store)
        time.sleep(0.5)  # any late redelivery would show up as a duplicate, not a new row
        with store.read() as conn:
            rows = conn.execute(sa.select(observations.c.observed_at, observations.c.value)
                                ).all()
        assert sorted((t.isoformat(), v) for t, v in rows) == sorted(
            (datetime.fromisoformat(w).isoformat(), v) for w, v in sent)
        assert adapter.stats["rejected"] == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        if adapter is not None:
            adapter.stop()
        pub.loop_stop()
        pub.disconnect()
        forget_session(cid)
        store.close()


def count(store: Store) -> int:
    with store.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(observations)).scalar_one()


def forget_session(client_id: str) -> None:
    """Drop the broker's persistent session of `client_id` (connect with a clean session)."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    c.connect("127.0.0.1", 1883)
    c.loop_start()
    time.sleep(0.2)
    c.disconnect()
    c.loop_stop()
