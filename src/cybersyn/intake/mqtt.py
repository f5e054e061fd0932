"""MQTT adapter: `<prefix>/<enterprise>/<indicator>` with payload {"time", "value"}.

QoS 1 with a persistent session (fixed client id, clean_session=False) and manual
acknowledgement: a message is PUBACKed only after the transaction holding it commits, so
the broker redelivers whatever the adapter had not stored when it died (at least once);
the unique (indicator, time) makes a redelivery change nothing (stored once). Messages are
gathered into micro-batches (up to `batch` messages or `linger_s` seconds) and go through
`ingest_batch` with the enterprise named by the topic as the principal; the broker's ACLs
must ensure that only that enterprise can publish under its topic. A bad message is logged,
counted and acknowledged (a poison message must not be redelivered forever).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import defaultdict
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cybersyn.auth import Principal
from cybersyn.errors import CybersynError
from cybersyn.intake.catalog import catalog
from cybersyn.intake.ingest import ingest_batch
from cybersyn.store import Store

log = logging.getLogger(__name__)
MAX_PAYLOAD = 64 * 1024


def broker_address(url: str) -> tuple[str, int]:
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname:
        raise ValueError(f"Expected a broker URL like mqtt://127.0.0.1:1883, got {url!r}.")
    return parsed.hostname, parsed.port or 1883


class MqttAdapter:
    """Subscribe, store, then acknowledge. `stats`: stored, duplicate, rejected counts;
    `rejections`: the last 100 (topic, reason)."""

    def __init__(self, store: Store, broker: str, *, prefix: str = "cybersyn",
                 client_id: str = "cybersyn-intake", batch: int = 1000,
                 linger_s: float = 0.05) -> None:
        self.store, self.prefix = store, prefix.rstrip("/")
        self.host, self.port = broker_address(broker)
        self.batch, self.linger_s = batch, linger_s
        self.stats = {"stored": 0, "duplicate": 0, "rejected": 0}
        self.rejections: list[tuple[str, str]] = []
        self._queue: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_a: self.subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self._queue.put(msg)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any,
                    _p: Any) -> None:
        if not reason.is_failure:
            client.subscribe(f"{self.prefix}/+/+", qos=1)

    def start(self) -> None:
        """Connect and process in background threads (see `stop`)."""
        self.client.connect(self.host, self.port, keepalive=30)
        self._worker = threading.Thread(target=self._work, daemon=True, name="mqtt-intake")
        self._worker.start()
        self.client.loop_start()

    def run_forever(self) -> None:
        self.start()
        while not self._stop.is_set():
            time.sleep(0.5)

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()

    def _work(self) -> None:
        while not self._stop.is_set():
            msgs = self._drain()
            try:
                self._process(msgs)
            except Exception:  # not acknowledged: the broker redelivers after a reconnect
                log.exception("storing %d MQTT messages failed", len(msgs))

    def _drain(self) -> list[mqtt.MQTTMessage]:
        try:
            msgs = [self._queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.linger_s
        while len(msgs) < self.batch and time.monotonic() < deadline:
            try:
                msgs.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return msgs

    def _process(self, msgs: list[mqtt.MQTTMessage]) -> None:
        groups: dict[str, list[tuple[mqtt.MQTTMessage, dict[str, Any]]]] = defaultdict(list)
        for msg in msgs:
            parsed = self._parse(msg)
            if parsed is not None:
                groups[parsed[0]].append((msg, parsed[1]))
        for enterprise, items in groups.items():
            self._store_group(enterprise, items)

    def _parse(self, msg: mqtt.MQTTMessage) -> tuple[str, dict[str, Any]] | None:
        parts = msg.topic.split("/")
        try:
            if len(parts) != 3 or f"{parts[0]}" != self.prefix:
                raise ValueError(f"topic must be {self.prefix}/<enterprise>/<indicator>")
            if len(msg.payload) > MAX_PAYLOAD:
                raise ValueError(f"payload exceeds {MAX_PAYLOAD} bytes")
            body = json.loads(msg.payload)
            if not isinstance(body, dict):
                raise ValueError('payload must be a JSON object {"time": ..., "value": ...}')
            if parts[1] not in catalog(self.store).parent:
                raise ValueError(f"unknown enterprise {parts[1]!r}")
        except (ValueError, RecursionError) as e:
            self._reject(msg, str(e))
            return None
        return parts[1], {"indicator": parts[2], "time": body.get("time"),
                          "value": body.get("value")}

    def _store_group(self, enterprise: str,
                     items: list[tuple[mqtt.MQTTMessage, dict[str, Any]]]) -> None:
        who = Principal(kind="enterprise", id=enterprise, units=frozenset({enterprise}))
        try:
            self._count(ingest_batch(self.store, who, [row for _m, row in items],
                                     source=f"mqtt:{enterprise}"[:64]))
        except CybersynError:
            for item in items:
                self._store_one(who, *item)
            return
        for msg, _row in items:
            self._ack(msg)

    def _store_one(self, who: Principal, msg: mqtt.MQTTMessage, row: dict[str, Any]) -> None:
        try:
            self._count(ingest_batch(self.store, who, [row], source=f"mqtt:{who.id}"[:64]))
        except CybersynError as e:
            self._reject(msg, e.detail)
            return
        self._ack(msg)

    def _count(self, result: Any) -> None:
        self.stats["stored"] += result.accepted
        self.stats["duplicate"] += result.duplicates

    def _reject(self, msg: mqtt.MQTTMessage, reason: str) -> None:
        log.warning("rejected %s: %s", msg.topic, reason)
        self.stats["rejected"] += 1
        self.rejections = [*self.rejections[-99:], (msg.topic, reason)]
        self._ack(msg)

    def _ack(self, msg: mqtt.MQTTMessage) -> None:
        if msg.qos > 0:
            self.client.ack(msg.mid, msg.qos)
