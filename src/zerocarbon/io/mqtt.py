"""MQTT live ingest: topic scheme, versioned JSON payloads, and a paho-mqtt subscriber.

Topic: ``zc/<organisation>/<site>/<area>/<line>/<meter>`` (``-`` for a level that does not apply): the
organisation and site codes say whose meter it is, since meter ids and site codes are unique only within an
organisation; the broker lets a gateway write only under its own organisation and site (deploy/mosquitto.acl).
Payload version 1 (UTF-8 JSON), one reading or a batch:

    {"v": 1, "unit": "kWh", "stamp": "start", "interval_min": 15,
     "ts": "2026-08-03T08:15:00+08:00", "value": 12.5}
    {"v": 1, "unit": "kWh", "readings": [{"ts": "...", "value": 1.0}, ...]}

Timestamps must carry a UTC offset; ``stamp`` says whether ``ts`` marks the interval's start or end and
``interval_min`` how long an interval is (both default to the meter's registration). This module only
reads the message's shape; whether a reading is acceptable is judged by the rules every file import obeys
(``services.ingest``).
"""
from __future__ import annotations

import json
import threading
from typing import Callable, NamedTuple

from zerocarbon.errors import MessageError, StorageError

PAYLOAD_VERSION = 1


class PayloadError(MessageError):
    """A message that cannot become readings; it goes to the dead-letter table with its ``reason``."""


class LiveReading(NamedTuple):
    """A NamedTuple, not a dataclass: it is built once per reading on the ingest hot path."""

    meter: str
    ts: object  # interval start, UTC-aware datetime
    value: float
    unit: str
    flag: str  # "" | future | stale


class RawReading(NamedTuple):
    """One reading of a message as sent, before any rule is applied."""

    org: str
    site: str
    meter: str
    ts: object  # text as sent
    value: object  # number as sent
    unit: object
    stamp: str | None  # None: the meter's registration
    interval_min: int | None

    def payload(self) -> str:
        """This reading alone, as a version-1 payload (what a dead letter keeps, ready to resend)."""
        doc = {"v": PAYLOAD_VERSION, "unit": self.unit, "ts": self.ts, "value": self.value}
        if self.stamp is not None:
            doc["stamp"] = self.stamp
        if self.interval_min is not None:
            doc["interval_min"] = self.interval_min
        return json.dumps(doc, ensure_ascii=False)


TOPIC = "zc/<organisation>/<site>/<area>/<line>/<meter>"


def parse_topic(topic: str) -> tuple[str, str, str]:
    """(organisation, site, meter) of a topic."""
    parts = topic.split("/")
    if len(parts) == 5 and parts[0] == "zc" and all(parts[1:]):
        raise PayloadError(f"topic '{topic}' names no organisation (the layout zc/<site>/<area>/<line>/<meter> "
                           f"of gateways set up before organisations); publish under {TOPIC}")
    if len(parts) != 6 or parts[0] != "zc" or not all(parts[1:]):
        raise PayloadError(f"topic '{topic}' is not {TOPIC}")
    return parts[1], parts[2], parts[5]


def org_from_topic(topic: str) -> str | None:
    """The organisation a topic names, or None when it names none (the topic is malformed)."""
    parts = topic.split("/")
    return parts[1] if len(parts) == 6 and parts[0] == "zc" and parts[1] else None


def meter_from_topic(topic: str) -> str:
    return parse_topic(topic)[2]


def parse_message(topic: str, payload: bytes) -> list[RawReading]:
    """The readings of one message as sent, or PayloadError naming what is wrong with its shape."""
    org, site, meter = parse_topic(topic)
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"payload is not UTF-8 JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise PayloadError("payload must be a JSON object")
    if doc.get("v") != PAYLOAD_VERSION:
        raise PayloadError(f"unsupported payload version {doc.get('v')!r}; expected {PAYLOAD_VERSION}")
    unit = doc.get("unit")
    if not isinstance(unit, str):
        raise PayloadError("'unit' is required (a unit text such as \"kWh\")")
    stamp = doc.get("stamp")
    if stamp not in (None, "start", "end"):
        raise PayloadError(f"stamp must be 'start' or 'end', not {stamp!r}")
    interval = doc.get("interval_min")
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, int) or interval <= 0):
        raise PayloadError("interval_min must be a positive integer")
    items = doc["readings"] if "readings" in doc else [doc]
    if not isinstance(items, list) or not items:
        raise PayloadError("'readings' must be a non-empty list")
    out = []
    for i, r in enumerate(items):
        where = f"readings[{i}]" if "readings" in doc else "reading"
        if not isinstance(r, dict) or "ts" not in r or "value" not in r:
            raise PayloadError(f"{where} needs 'ts' and 'value'")
        v = r["value"]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise PayloadError(f"{where}: value {v!r} is not a number")
        if not isinstance(r["ts"], str):
            raise PayloadError(f"{where}: ts {r['ts']!r} is not a timestamp text")
        out.append(RawReading(org, site, meter, r["ts"], v, unit, stamp, interval))
    return out


class Subscriber:
    """QoS 1, persistent session, manual acknowledgement after the caller has stored a batch.

    ``handle(batch)`` receives ``[(mid, qos, topic, payload), ...]`` at most every ``flush_s`` seconds and
    must return only once the batch is durable; the messages are acknowledged afterwards, so a crash
    before storing means redelivery (at-least-once), which the idempotent store turns into exactly-once.
    """

    def __init__(self, host: str, port: int, topic: str, client_id: str,
                 handle: Callable[[list], None], flush_s: float = 0.2, max_batch: int = 5000,
                 username: str | None = None, password: str | None = None, tls: bool = False,
                 cafile: str | None = None, certfile: str | None = None, keyfile: str | None = None,
                 connect_timeout: float = 10.0):
        import paho.mqtt.client as mqtt

        self.topic, self.handle, self.flush_s, self.max_batch = topic, handle, flush_s, max_batch
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                  manual_ack=True)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        if username is not None:
            self.client.username_pw_set(username, password)
        if tls or cafile or certfile:
            try:
                self.client.tls_set(ca_certs=cafile, certfile=certfile, keyfile=keyfile)
            except (OSError, ValueError) as exc:
                raise StorageError(f"cannot set up TLS for {host}:{port}: {exc}; check --cafile, --certfile "
                                   f"and --keyfile") from None
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.host, self.port, self.tls, self.connect_timeout = host, port, bool(tls or cafile or certfile), connect_timeout
        self._buf: list = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.connected = threading.Event()
        self._answered = threading.Event()
        self.refused: str | None = None

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self.refused = str(reason_code)
            self._answered.set()
            client.disconnect()
            return
        client.subscribe(self.topic, qos=1)
        self.connected.set()
        self._answered.set()

    def _where(self) -> str:
        return f"the MQTT broker at {self.host}:{self.port}{' (TLS)' if self.tls else ''}"

    def _connect(self) -> None:
        """Connect and wait for the broker's answer; StorageError says what to check when it fails."""
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:  # refused, unknown host, unreachable, TLS handshake: all socket errors
            hint = ("check the CA file (--cafile) and that the broker's certificate names this host"
                    if self.tls else "check that the broker is running (mosquitto -c deploy/mosquitto.conf), "
                    "the host and port (--host/--port), and that no firewall blocks the port")
            raise StorageError(f"cannot connect to {self._where()}: {exc.strerror or exc}; {hint}") from None
        self.client.loop_start()
        if not self._answered.wait(self.connect_timeout) or self.refused:
            self.client.loop_stop()
            if self.refused:
                raise StorageError(f"{self._where()} refused the connection: {self.refused}; check --username and "
                                   f"the password (--password or ZEROCARBON_MQTT_PASSWORD) and the broker's ACL")
            raise StorageError(f"{self._where()} did not answer within {self.connect_timeout:g} s; "
                               f"check the port (TLS listeners need --tls) and the broker's log")

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

        self._connect()
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
