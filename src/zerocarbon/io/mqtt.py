"""MQTT live ingest: topic scheme, versioned JSON payloads, and a paho-mqtt subscriber.

Topic: ``zc/<site>/<area>/<line>/<meter>`` (``-`` for a level that does not apply).
Payload version 1 (UTF-8 JSON), one reading or a batch:

    {"v": 1, "unit": "kWh", "stamp": "start", "interval_min": 15,
     "ts": "2026-08-03T08:15:00+08:00", "value": 12.5}
    {"v": 1, "unit": "kWh", "readings": [{"ts": "...", "value": 1.0}, ...]}

Timestamps must carry a UTC offset; ``stamp`` says whether ``ts`` marks the interval's start (default) or
end; readings are stored by interval start in UTC. A reading more than 5 minutes in the future or more
than 400 days old is kept but flagged.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, NamedTuple

from zerocarbon.units import parse_unit

PAYLOAD_VERSION = 1
FUTURE = timedelta(minutes=5)
ZERO = timedelta(0)
STALE = timedelta(days=400)


class PayloadError(ValueError):
    """A message that cannot become readings; it goes to the dead-letter table with this reason."""


class LiveReading(NamedTuple):
    """A NamedTuple, not a dataclass: it is built once per reading on the ingest hot path."""

    meter: str
    ts: datetime  # interval start, UTC, naive
    value: float
    unit: str
    flag: str  # "" | future | stale


def meter_from_topic(topic: str) -> str:
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != "zc" or not all(parts[1:]):
        raise PayloadError(f"topic '{topic}' is not zc/<site>/<area>/<line>/<meter>")
    return parts[4]


def _timestamp(text, stamp: str, interval: int) -> datetime:
    try:
        ts = datetime.fromisoformat(str(text))
    except ValueError:
        raise PayloadError(f"'{text}' is not an ISO 8601 timestamp") from None
    if ts.tzinfo is None:
        raise PayloadError(f"timestamp '{text}' has no UTC offset; local time is ambiguous around DST changes")
    if ts.utcoffset() != ZERO:
        ts = ts.astimezone(timezone.utc)
    ts = ts.replace(tzinfo=None)
    return ts - timedelta(minutes=interval) if stamp == "end" else ts


def parse_message(topic: str, payload: bytes, now: datetime | None = None) -> list[LiveReading]:
    """Readings of one message, or PayloadError naming what is wrong."""
    meter = meter_from_topic(topic)
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"payload is not UTF-8 JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise PayloadError("payload must be a JSON object")
    if doc.get("v") != PAYLOAD_VERSION:
        raise PayloadError(f"unsupported payload version {doc.get('v')!r}; expected {PAYLOAD_VERSION}")
    unit = doc.get("unit")
    try:
        parse_unit(unit)
    except ValueError as exc:
        raise PayloadError(str(exc)) from None
    stamp = doc.get("stamp", "start")
    if stamp not in ("start", "end"):
        raise PayloadError(f"stamp must be 'start' or 'end', not {stamp!r}")
    interval = doc.get("interval_min", 15)
    if not isinstance(interval, int) or interval <= 0:
        raise PayloadError("interval_min must be a positive integer")
    items = doc["readings"] if "readings" in doc else [doc]
    if not isinstance(items, list) or not items:
        raise PayloadError("'readings' must be a non-empty list")
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    out = []
    for i, r in enumerate(items):
        where = f"readings[{i}]" if "readings" in doc else "reading"
        if not isinstance(r, dict) or "ts" not in r or "value" not in r:
            raise PayloadError(f"{where} needs 'ts' and 'value'")
        v = r["value"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            raise PayloadError(f"{where}: value {v!r} is not a number")
        ts = _timestamp(r["ts"], stamp, interval)
        flag = "future" if ts > now + FUTURE else ("stale" if ts < now - STALE else "")
        out.append(LiveReading(meter, ts, float(v), unit, flag))
    return out


class Subscriber:
    """QoS 1, persistent session, manual acknowledgement after the caller has stored a batch.

    ``handle(batch)`` receives ``[(mid, qos, topic, payload), ...]`` at most every ``flush_s`` seconds and
    must return only once the batch is durable; the messages are acknowledged afterwards, so a crash
    before storing means redelivery (at-least-once), which the idempotent store turns into exactly-once.
    """

    def __init__(self, host: str, port: int, topic: str, client_id: str,
                 handle: Callable[[list], None], flush_s: float = 0.2, max_batch: int = 5000):
        import paho.mqtt.client as mqtt

        self.topic, self.handle, self.flush_s, self.max_batch = topic, handle, flush_s, max_batch
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                  manual_ack=True)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.host, self.port = host, port
        self._buf: list = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.connected = threading.Event()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        client.subscribe(self.topic, qos=1)
        self.connected.set()

    def _on_message(self, client, userdata, msg):
        with self._lock:
            self._buf.append((msg.mid, msg.qos, msg.topic, msg.payload))

    def _flush(self) -> None:
        with self._lock:
            batch, self._buf = self._buf[: self.max_batch], self._buf[self.max_batch:]
        if batch:
            self.handle(batch)
            for mid, qos, _, _ in batch:
                if qos > 0:
                    self.client.ack(mid, qos)

    def run(self, seconds: float | None = None) -> None:
        """Consume until ``stop()`` (or for ``seconds``); flushes what it holds before returning."""
        import time

        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        t_end = None if seconds is None else time.monotonic() + seconds
        try:
            while not self._stop.is_set() and (t_end is None or time.monotonic() < t_end):
                time.sleep(self.flush_s)
                self._flush()
            self._flush()
        finally:
            self.client.loop_stop()
            self.client.disconnect()

    def stop(self) -> None:
        self._stop.set()
