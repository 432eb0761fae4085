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
    except RecursionError:
        raise PayloadError("payload nests too deep to be a message of readings") from None
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
    """QoS 1, persistent session (MQTT 5, no session expiry), manual acknowledgement after the messages are stored.

    paho's network thread only appends ``(mid, qos, topic, payload)`` to a bounded queue; a dispatcher thread
    cuts the queue into batches (``max_batch`` messages or ``max_bytes`` of payload, or whatever arrived within
    ``flush_s``) and hands each to ``handle(batch)`` (in the dispatcher thread) or, when given,
    ``submit(batch)``, which returns a future (a worker process parses, checks and writes there). A batch's
    messages are acknowledged once its ``handle``/future has returned, i.e. after the commit, and batches are
    acknowledged in the order they arrived (MQTT wants PUBACKs in receipt order). A crash before the commit
    therefore means redelivery (at-least-once), which the idempotent store turns into exactly-once.

    Back-pressure: the client announces ``window`` as its MQTT 5 Receive Maximum, so the broker keeps at most
    about ``window`` unacknowledged messages out to this client (Mosquitto 2.0.11 was seen sending a few
    more); the rest waits in the broker's queue for this session. The local queue holds at most ``window``
    messages: a ``put`` beyond it blocks paho's network thread, which then stops reading the socket (TCP pushes
    back on the broker). Memory is therefore bounded by ``window`` plus the batches in hand (``max_pending``
    of ``max_batch`` messages / ``max_bytes``), however slow the store is.

    ``share``: join the shared subscription ``$share/<share>/<topic>``; the broker then gives each message of
    the topic to one member of the group, so several ingest processes (distinct client ids) split one feed.
    """

    def __init__(self, host: str, port: int, topic: str, client_id: str,
                 handle: Callable[[list], None] | None = None, flush_s: float = 0.2, max_batch: int = 5000,
                 username: str | None = None, password: str | None = None, tls: bool = False,
                 cafile: str | None = None, certfile: str | None = None, keyfile: str | None = None,
                 connect_timeout: float = 10.0, *, submit: Callable[[list], object] | None = None,
                 on_result: Callable[[object], None] | None = None, window: int = 10000,
                 max_bytes: int = 2_000_000, max_pending: int = 2, share: str | None = None,
                 start: Callable[[], None] | None = None, close: Callable[[], None] | None = None):
        import queue

        import paho.mqtt.client as mqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        if handle is None and submit is None:
            raise ValueError("give handle or submit")
        if not 1 <= window <= 65535:
            raise ValueError("window is an MQTT Receive Maximum: 1..65535")
        if share is not None and (not share or any(c in share for c in "/+#")):
            raise ValueError(f"shared subscription group '{share}' must be a name without '/', '+' or '#'")
        self.topic = f"$share/{share}/{topic}" if share else topic
        self.handle, self.submit, self.on_result = handle, submit, on_result
        self.start, self.close = start, close  # called once connected / when the run ends
        self.flush_s, self.max_batch, self.max_bytes, self.max_pending = flush_s, max_batch, max_bytes, max_pending
        self.window = window
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        self._props = Properties(PacketTypes.CONNECT)
        self._props.ReceiveMaximum = window
        self._props.SessionExpiryInterval = 0xFFFFFFFF  # the session (and its unacknowledged messages) never expires
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
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.host, self.port, self.tls, self.connect_timeout = host, port, bool(tls or cafile or certfile), connect_timeout
        self.queue: queue.Queue = queue.Queue(maxsize=window)
        self.max_queued = 0  # the deepest the local queue has been (the bound is ``window``)
        self.received = self.acked = 0
        self.max_unacked = 0  # the most messages held unacknowledged at once (the broker keeps it <= ``window``)
        self._stop = threading.Event()
        self.connected = threading.Event()
        self.ready = threading.Event()  # connected, and the workers (if any) are up
        self._answered = threading.Event()
        self.refused: str | None = None

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self.refused = f"the connection: {reason_code}"
            self._answered.set()
            client.disconnect()
            return
        # Connected is not yet listening: a reading published before the broker's SUBACK would not reach this
        # session, so ``connected`` waits for the subscription to be granted.
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        failed = [str(code) for code in reason_codes if code.is_failure]
        if failed:
            self.refused = f"the subscription to '{self.topic}': {', '.join(failed)}"
            self._answered.set()
            client.disconnect()
            return
        self.connected.set()
        self._answered.set()

    def _where(self) -> str:
        return f"the MQTT broker at {self.host}:{self.port}{' (TLS)' if self.tls else ''}"

    def _connect(self) -> None:
        """Connect and wait for the broker's answer; StorageError says what to check when it fails."""
        try:
            self.client.connect(self.host, self.port, keepalive=30, clean_start=False, properties=self._props)
        except OSError as exc:  # refused, unknown host, unreachable, TLS handshake: all socket errors
            hint = ("check the CA file (--cafile) and that the broker's certificate names this host"
                    if self.tls else "check that the broker is running (mosquitto -c deploy/mosquitto.conf), "
                    "the host and port (--host/--port), and that no firewall blocks the port")
            raise StorageError(f"cannot connect to {self._where()}: {exc.strerror or exc}; {hint}") from None
        self.client.loop_start()
        if not self._answered.wait(self.connect_timeout) or self.refused:
            self.client.loop_stop()
            if self.refused:
                raise StorageError(f"{self._where()} refused {self.refused}; check --username and "
                                   f"the password (--password or ZEROCARBON_MQTT_PASSWORD) and the broker's ACL")
            raise StorageError(f"{self._where()} did not answer within {self.connect_timeout:g} s; "
                               f"check the port (TLS listeners need --tls) and the broker's log")

    def _on_message(self, client, userdata, msg):
        # Only this on paho's network thread: parsing and writing here would stall the socket.
        if self._stop.is_set():
            # Stopping: store what is queued, take nothing new. Left unacknowledged, the broker sends it again
            # to the next session, so a stop under a backlog ends in seconds instead of draining the broker.
            return
        self.received += 1
        if msg.qos > 0:
            self.max_unacked = max(self.max_unacked, self.received - self.acked)
        self.queue.put((msg.mid, msg.qos, msg.topic, msg.payload))

    def _take(self, wait: float) -> list:
        """The next batch: up to max_batch messages / max_bytes, waiting at most ``wait`` s for the first."""
        import queue
        import time

        q = self.queue
        self.max_queued = max(self.max_queued, q.qsize())
        try:
            first = q.get(timeout=wait) if wait > 0 else q.get_nowait()
        except queue.Empty:
            return []
        batch, size = [first], len(first[3])
        deadline = time.monotonic() + self.flush_s
        while len(batch) < self.max_batch and size < self.max_bytes:
            try:
                item = q.get_nowait()
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    item = q.get(timeout=left)
                except queue.Empty:
                    break
            batch.append(item)
            size += len(item[3])
        return batch

    def _ack(self, batch: list) -> None:
        for mid, qos, _, _ in batch:
            self.acked += 1  # counted before the PUBACK leaves, so that max_unacked never overstates
            if qos > 0:
                self.client.ack(mid, qos)

    def _settle(self, pending, block: bool) -> None:
        """Acknowledge handed-off batches whose result is in, in the order they were handed off."""
        while pending and (block or pending[0][0].done()):
            future, batch = pending.popleft()
            result = future.result()  # a worker's failure ends the run here, before its messages are acked
            if self.on_result is not None:
                self.on_result(result)
            self._ack(batch)

    def _dispatch(self, batch: list, pending) -> None:
        if self.submit is None:
            self.handle(batch)
            self._ack(batch)
            return
        while len(pending) >= self.max_pending:
            pending[0][0].result()
            self._settle(pending, block=False)
        pending.append((self.submit(batch), batch))

    def run(self, seconds: float | None = None) -> None:
        """Consume until ``stop()`` (or for ``seconds``); stores and acknowledges what it holds before returning."""
        import collections
        import time

        t_end = None if seconds is None else time.monotonic() + seconds
        pending: collections.deque = collections.deque()
        try:
            self._connect()
            if self.start is not None:
                self.start()
            self.ready.set()
            while not self._stop.is_set() and (t_end is None or time.monotonic() < t_end):
                batch = self._take(self.flush_s if t_end is None else min(self.flush_s, max(0.0, t_end - time.monotonic())))
                if batch:
                    self._dispatch(batch, pending)
                self._settle(pending, block=False)
            while batch := self._take(0):
                self._dispatch(batch, pending)
            self._settle(pending, block=True)
        finally:
            # DISCONNECT goes out after the PUBACKs queued before it; then the network thread ends
            self.client.disconnect()
            self.client.loop_stop()
            if self.close is not None:
                self.close()

    def stop(self) -> None:
        self._stop.set()
