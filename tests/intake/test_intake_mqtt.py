"""The MQTT adapter against the real broker at 127.0.0.1:1883: same validation, and a
message sent twice (at least once) is stored once."""

from __future__ import annotations

import json
import socket
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa

from cybersyn.intake.mqtt import MqttAdapter, broker_address
from cybersyn.store import Store
from cybersyn.store.schema import observations

BROKER = "mqtt://127.0.0.1:1883"


def broker_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
        return True
    except OSError:
        return False


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
def test_mqtt_stored_once_and_validated(tmp_path, demo):
    if not broker_up():
        pytest.skip("MQTT tests skipped: no broker at 127.0.0.1:1883")
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
