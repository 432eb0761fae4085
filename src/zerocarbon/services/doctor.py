"""Startup checks (`zerocarbon doctor`, GET /api/v1/doctor): what a deployment gets wrong, and the fix for each.

Each check gives a :class:`Finding` with a severity (``error``: data can be lost or anyone can get in;
``warning``: a risk to look at; ``ok``; ``skipped``: nothing to check it against), what was found, and the
exact fix (a configuration line or a command), in English and Chinese.

The judgements are pure functions of what the probes read (``*_finding`` / ``*_findings``); the probes that
touch the broker, the database, the file system or the kernel are small functions apart (``probe_*``,
``read_*``), so a test can feed a judgement any input and point a probe at a private broker or a fake
``/proc/mounts``. No finding carries a secret: URLs are shown with their password hidden, and a password is
only ever compared, never echoed.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Sequence

from zerocarbon import limits

ERROR, WARNING, OK, SKIPPED = "error", "warning", "ok", "skipped"
SEVERITIES = (ERROR, WARNING, OK, SKIPPED)

# Where the server finds its broker and the broker's configuration (used by the API endpoint and as the
# defaults of `zerocarbon doctor --broker/--broker-config`).
BROKER_ENV = "ZEROCARBON_MQTT_BROKER"
BROKER_CONFIG_ENV = "ZEROCARBON_MQTT_CONFIG"
MQTT_USER_ENV, MQTT_PASSWORD_ENV = "ZEROCARBON_MQTT_USERNAME", "ZEROCARBON_MQTT_PASSWORD"
PASSWORD_ENV = "ZEROCARBON_PASSWORD"

# Mosquitto's per-client queue when max_queued_messages is not set (mosquitto.conf(5)).
MOSQUITTO_DEFAULT_QUEUE = 1000
# Messages the active probe queues for its offline session: beyond the default queue and its in-flight window
# (max_inflight_messages, default 20), so a default broker must drop some.
PROBE_MESSAGES = 1200
PROBE_PUBLISHERS = 8
PROBE_TOPIC_ROOT = "zerocarbon-doctor"

# Clock skew limits [s]. A minute of skew moves a one-minute reading into the neighbouring interval.
SKEW_WARNING_S, SKEW_ERROR_S = 5.0, 60.0
# A lake or data folder with less free space than this is a warning [bytes].
MIN_FREE_BYTES = 1 << 30
MIN_FREE_FRACTION = 0.05
# An API token older than this should have been replaced [days].
TOKEN_ROTATION_DAYS = 365

# File systems whose locking SQLite cannot rely on (sqlite.org/useovernet.html): a database on them can be
# corrupted by two writers. fuse.* covers sshfs, s3fs, rclone, glusterfs mounted through FUSE.
NETWORK_FILESYSTEMS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "sshfs", "9p", "afs", "ceph", "glusterfs",
                                 "lustre", "ncpfs", "davfs", "gfs2", "ocfs2", "beegfs", "gpfs", "virtiofs"})

# Passwords well known enough that a scanner tries them first; a database or broker URL holding one is an error.
WELL_KNOWN_PASSWORDS = frozenset({"postgres", "password", "passw0rd", "admin", "root", "secret", "changeme",
                                  "change-me", "123456", "12345678", "zerocarbon", "mosquitto", "mqtt", "test",
                                  "guest", "default", "redis"})
# The example passphrase of docs/api.md: a server started with it left in the environment gives it to every
# user `zerocarbon users add` creates without a prompt.
DOCUMENTED_EXAMPLE_PASSWORDS = frozenset({"a passphrase of several words"})
DEMO_DOMAIN = "demo.zerocarbon"  # services.demo_users.DEMO_DOMAIN
DEMO_ORG = "DEMO-LAPTOP"  # services.demo_users.DEMO_ORG
INGEST_USER = "zerocarbon-ingest"  # the ingest service's broker user in deploy/mosquitto.acl


@dataclass(frozen=True)
class Finding:
    """One check's result. ``fix`` is what to type or write (empty when nothing is to be done)."""

    check: str  # stable id, e.g. "broker.queue"
    severity: str  # error | warning | ok | skipped
    title: str
    found: str
    fix: str = ""
    title_zh: str = ""
    found_zh: str = ""
    fix_zh: str = ""

    def text(self, lang: str = "en") -> tuple[str, str, str]:
        """(title, found, fix) in ``lang`` (zh or en); a Chinese text falls back to English where it has none."""
        if lang == "zh":
            return self.title_zh or self.title, self.found_zh or self.found, self.fix_zh or self.fix
        return self.title, self.found, self.fix

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def to_dict(self) -> dict:
        return {"ok": self.ok, "errors": self.errors, "warnings": self.warnings,
                "checks": [f.to_dict() for f in self.findings]}


def _f(check: str, severity: str, title: tuple[str, str], found: tuple[str, str], fix: tuple[str, str] = ("", "")
       ) -> Finding:
    return Finding(check, severity, title[0], found[0], fix[0], title[1], found[1], fix[1])


# ==== broker: address and credentials ======================================================================
@dataclass(frozen=True)
class Broker:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}{' (TLS)' if self.cafile else ''}"

    @property
    def loopback(self) -> bool:
        return self.host in ("localhost", "::1") or self.host.startswith("127.")


def parse_broker(text: str, username: str | None = None, password: str | None = None,
                 cafile: str | None = None) -> Broker:
    """``host``, ``host:port`` or ``[v6]:port`` → Broker; ValueError naming what is wrong."""
    text = text.strip()
    m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?|([^:\s]+)(?::(\d+))?", text)
    if not m:
        raise ValueError(f"broker '{text}' is not host or host:port")
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4) or (8883 if cafile else 1883))
    if not 1 <= port <= 65535:
        raise ValueError(f"broker port {port} is not 1..65535")
    return Broker(host, port, username or None, password, cafile)


# ==== broker: probes (network I/O) ==========================================================================
@dataclass(frozen=True)
class ConnectResult:
    accepted: bool | None  # None: no answer (unreachable, timed out)
    detail: str


def _client(broker: Broker, client_id: str, with_credentials: bool = True):
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if with_credentials and broker.username is not None:
        c.username_pw_set(broker.username, broker.password)
    if broker.cafile:
        c.tls_set(ca_certs=broker.cafile)
    return c


def _connect(client, broker: Broker, clean_start: bool, session_expiry_s: int, timeout: float) -> ConnectResult:
    """Connect, wait for CONNACK, leave the network loop running when accepted."""
    import threading

    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    answered, result = threading.Event(), {}

    def on_connect(_c, _u, _flags, reason_code, _props):
        result["code"] = reason_code
        answered.set()

    client.on_connect = on_connect
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = session_expiry_s
    try:
        client.connect(broker.host, broker.port, keepalive=30, clean_start=clean_start, properties=props)
    except OSError as exc:
        return ConnectResult(None, f"cannot connect to {broker.where}: {exc.strerror or exc}")
    client.loop_start()
    if not answered.wait(timeout):
        client.loop_stop()
        return ConnectResult(None, f"{broker.where} did not answer within {timeout:g} s")
    code = result["code"]
    if code.is_failure:
        client.loop_stop()
        return ConnectResult(False, str(code))
    return ConnectResult(True, str(code))


def _disconnect(client) -> None:
    try:
        client.disconnect()
    finally:
        client.loop_stop()


def probe_login(broker: Broker, username: str | None, password: str | None, timeout: float = 5.0) -> ConnectResult:
    """Does the broker accept this user name and password (None, None: no credentials at all)?"""
    probe = Broker(broker.host, broker.port, username, password, broker.cafile)
    client = _client(probe, f"{PROBE_TOPIC_ROOT}-login-{uuid.uuid4().hex[:12]}", with_credentials=username is not None)
    result = _connect(client, probe, clean_start=True, session_expiry_s=0, timeout=timeout)
    if result.accepted:
        _disconnect(client)
    return result


@dataclass(frozen=True)
class QueueProbe:
    sent: int
    received: int
    refused: str | None = None  # the probe could not run as designed: why
    unmatched: int = 0  # publishes the broker answered "no matching subscribers": the offline session was not kept


def probe_queue(broker: Broker, count: int = PROBE_MESSAGES, timeout: float = 30.0, quiet_s: float = 10.0,
                drain_s: float = 120.0) -> QueueProbe:
    """Queue ``count`` QoS 1 messages for an offline persistent session and count what the broker delivers
    when it comes back.

    The session subscribes (QoS 1) to a topic of its own under ``zerocarbon-doctor/``, outside the ``zc/`` tree
    the ingest service reads, disconnects keeping its session, PROBE_PUBLISHERS clients publish ``count`` messages at
    QoS 1 and waits for each PUBACK, then the session reconnects and receives until all arrived or nothing new
    came for ``quiet_s`` seconds. The session is discarded at the end (session expiry 0), whatever happened.
    """
    import threading

    run = uuid.uuid4().hex[:12]
    topic, sub_id = f"{PROBE_TOPIC_ROOT}/{run}", f"{PROBE_TOPIC_ROOT}-{run}"
    sub = _client(broker, sub_id)
    try:
        c = _connect(sub, broker, clean_start=True, session_expiry_s=600, timeout=timeout)
        if not c.accepted:
            return QueueProbe(0, 0, f"the broker refused the probe's subscriber: {c.detail}")
        granted, codes = threading.Event(), []
        sub.on_subscribe = lambda _c, _u, _mid, reason_codes, _p: (codes.extend(reason_codes), granted.set())
        sub.subscribe(topic, qos=1)
        if not granted.wait(timeout) or any(rc.is_failure for rc in codes) or not codes:
            _disconnect(sub)
            return QueueProbe(0, 0, f"the broker refused the subscription to '{topic}' "
                                    f"({', '.join(map(str, codes)) or 'no answer'})")
        _disconnect(sub)

        # Several connections: a broker that saves its state after every change (deploy/mosquitto.conf) saves once
        # per round of its event loop, so one connection would get one message through per save.
        pubs = []
        acks: list = []
        for k in range(PROBE_PUBLISHERS):
            pub = _client(broker, f"{sub_id}-pub{k}")
            c = _connect(pub, broker, clean_start=True, session_expiry_s=0, timeout=timeout)
            if not c.accepted:
                for p in pubs:
                    _disconnect(p)
                return QueueProbe(0, 0, f"the broker refused the probe's publisher: {c.detail}")
            pub.on_publish = lambda _c, _u, _mid, reason_code, _p: acks.append(reason_code)
            pubs.append(pub)
        infos = [pubs[i % len(pubs)].publish(topic, str(i).encode(), qos=1) for i in range(count)]
        deadline = time.monotonic() + timeout
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        for pub in pubs:
            _disconnect(pub)
        refused = [rc for rc in acks if rc.is_failure]
        if refused:
            return QueueProbe(count, 0, f"the broker refused {len(refused)} of the probe's publishes: {refused[0]}")
        if len(acks) < count:  # not queued by the broker yet: counting them as dropped would be a false alarm
            return QueueProbe(count, 0, f"the broker acknowledged only {len(acks)} of the probe's {count} publishes "
                                        f"within {timeout:g} s")
        unmatched = sum(1 for rc in acks if rc.value == 0x10)  # No matching subscribers

        seen: set[bytes] = set()
        last = [time.monotonic()]
        sub.on_message = lambda _c, _u, msg: (seen.add(msg.payload), last.__setitem__(0, time.monotonic()))
        sub.on_subscribe = None
        c = _connect(sub, broker, clean_start=False, session_expiry_s=0, timeout=timeout)
        if not c.accepted:
            return QueueProbe(count, 0, f"the broker refused the probe's subscriber on its return: {c.detail}")
        # A broker saving its state after every change (deploy/mosquitto.conf) hands a queue back one message per
        # save: about 30 a second on a busy 2-core machine, so the drain gets far longer than the connection.
        end = time.monotonic() + drain_s
        while len(seen) < count and time.monotonic() < end and time.monotonic() - last[0] < quiet_s:
            time.sleep(0.05)
        _disconnect(sub)
        return QueueProbe(count, len(seen), None, unmatched)
    finally:
        _discard_session(broker, sub_id)


def _discard_session(broker: Broker, client_id: str) -> None:
    """Connect as the probe's session with clean start and expiry 0: the broker forgets it and its queue."""
    try:
        c = _client(broker, client_id)
        if _connect(c, broker, clean_start=True, session_expiry_s=0, timeout=5.0).accepted:
            _disconnect(c)
    except Exception:  # noqa: BLE001 - clean-up of a probe never hides the probe's own result
        pass


# ==== broker: judgements ====================================================================================
QUEUE_FIX = ("in mosquitto.conf (as deploy/mosquitto.conf):\n  persistence true\n  max_queued_messages 0\n"
             "  max_queued_bytes 0\nthen restart mosquitto")
QUEUE_FIX_ZH = ("在 mosquitto.conf 中写入（同 deploy/mosquitto.conf）：\n  persistence true\n  max_queued_messages 0\n"
                "  max_queued_bytes 0\n然后重启 mosquitto")
ANON_FIX = ("in mosquitto.conf:\n  allow_anonymous false\n  password_file /etc/mosquitto/zerocarbon/passwd\n"
            "  acl_file /etc/mosquitto/zerocarbon.acl\nusers: deploy/mqtt-users.sh /etc/mosquitto/zerocarbon "
            "zerocarbon-ingest ORG/SITE (docs/ingest.md)")
ANON_FIX_ZH = ("在 mosquitto.conf 中写入 allow_anonymous false、password_file 与 acl_file（见 deploy/mosquitto.conf），"
               "用 deploy/mqtt-users.sh 创建用户（docs/ingest.md）")
_QUEUE_TITLE = ("Broker keeps every QoS 1 message for an offline session", "代理为离线会话保留全部 QoS 1 消息")
_ANON_TITLE = ("Broker refuses anonymous clients", "代理拒绝匿名客户端")


def queue_finding(broker: Broker, probe: QueueProbe) -> Finding:
    if probe.refused:
        return _f("broker.queue", WARNING, _QUEUE_TITLE,
                  (f"the queue probe could not run on {broker.where}: {probe.refused}",
                   f"无法在 {broker.where} 上运行队列探测：{probe.refused}"),
                  (f"give a broker user allowed to read and write {PROBE_TOPIC_ROOT}/# (--broker-user, "
                   f"--broker-password or ${MQTT_PASSWORD_ENV}); deploy/mosquitto.acl grants it to\n"
                   f"  user zerocarbon-doctor\n  topic readwrite {PROBE_TOPIC_ROOT}/#\n"
                   "create it with deploy/mqtt-users.sh /etc/mosquitto/zerocarbon zerocarbon-doctor",
                   f"提供可读写 {PROBE_TOPIC_ROOT}/# 的代理用户；deploy/mosquitto.acl 以 "
                   f"user zerocarbon-doctor 与 topic readwrite {PROBE_TOPIC_ROOT}/# 授权给它，"
                   "用 deploy/mqtt-users.sh /etc/mosquitto/zerocarbon zerocarbon-doctor 创建该用户"))
    if probe.unmatched:
        return _f("broker.queue", ERROR, _QUEUE_TITLE,
                  (f"{broker.where} kept no subscription for the offline session: {probe.unmatched} of "
                   f"{probe.sent} QoS 1 messages had no subscriber, {probe.received} arrived",
                   f"{broker.where} 未为离线会话保留订阅：{probe.sent} 条 QoS 1 消息中 {probe.unmatched} 条无订阅者，"
                   f"收到 {probe.received} 条"),
                  ("in mosquitto.conf: remove persistent_client_expiration or set it longer than any ingest "
                   "outage; " + QUEUE_FIX, "在 mosquitto.conf 中删除 persistent_client_expiration 或设得足够长；"
                   + QUEUE_FIX_ZH))
    if probe.received < probe.sent:
        lost = probe.sent - probe.received
        return _f("broker.queue", ERROR, _QUEUE_TITLE,
                  (f"{broker.where} dropped {lost} of {probe.sent} QoS 1 messages queued for an offline persistent "
                   f"session (delivered {probe.received}): readings sent while the ingest service is down are lost",
                   f"{broker.where} 为离线持久会话排队的 {probe.sent} 条 QoS 1 消息丢弃了 {lost} 条（送达 "
                   f"{probe.received} 条）：采集服务停机期间发送的读数会丢失"),
                  (QUEUE_FIX, QUEUE_FIX_ZH))
    return _f("broker.queue", OK, _QUEUE_TITLE,
              (f"{broker.where} delivered all {probe.sent} QoS 1 messages queued for an offline session",
               f"{broker.where} 送达了为离线会话排队的全部 {probe.sent} 条 QoS 1 消息"))


def anonymous_finding(broker: Broker, result: ConnectResult) -> Finding:
    if result.accepted is None:
        return _f("broker.anonymous", ERROR, _ANON_TITLE,
                  (f"the broker does not answer: {result.detail}", f"代理无应答：{result.detail}"),
                  ("start the broker (mosquitto -c /etc/mosquitto/conf.d/zerocarbon.conf) or correct --broker",
                   "启动代理（mosquitto -c /etc/mosquitto/conf.d/zerocarbon.conf）或更正 --broker"))
    if result.accepted:
        return _f("broker.anonymous", ERROR, _ANON_TITLE,
                  (f"{broker.where} accepted a client without user name or password: anyone who reaches the port "
                   "can publish readings and read every plant's data",
                   f"{broker.where} 接受了无用户名和密码的客户端：任何能连到该端口的人都能发布读数、读取所有工厂的数据"),
                  (ANON_FIX, ANON_FIX_ZH))
    return _f("broker.anonymous", OK, _ANON_TITLE,
              (f"{broker.where} refused a client without credentials ({result.detail})",
               f"{broker.where} 拒绝了无凭据的客户端（{result.detail}）"))


# ==== broker: static configuration ==========================================================================
@dataclass(frozen=True)
class ConfLine:
    key: str
    value: str
    where: str  # file:line


def read_broker_config(path: Path) -> list[ConfLine]:
    """The settings of a mosquitto.conf in order, with the files of its ``include_dir`` (``*.conf``, sorted, as
    Mosquitto reads them). Mosquitto allows comments only on lines of their own."""
    lines: list[ConfLine] = []
    for no, raw in enumerate(Path(path).read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        key, _, value = text.partition(" ")
        lines.append(ConfLine(key, value.strip(), f"{path}:{no}"))
        if key == "include_dir":
            folder = Path(value.strip())
            for sub in sorted(folder.glob("*.conf")) if folder.is_dir() else []:
                lines.extend(read_broker_config(sub))
    return lines


def _last(lines: Sequence[ConfLine], key: str) -> ConfLine | None:
    found = [x for x in lines if x.key == key]
    return found[-1] if found else None


_LOCAL_BIND = ("127.", "localhost", "::1")


AUTOSAVE_FIX = ("where losing nothing in a broker crash matters more than broker throughput, in mosquitto.conf:\n"
                "  autosave_on_changes true\n  autosave_interval 1\n"
                "then restart mosquitto (each change is then written to the persistence file, 26 to 34 times slower: "
                "docs/ingest.md, 'A broker crash')")
AUTOSAVE_FIX_ZH = ("若代理崩溃时不丢消息比代理吞吐量更重要，在 mosquitto.conf 中写入：\n  autosave_on_changes true\n  autosave_interval 1\n"
                   "然后重启 mosquitto（此后每次变更都写入持久化文件，慢 26 至 34 倍，见 docs/ingest.md）")


def _autosave_finding(lines: Sequence[ConfLine], source: str) -> Finding:
    """Mosquitto writes its in-memory state (sessions, subscriptions, queued messages) to the persistence file only
    at shutdown and at each autosave; a crash (SIGKILL, out of memory, power loss) forgets what came since, even
    the ingest's subscription, and a gateway's resent messages are then acknowledged and dropped."""
    title = ("Broker saves its state after every change", "代理每次变更后保存状态")
    on_changes = _last(lines, "autosave_on_changes")
    interval = _last(lines, "autosave_interval")
    by_changes = on_changes is not None and on_changes.value.lower() in ("true", "1", "yes")
    try:
        every = int(interval.value) if interval is not None else 1800  # Mosquitto's default
    except ValueError:
        every = None
    if by_changes and every == 1:
        return _f("broker.config.autosave", OK, title,
                  (f"{source}: autosave_on_changes true, autosave_interval 1",
                   f"{source}：autosave_on_changes true，autosave_interval 1"))
    lost = "a broker crash forgets persistent sessions and queued messages since the last save"
    lost_zh = "代理崩溃会丢失上次保存以来的持久会话和排队消息"
    where = f" ({interval.where})" if interval is not None else ""
    if every is None:
        found = (f"autosave_interval {interval.value}{where} is not a number; {lost}",
                 f"autosave_interval {interval.value}{where} 不是数字；{lost_zh}")
    elif every == 0:
        found = (f"autosave_interval 0{where}: the state is saved only at shutdown; {lost}",
                 f"autosave_interval 0{where}：仅在关闭时保存状态；{lost_zh}")
    elif by_changes:
        found = (f"autosave_on_changes true with autosave_interval {every}{where}: a save every {every} changes; {lost}",
                 f"autosave_on_changes true 且 autosave_interval {every}{where}：每 {every} 次变更保存一次；{lost_zh}")
    else:
        found = (f"{source}: the state is saved every {every} s (autosave_interval{where or ' default'}, "
                 f"autosave_on_changes not true); {lost}",
                 f"{source}：每 {every} 秒保存一次状态（autosave_on_changes 未开启）；{lost_zh}")
    return _f("broker.config.autosave", WARNING, title, found, (AUTOSAVE_FIX, AUTOSAVE_FIX_ZH))


def broker_config_findings(lines: Sequence[ConfLine], source: str) -> list[Finding]:
    """Judge a mosquitto.conf read by :func:`read_broker_config` (Mosquitto 2.x defaults apply to what is absent)."""
    out: list[Finding] = []
    title = ("Broker configuration keeps QoS 1 messages", "代理配置保留 QoS 1 消息")
    queue = _last(lines, "max_queued_messages")
    queue_bytes = _last(lines, "max_queued_bytes")
    problems, problems_zh = [], []
    if queue is None:
        problems.append(f"max_queued_messages is not set: Mosquitto keeps at most {MOSQUITTO_DEFAULT_QUEUE} "
                        "messages per offline client and drops the rest")
        problems_zh.append(f"未设置 max_queued_messages：Mosquitto 每个离线客户端最多保留 {MOSQUITTO_DEFAULT_QUEUE} 条，其余丢弃")
    elif queue.value.strip() != "0":
        problems.append(f"max_queued_messages {queue.value} ({queue.where}): messages beyond it are dropped")
        problems_zh.append(f"max_queued_messages {queue.value}（{queue.where}）：超出部分被丢弃")
    if queue_bytes is not None and queue_bytes.value.strip() != "0":
        problems.append(f"max_queued_bytes {queue_bytes.value} ({queue_bytes.where}): messages beyond it are dropped")
        problems_zh.append(f"max_queued_bytes {queue_bytes.value}（{queue_bytes.where}）：超出部分被丢弃")
    if problems:
        out.append(_f("broker.config.queue", ERROR, title, ("; ".join(problems), "；".join(problems_zh)),
                      (QUEUE_FIX, QUEUE_FIX_ZH)))
    else:
        out.append(_f("broker.config.queue", OK, title, (f"{source}: max_queued_messages 0, no byte limit",
                                                         f"{source}：max_queued_messages 0，无字节上限")))

    persistence = _last(lines, "persistence")
    title = ("Broker keeps sessions across a restart", "代理重启后保留会话")
    if persistence is None or persistence.value.lower() not in ("true", "1", "yes"):
        out.append(_f("broker.config.persistence", WARNING, title,
                      (f"{source}: persistence is off: a broker restart loses every queued message and persistent "
                       "session", f"{source}：未开启 persistence：代理重启会丢失所有排队消息和持久会话"),
                      ("in mosquitto.conf:\n  persistence true\n  persistence_location /var/lib/mosquitto/",
                       "在 mosquitto.conf 中写入 persistence true 与 persistence_location /var/lib/mosquitto/")))
    else:
        out.append(_f("broker.config.persistence", OK, title, (f"{source}: persistence true",
                                                               f"{source}：persistence true")))
        out.append(_autosave_finding(lines, source))

    title = ("Broker configuration refuses anonymous clients", "代理配置拒绝匿名客户端")
    anonymous = [x for x in lines if x.key == "allow_anonymous" and x.value.lower() == "true"]
    password_file = _last(lines, "password_file")
    if anonymous:
        out.append(_f("broker.config.anonymous", ERROR, title,
                      (f"allow_anonymous true ({', '.join(x.where for x in anonymous)})",
                       f"allow_anonymous true（{', '.join(x.where for x in anonymous)}）"), (ANON_FIX, ANON_FIX_ZH)))
    elif password_file is None and _last(lines, "plugin") is None and _last(lines, "auth_plugin") is None:
        out.append(_f("broker.config.anonymous", WARNING, title,
                      (f"{source}: no password_file: no client can log in, the ingest service included",
                       f"{source}：没有 password_file：任何客户端（包括采集服务）都无法登录"),
                      (ANON_FIX, ANON_FIX_ZH)))
    else:
        out.append(_f("broker.config.anonymous", OK, title,
                      (f"{source}: anonymous clients refused, passwords from {password_file.value if password_file else 'a plugin'}",
                       f"{source}：拒绝匿名客户端")))
    acl_title = ("Broker limits each client's topics", "代理限制每个客户端的主题")
    if _last(lines, "acl_file") is None and _last(lines, "plugin") is None:
        out.append(_f("broker.config.acl", WARNING, acl_title,
                      (f"{source}: no acl_file: every logged-in gateway may write any plant's readings",
                       f"{source}：没有 acl_file：任何已登录网关都能写入任何工厂的读数"),
                      ("in mosquitto.conf:\n  acl_file /etc/mosquitto/zerocarbon.acl   (deploy/mosquitto.acl)",
                       "在 mosquitto.conf 中写入 acl_file /etc/mosquitto/zerocarbon.acl（deploy/mosquitto.acl）")))
    else:
        out.append(_f("broker.config.acl", OK, acl_title, (f"{source}: topic rights from an ACL",
                                                           f"{source}：主题权限由 ACL 控制")))

    # A listener's TLS settings are the lines that follow it, up to the next listener.
    listeners: list[tuple[ConfLine, bool]] = []
    for x in lines:
        if x.key == "listener":
            listeners.append((x, False))
        elif x.key in ("certfile", "psk_hint") and listeners:
            listeners[-1] = (listeners[-1][0], True)
    plain_open = [x for x, tls in listeners
                  if not tls and not any(b.startswith(_LOCAL_BIND) for b in x.value.split()[1:2])]
    tls_title = ("Passwords cross the network encrypted", "密码经加密传输")
    if plain_open:
        out.append(_f("broker.config.tls", WARNING, tls_title,
                      (f"plain MQTT (no TLS) on every interface: {', '.join(x.key + ' ' + x.value + ' (' + x.where + ')' for x in plain_open)}",
                       f"所有网络接口上的明文 MQTT（无 TLS）：{', '.join(x.value for x in plain_open)}"),
                      ("bind plain MQTT to loopback (listener 1883 127.0.0.1) and give gateways TLS:\n"
                       "  listener 8883\n  certfile ...\n  keyfile ...   (deploy/mosquitto.conf)",
                       "明文 MQTT 只绑定本机（listener 1883 127.0.0.1），网关使用 TLS（listener 8883 与 certfile/keyfile，"
                       "见 deploy/mosquitto.conf）")))
    else:
        out.append(_f("broker.config.tls", OK, tls_title, (f"{source}: plain MQTT only on loopback, if at all",
                                                           f"{source}：明文 MQTT 仅限本机")))
    return out


# ==== file systems ===========================================================================================
@dataclass(frozen=True)
class Mount:
    device: str
    point: str
    fstype: str


def _unescape(field_: str) -> str:
    # /proc/mounts writes space, tab, newline and backslash in paths as octal escapes.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field_)


def read_mounts(path: str | Path = "/proc/mounts") -> list[Mount]:
    """The mount table (Linux); empty where there is none."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out.append(Mount(_unescape(parts[0]), _unescape(parts[1]), parts[2]))
    return out


def mount_of(path: Path, mounts: Iterable[Mount]) -> Mount | None:
    """The mount a path lives on: the longest mount point above it; of equal ones the last mounted."""
    target = str(path)
    best: Mount | None = None
    for m in mounts:
        point = m.point.rstrip("/") or "/"
        inside = target == point or point == "/" or target.startswith(point + "/")
        if inside and (best is None or len(point) >= len(best.point.rstrip("/") or "/")):
            best = m
    return best


def is_network_fs(fstype: str) -> bool:
    return fstype in NETWORK_FILESYSTEMS or fstype.startswith("fuse.") or fstype == "fuse"


def sqlite_mount_finding(db_file: Path, mounts: Sequence[Mount]) -> Finding:
    title = ("SQLite database on a local disk", "SQLite 数据库位于本地磁盘")
    existing = db_file if db_file.exists() else db_file.parent
    m = mount_of(existing.resolve(), mounts)
    if m is None:
        return _f("database.filesystem", SKIPPED, title, (f"no mount table to look {db_file} up in",
                                                          f"没有挂载表可查询 {db_file}"))
    if is_network_fs(m.fstype):
        return _f("database.filesystem", ERROR, title,
                  (f"{db_file} is on {m.fstype} ({m.device} at {m.point}): SQLite's file locks do not hold on a "
                   "network file system and two writers can corrupt the database",
                   f"{db_file} 位于网络文件系统 {m.fstype}（{m.device}，挂载于 {m.point}）：SQLite 的文件锁在网络文件系统上"
                   "不可靠，两个写入者可能损坏数据库"),
                  ("move the file to a local disk (--db sqlite:////var/lib/zerocarbon/zerocarbon.sqlite) or use "
                   "PostgreSQL (--db postgresql+psycopg://zerocarbon@dbhost/zerocarbon)",
                   "把数据库文件移到本地磁盘，或改用 PostgreSQL（--db postgresql+psycopg://zerocarbon@dbhost/zerocarbon）"))
    return _f("database.filesystem", OK, title, (f"{db_file} is on {m.fstype} ({m.point})",
                                                 f"{db_file} 位于 {m.fstype}（{m.point}）"))


@dataclass(frozen=True)
class FolderProbe:
    path: Path
    exists: bool
    writable: bool
    error: str | None = None  # why writing failed
    probed: Path | None = None  # the folder written to (the path, or its nearest existing parent)
    free_bytes: int | None = None
    total_bytes: int | None = None


def probe_folder(path: Path) -> FolderProbe:
    """Create, write, fsync, rename and delete a probe file in ``path`` (or, when it does not exist yet, in the
    nearest existing folder above it, where the first import would create it)."""
    path = Path(path).expanduser().absolute()
    exists = path.is_dir()
    where = path
    while not where.exists() and where != where.parent:
        where = where.parent
    if not where.is_dir():
        return FolderProbe(path, False, False, f"{where} is a file, so {path} cannot be created", where)
    try:
        usage = shutil.disk_usage(where)
        free, total = usage.free, usage.total
    except OSError:
        free = total = None
    name = where / f".zerocarbon-doctor-{uuid.uuid4().hex[:12]}"
    try:
        with open(f"{name}.tmp", "xb") as fh:
            fh.write(b"zerocarbon doctor probe\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(f"{name}.tmp", name)
        os.unlink(name)
    except OSError as exc:
        for leftover in (f"{name}.tmp", str(name)):
            try:
                os.unlink(leftover)
            except OSError:
                pass
        return FolderProbe(path, exists, False, f"{exc.strerror or exc} ({type(exc).__name__})", where, free, total)
    return FolderProbe(path, exists, True, None, where, free, total)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def folder_findings(check: str, what: tuple[str, str], probe: FolderProbe, setting: str,
                    min_free: int = MIN_FREE_BYTES, min_fraction: float = MIN_FREE_FRACTION) -> list[Finding]:
    """``what``: the folder's name in English and Chinese (e.g. "lake folder"); ``setting``: how it is set."""
    title = (f"{what[0].capitalize()} is writable", f"{what[1]}可写")
    p = probe.path
    if not probe.writable:
        out = [_f(f"{check}.writable", ERROR, title,
                  (f"cannot write in {probe.probed or p}: {probe.error}", f"无法写入 {probe.probed or p}：{probe.error}"),
                  (f"mkdir -p {p} && chown <service user> {p}   (or point {setting} at a writable local folder)",
                   f"mkdir -p {p} && chown <服务用户> {p}（或把 {setting} 指向可写的本地文件夹）"))]
    elif not probe.exists:
        out = [_f(f"{check}.writable", WARNING, title,
                  (f"{p} does not exist; {probe.probed} is writable, so the first write creates it",
                   f"{p} 不存在；{probe.probed} 可写，首次写入时会创建"),
                  (f"mkdir -p {p}   (or correct {setting} if it names the wrong folder)",
                   f"mkdir -p {p}（若 {setting} 指错了文件夹，请更正）"))]
    else:
        out = [_f(f"{check}.writable", OK, title, (f"{p}: created, renamed and deleted a probe file",
                                                  f"{p}：探测文件的创建、重命名和删除均成功"))]
    if probe.free_bytes is not None and probe.total_bytes:
        low = probe.free_bytes < min_free or probe.free_bytes < min_fraction * probe.total_bytes
        space = f"{_size(probe.free_bytes)} free of {_size(probe.total_bytes)}"
        space_zh = f"共 {_size(probe.total_bytes)}，剩余 {_size(probe.free_bytes)}"
        stitle = (f"{what[0].capitalize()} has free space", f"{what[1]}有剩余空间")
        if low:
            out.append(_f(f"{check}.space", WARNING, stitle,
                          (f"{probe.probed}: only {space} (below {_size(min_free)} or {min_fraction:.0%}); a full disk "
                           "stops imports and ingest", f"{probe.probed}：{space_zh}（低于 {_size(min_free)} 或 "
                           f"{min_fraction:.0%}）；磁盘写满会使导入和采集停止"),
                          (f"free space on that disk or move the folder to a larger one ({setting})",
                           f"清理该磁盘或把文件夹移到更大的磁盘（{setting}）")))
        else:
            out.append(_f(f"{check}.space", OK, stitle, (f"{probe.probed}: {space}", f"{probe.probed}：{space_zh}")))
    return out


# ==== database ===============================================================================================
@functools.lru_cache(maxsize=1)
def code_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """(heads, every revision) of the migrations shipped with this code (read once: the code does not change
    under a running process)."""
    from importlib import resources

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("zerocarbon.store") / "migrations"))
    script = ScriptDirectory.from_config(cfg)
    return frozenset(script.get_heads()), frozenset(r.revision for r in script.walk_revisions())


def database_revisions(engine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def migration_finding(db_revisions: set[str], heads: frozenset[str], known: frozenset[str], url_shown: str) -> Finding:
    title = ("Database schema matches this version", "数据库结构与本版本一致")
    upgrade = f"zerocarbon db upgrade --db '{url_shown}'"
    if db_revisions == heads:
        return _f("database.migrations", OK, title, (f"at revision {', '.join(sorted(heads))} (the code's head)",
                                                     f"位于修订 {', '.join(sorted(heads))}（代码的最新修订）"))
    if not db_revisions:
        return _f("database.migrations", ERROR, title,
                  ("the database has no zerocarbon schema (no Alembic revision)", "数据库没有 zerocarbon 结构（无 Alembic 修订）"),
                  (upgrade, upgrade))
    unknown = sorted(db_revisions - known)
    if unknown:
        return _f("database.migrations", ERROR, title,
                  (f"the database is at revision {', '.join(unknown)}, which this code does not know: the code is "
                   f"older than the database (its head is {', '.join(sorted(heads))})",
                   f"数据库位于本代码不认识的修订 {', '.join(unknown)}：代码比数据库旧（代码最新修订为 {', '.join(sorted(heads))}）"),
                  ("install the zerocarbon version that wrote this database (pip install -U zerocarbon) on every "
                   "server and worker; never run an older version against it",
                   "在所有服务器与工作进程上安装写入该数据库的 zerocarbon 版本（pip install -U zerocarbon）；不要用旧版本访问它"))
    return _f("database.migrations", ERROR, title,
              (f"the database is at revision {', '.join(sorted(db_revisions))}, behind the code's "
               f"{', '.join(sorted(heads))}: migrations are missing",
               f"数据库位于修订 {', '.join(sorted(db_revisions))}，落后于代码的 {', '.join(sorted(heads))}：缺少迁移"),
              (upgrade, upgrade))


@dataclass(frozen=True)
class ClockReading:
    skew_s: float  # the other clock minus this host's [s]
    uncertainty_s: float  # half the round trip [s]


def probe_database_clock(engine) -> ClockReading | None:
    """The database server's clock against this host's (PostgreSQL; None for SQLite, which reads this host's)."""
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        t0 = time.time()
        server = conn.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one()
        t1 = time.time()
    return ClockReading(float(server) - (t0 + t1) / 2, (t1 - t0) / 2)


def skew_finding(check: str, other: tuple[str, str], reading: ClockReading | None, fix: tuple[str, str],
                 warn_s: float = SKEW_WARNING_S, error_s: float = SKEW_ERROR_S) -> Finding:
    title = (f"Clock agrees with {other[0]}", f"时钟与{other[1]}一致")
    if reading is None:
        return _f(check, SKIPPED, title, (f"{other[0]} has no clock of its own to compare", f"{other[1]}没有独立时钟可比较"))
    # Only what the round trip cannot explain counts as skew.
    skew = max(0.0, abs(reading.skew_s) - reading.uncertainty_s)
    direction = "ahead of" if reading.skew_s > 0 else "behind"
    direction_zh = "快于" if reading.skew_s > 0 else "慢于"
    found = (f"{other[0]} is {abs(reading.skew_s):.1f} s {direction} this host (±{reading.uncertainty_s:.2f} s)",
             f"{other[1]}{direction_zh}本机 {abs(reading.skew_s):.1f} 秒（±{reading.uncertainty_s:.2f} 秒）")
    if skew > error_s:
        return _f(check, ERROR, title, found, fix)
    if skew > warn_s:
        return _f(check, WARNING, title, found, fix)
    return _f(check, OK, title, found)


NTP_FIX = ("enable NTP on this host and the other one compared: apt install chrony && systemctl enable --now chrony; check with "
           "`chronyc tracking`", "在本机和所比较的另一台主机上启用 NTP：apt install chrony && systemctl enable --now chrony；用 "
           "`chronyc tracking` 检查")
HOST_NTP_FIX = ("enable NTP on this host: apt install chrony && systemctl enable --now chrony; check with "
                "`chronyc tracking`", "在本机启用 NTP：apt install chrony && systemctl enable --now chrony；用 "
                "`chronyc tracking` 检查")


@dataclass(frozen=True)
class DeviceLead:
    organisation: str
    meter: str
    lead_s: float  # how far the reading's interval start lay after its arrival [s]
    ts: datetime


def probe_device_leads(session, limit: int = 2000) -> list[DeviceLead]:
    """Of the latest ``limit`` live readings, per meter the largest lead of the reading's own time stamp over
    the time the ingest service received it."""
    from sqlalchemy import select

    from zerocarbon.store.tables import OrganisationRow, ReadingRow

    rows = session.execute(select(OrganisationRow.code, ReadingRow.meter, ReadingRow.ts, ReadingRow.received_at)
                           .join(OrganisationRow, OrganisationRow.id == ReadingRow.organisation_id)
                           .order_by(ReadingRow.received_at.desc()).limit(limit)).all()
    best: dict[tuple[str, str], DeviceLead] = {}
    for org, meter, ts, received in rows:
        lead = (_utc(ts) - _utc(received)).total_seconds()
        key = (org, meter)
        if key not in best or lead > best[key].lead_s:
            best[key] = DeviceLead(org, meter, lead, _utc(ts))
    return sorted(best.values(), key=lambda d: -d.lead_s)


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def device_clock_finding(leads: Sequence[DeviceLead], warn_s: float = SKEW_WARNING_S,
                         error_s: float = SKEW_ERROR_S) -> Finding:
    title = ("Gateway clocks are not ahead", "网关时钟未超前")
    if not leads:
        return _f("clock.devices", SKIPPED, title, ("no live readings to compare", "没有实时读数可比较"))
    ahead = [d for d in leads if d.lead_s > warn_s]
    if not ahead:
        return _f("clock.devices", OK, title,
                  (f"no reading of the latest ones ({len(leads)} meters) starts after it arrived",
                   f"最近读数（{len(leads)} 个仪表）中没有开始时间晚于到达时间的"))
    worst = ahead[:3]
    names = ", ".join(f"{d.organisation}/{d.meter} +{d.lead_s:.0f} s" for d in worst)
    sev = ERROR if ahead[0].lead_s > error_s else WARNING
    return _f("clock.devices", sev, title,
              (f"{len(ahead)} meter(s) send readings stamped after the moment they arrived: {names}; their gateways' "
               "clocks run ahead of the ingest host", f"{len(ahead)} 个仪表的读数时间戳晚于到达时刻：{names}；其网关时钟快于采集主机"),
              ("enable NTP on those gateways (the PLC's or data logger's NTP server setting, or chrony) and on the "
               "ingest host", "在这些网关（PLC 或数据采集器的 NTP 设置，或 chrony）以及采集主机上启用 NTP"))


def broker_clock_finding(broker: Broker) -> Finding:
    title = ("Clock agrees with the broker", "时钟与代理一致")
    if broker.loopback:
        return _f("clock.broker", OK, title, (f"{broker.where} runs on this host: one clock",
                                              f"{broker.where} 运行在本机：同一时钟"))
    return _f("clock.broker", SKIPPED, title,
              (f"Mosquitto publishes no wall-clock time over MQTT ($SYS gives uptime only), so {broker.where}'s "
               "clock cannot be read from here; readings carry the gateways' time stamps, checked under clock.devices",
               f"Mosquitto 不通过 MQTT 提供时钟（$SYS 只有运行时长），无法从此处读取 {broker.where} 的时钟；读数带网关时间戳，"
               "见 clock.devices"),
              ("on the broker host: chronyc tracking (System time offset under 5 s)",
               "在代理主机上运行 chronyc tracking（System time 偏差应小于 5 秒）"))


def probe_kernel_clock_synchronised() -> bool | None:
    """The kernel's view (adjtimex): False when it reports the clock unsynchronised (TIME_ERROR), None where
    it cannot be asked."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        state = libc.adjtimex(ctypes.create_string_buffer(512))  # a zeroed struct timex: read, change nothing
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != 5  # TIME_ERROR


def kernel_clock_finding(synchronised: bool | None) -> Finding:
    title = ("This host's clock is synchronised", "本机时钟已同步")
    if synchronised is None:
        return _f("clock.host", SKIPPED, title, ("the kernel cannot be asked (not Linux)", "无法查询内核（非 Linux）"))
    if not synchronised:
        return _f("clock.host", WARNING, title,
                  ("the kernel reports this host's clock as not synchronised by NTP (adjtimex: TIME_ERROR)",
                   "内核报告本机时钟未经 NTP 同步（adjtimex：TIME_ERROR）"), HOST_NTP_FIX)
    return _f("clock.host", OK, title, ("the kernel reports the clock synchronised", "内核报告时钟已同步"))


# ==== default secrets ========================================================================================
@dataclass(frozen=True)
class AccountFacts:
    """What the database says about accounts, without any secret."""

    organisations: tuple[str, ...]
    active_demo_users: tuple[str, ...]
    old_tokens: tuple[tuple[str, str, datetime], ...]  # (organisation, name, created_at), active and old
    unused_tokens: tuple[tuple[str, str, datetime], ...]  # active, never used, older than 30 days


def probe_accounts(session, now: datetime | None = None) -> AccountFacts:
    from sqlalchemy import select

    from zerocarbon.store.tables import OrganisationRow
    from zerocarbon.store.users import ApiTokenRow, UserRow

    now = now or datetime.now(timezone.utc)
    orgs = tuple(session.scalars(select(OrganisationRow.code).order_by(OrganisationRow.code)))
    demo = tuple(session.scalars(select(UserRow.email).where(UserRow.email.like(f"%@{DEMO_DOMAIN}"),
                                                            UserRow.active.is_(True)).order_by(UserRow.email)))
    old, unused = [], []
    for org, name, created, used in session.execute(
            select(OrganisationRow.code, ApiTokenRow.name, ApiTokenRow.created_at, ApiTokenRow.last_used_at)
            .join(OrganisationRow, OrganisationRow.id == ApiTokenRow.organisation_id)
            .where(ApiTokenRow.revoked_at.is_(None)).order_by(OrganisationRow.code, ApiTokenRow.name)):
        age = now - _utc(created)
        if age > timedelta(days=TOKEN_ROTATION_DAYS):
            old.append((org, name, _utc(created)))
        elif used is None and age > timedelta(days=30):
            unused.append((org, name, _utc(created)))
    return AccountFacts(orgs, demo, tuple(old), tuple(unused))


def account_findings(facts: AccountFacts, db_shown: str) -> list[Finding]:
    out = []
    title = ("No demo login in a real database", "正式数据库中没有演示账户")
    real = [o for o in facts.organisations if o != DEMO_ORG]
    if facts.active_demo_users and real:
        cmds = "\n".join(f"zerocarbon users disable {e} --db '{db_shown}'" for e in facts.active_demo_users)
        out.append(_f("secrets.demo_users", ERROR, title,
                      (f"{len(facts.active_demo_users)} demo login(s) ({', '.join(facts.active_demo_users)}) are active "
                       f"in a database holding organisation(s) {', '.join(real)}: their passwords were printed on a "
                       "terminal by `zerocarbon demo`",
                       f"{len(facts.active_demo_users)} 个演示账户（{', '.join(facts.active_demo_users)}）在含有组织 "
                       f"{', '.join(real)} 的数据库中仍然有效：其密码曾由 `zerocarbon demo` 打印在终端上"),
                      (cmds, cmds)))
    elif facts.active_demo_users:
        out.append(_f("secrets.demo_users", OK, title, ("a demo database (only the demo organisation)",
                                                        "演示数据库（只有演示组织）")))
    else:
        out.append(_f("secrets.demo_users", OK, title, ("no active demo login", "没有有效的演示账户")))
    title = ("API tokens are rotated", "API 令牌定期更换")
    if facts.old_tokens:
        names = ", ".join(f"{o}/{n} (created {c:%Y-%m-%d})" for o, n, c in facts.old_tokens)
        cmd = "\n".join(f"zerocarbon users token create --org {o} --name {n}-new --scope ...   then give it to the "
                        f"client, then\nzerocarbon users token revoke --org {o} --name {n}" for o, n, _ in facts.old_tokens)
        out.append(_f("secrets.tokens", WARNING, title,
                      (f"{len(facts.old_tokens)} active token(s) older than {TOKEN_ROTATION_DAYS} days: {names}",
                       f"{len(facts.old_tokens)} 个有效令牌已超过 {TOKEN_ROTATION_DAYS} 天：{names}"), (cmd, cmd)))
    else:
        out.append(_f("secrets.tokens", OK, title, (f"no active token older than {TOKEN_ROTATION_DAYS} days",
                                                    f"没有超过 {TOKEN_ROTATION_DAYS} 天的有效令牌")))
    if facts.unused_tokens:
        names = ", ".join(f"{o}/{n}" for o, n, _ in facts.unused_tokens)
        cmd = "\n".join(f"zerocarbon users token revoke --org {o} --name {n}" for o, n, _ in facts.unused_tokens)
        out.append(_f("secrets.unused_tokens", WARNING, ("No forgotten API token", "没有被遗忘的 API 令牌"),
                      (f"active token(s) never used in the 30 days since they were made: {names}",
                       f"创建 30 天以来从未使用的有效令牌：{names}"), (cmd, cmd)))
    return out


def _url_password(url: str) -> tuple[str | None, str | None]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(url)
    except ArgumentError:
        return None, None
    return u.username, u.password


def limit_findings(env: dict[str, str]) -> list[Finding]:
    """The upload and row limits (zerocarbon.limits): a value that is not a positive whole number would make
    every upload or import fail, so `zerocarbon serve` refuses to start with it."""
    out = []
    for name, default in ((limits.MAX_UPLOAD_ENV, limits.DEFAULT_MAX_UPLOAD_MB), (limits.MAX_ROWS_ENV, limits.DEFAULT_MAX_ROWS)):
        text = env.get(name, "").strip()
        title = (f"${name} is usable", f"${name} 取值可用")
        ok = text.isdigit() and int(text) > 0
        if not text or ok:
            shown = text or f"not set (default {default:,})"
            out.append(_f(f"settings.{name.lower()}", OK, title, (f"${name}: {shown}", f"${name}：{text or f'未设置（默认 {default:,}）'}")))
        else:
            out.append(_f(f"settings.{name.lower()}", ERROR, title,
                          (f"${name}={text!r} is not a positive whole number: the server refuses to start and "
                           "every import refuses to run", f"${name}={text!r} 不是正整数：服务器拒绝启动，导入拒绝运行"),
                          (f"set {name} to a positive whole number, or unset it for the default {default:,}",
                           f"将 {name} 设为正整数，或取消设置以使用默认值 {default:,}")))
    return out


def engine_finding(env: dict[str, str]) -> Finding:
    """``$ZEROCARBON_ENGINE``: what runs the server's bulk calculations (docs/spark.md). A value that is no engine
    makes every energy read and inventory computation of the server fail."""
    from zerocarbon.core.bulk_sql import ENGINES

    name = "ZEROCARBON_ENGINE"
    text = env.get(name, "").strip()
    title = (f"${name} names an engine", f"${name} 指定的计算引擎可用")
    if not text or text in ENGINES:
        return _f("settings.zerocarbon_engine", OK, title,
                  (f"${name}: {text or 'not set (energy reads on duckdb, the inventory in process)'}",
                   f"${name}：{text or '未设置（能源查询用 duckdb，盘查在进程内计算）'}"))
    return _f("settings.zerocarbon_engine", ERROR, title,
              (f"${name}={text!r} is not an engine: every energy read and inventory computation of the server fails",
               f"${name}={text!r} 不是可用的引擎：服务器的能源查询和盘查计算都会失败"),
              (f"set {name} to {' or '.join(ENGINES)}, or unset it", f"将 {name} 设为 {' 或 '.join(ENGINES)}，或取消设置"))


def environment_findings(env: dict[str, str], broker_user: str | None, broker_password: str | None,
                         db_url: str, db_shown: str) -> list[Finding]:
    """Secrets the environment or the command line gives this process, compared against known values."""
    out = []
    given = env.get(PASSWORD_ENV, "")
    title = (f"${PASSWORD_ENV} is not left set", f"${PASSWORD_ENV} 未遗留在环境中")
    if given and given.strip().lower() in DOCUMENTED_EXAMPLE_PASSWORDS:
        out.append(_f("secrets.env_password", ERROR, title,
                      (f"${PASSWORD_ENV} holds the example passphrase of docs/api.md", f"${PASSWORD_ENV} 是 docs/api.md 中的示例口令"),
                      (f"unset {PASSWORD_ENV}; give each user their own: zerocarbon users password EMAIL",
                       f"unset {PASSWORD_ENV}；为每个用户单独设置：zerocarbon users password EMAIL")))
    elif given:
        out.append(_f("secrets.env_password", WARNING, title,
                      (f"${PASSWORD_ENV} is set in this environment: every `zerocarbon users add` run from it gets "
                       "that password without a prompt", f"本环境设置了 ${PASSWORD_ENV}：在此运行的每个 `zerocarbon users add` "
                       "都会不经提示使用该密码"),
                      (f"unset {PASSWORD_ENV} (set it only on the command that needs it)",
                       f"unset {PASSWORD_ENV}（只在需要的那条命令上设置）")))
    else:
        out.append(_f("secrets.env_password", OK, title, (f"${PASSWORD_ENV} is not set", f"未设置 ${PASSWORD_ENV}")))

    out.extend(limit_findings(env))
    out.append(engine_finding(env))

    title = ("Broker password is not a default", "代理密码不是默认值")
    if broker_password is not None:
        weak = (broker_password.strip().lower() in WELL_KNOWN_PASSWORDS or broker_password == broker_user
                or len(broker_password) < 16)
        if weak:
            out.append(_f("secrets.broker_password", ERROR, title,
                          (f"the broker password of {broker_user or '(no user)'} is well known, equals the user name or "
                           "has fewer than 16 characters (deploy/mqtt-users.sh draws 32 random ones)",
                           f"{broker_user or '（无用户）'} 的代理密码是常见密码、等于用户名或少于 16 个字符"
                           "（deploy/mqtt-users.sh 生成 32 个随机字符）"),
                          (f"deploy/mqtt-users.sh /etc/mosquitto/zerocarbon {broker_user or INGEST_USER}; reload "
                           f"mosquitto (kill -HUP <pid>); give the client the new .secret",
                           f"运行 deploy/mqtt-users.sh /etc/mosquitto/zerocarbon {broker_user or INGEST_USER}；"
                           "重载 mosquitto（kill -HUP <pid>）；把新的 .secret 交给客户端")))
        else:
            out.append(_f("secrets.broker_password", OK, title, ("the broker password is long and not a known one",
                                                                 "代理密码足够长且不是常见密码")))

    title = ("Database password is not a default", "数据库密码不是默认值")
    user, password = _url_password(db_url)
    if password is not None and (password.lower() in WELL_KNOWN_PASSWORDS or password == user):
        out.append(_f("secrets.database_password", ERROR, title,
                      (f"the password in the database URL {db_shown} is well known or equals the user name",
                       f"数据库 URL {db_shown} 中的密码是常见密码或等于用户名"),
                      (f"ALTER ROLE {user} PASSWORD '<new>'; (psql), then update ZEROCARBON_DB; or use peer/cert "
                       "authentication and no password in the URL",
                       f"在 psql 中执行 ALTER ROLE {user} PASSWORD '<新密码>'; 然后更新 ZEROCARBON_DB；或使用 peer/证书认证")))
    elif password is not None:
        out.append(_f("secrets.database_password", OK, title, ("the database password is not a known default",
                                                               "数据库密码不是常见默认值")))
    redis = env.get("ZEROCARBON_REDIS_URL", "")
    if redis:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(redis)
            rpass, ruser = parts.password, parts.username
        except ValueError:
            rpass = ruser = None
        if rpass is not None and (rpass.lower() in WELL_KNOWN_PASSWORDS or rpass == ruser):
            out.append(_f("secrets.redis_password", ERROR, ("Redis password is not a default", "Redis 密码不是默认值"),
                          ("the password in ZEROCARBON_REDIS_URL is well known", "ZEROCARBON_REDIS_URL 中的密码是常见密码"),
                          ("redis-cli CONFIG SET requirepass '<new>' (and in redis.conf), then update ZEROCARBON_REDIS_URL",
                           "redis-cli CONFIG SET requirepass '<新密码>'（并写入 redis.conf），然后更新 ZEROCARBON_REDIS_URL")))
    return out


def broker_default_login_finding(broker: Broker, result: ConnectResult | None) -> Finding:
    """``result``: the broker's answer to the ingest user logging in with its own name as password."""
    title = ("Broker refuses the ingest user with a guessable password", "代理拒绝以可猜测密码登录的采集用户")
    if result is None or result.accepted is None:
        return _f("secrets.broker_default_login", SKIPPED, title, ("the broker did not answer", "代理无应答"))
    if result.accepted:
        return _f("secrets.broker_default_login", ERROR, title,
                  (f"{broker.where} accepted user {INGEST_USER} with the password '{INGEST_USER}'",
                   f"{broker.where} 接受了以用户名为密码的 {INGEST_USER} 登录"),
                  (f"deploy/mqtt-users.sh /etc/mosquitto/zerocarbon {INGEST_USER}; reload mosquitto (kill -HUP <pid>)",
                   f"运行 deploy/mqtt-users.sh /etc/mosquitto/zerocarbon {INGEST_USER}；重载 mosquitto（kill -HUP <pid>）"))
    return _f("secrets.broker_default_login", OK, title,
              (f"{broker.where} refused {INGEST_USER} with its own name as password",
               f"{broker.where} 拒绝了以用户名为密码的 {INGEST_USER}"))


def secret_files_findings(folder: Path) -> list[Finding]:
    """deploy/mqtt-users.sh's folder: the plain .secret files and the hashed passwd must be the owner's alone."""
    title = ("Broker secret files are private", "代理密钥文件仅属主可读")
    if not folder.is_dir():
        return [_f("secrets.broker_files", SKIPPED, title, (f"{folder} is not a folder", f"{folder} 不是文件夹"))]
    exposed = sorted(str(p) for p in [*folder.rglob("*.secret"), folder / "passwd"]
                     if p.is_file() and p.stat().st_mode & 0o077)
    if exposed:
        cmd = "chmod 600 " + " ".join(f"'{p}'" for p in exposed)
        return [_f("secrets.broker_files", ERROR, title,
                   (f"readable by group or others: {', '.join(exposed)}", f"组用户或其他用户可读：{', '.join(exposed)}"),
                   (cmd, cmd))]
    return [_f("secrets.broker_files", OK, title, (f"{folder}: secret files are mode 600",
                                                    f"{folder}：密钥文件权限为 600"))]


# ==== the whole run ===========================================================================================
@dataclass
class Options:
    db: str | None = None  # None: $ZEROCARBON_DB or ./zerocarbon.sqlite
    broker: Broker | None = None
    broker_config: Path | None = None
    broker_secrets: Path | None = None  # the folder of deploy/mqtt-users.sh
    lake: Path | None = None
    data_dir: Path | None = None
    probe_queue: bool = False
    probe_messages: int = PROBE_MESSAGES
    mounts_file: Path = Path("/proc/mounts")
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    min_free_bytes: int = MIN_FREE_BYTES


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def database_findings(url: str, mounts_file: Path, engine=None) -> tuple[list[Finding], object | None]:
    """Where the database lives, its schema revision and its clock; returns the findings and an engine on it
    (None when it cannot be opened). Nothing is created or migrated."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from zerocarbon.store.db import make_engine

    shown = _shown(url)
    out: list[Finding] = []
    title = ("Database can be opened", "数据库可以打开")
    try:
        parsed = make_url(url)
    except ArgumentError:
        return [_f("database.open", ERROR, title, (f"'{shown}' is not a database URL", f"'{shown}' 不是数据库 URL"),
                   ("--db sqlite:////var/lib/zerocarbon/zerocarbon.sqlite or postgresql+psycopg://user@host/db",
                    "--db sqlite:////var/lib/zerocarbon/zerocarbon.sqlite 或 postgresql+psycopg://user@host/db"))], None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        file = Path(parsed.database).expanduser().absolute()
        out.append(sqlite_mount_finding(file, read_mounts(mounts_file)))
        if not file.is_file():
            out.append(_f("database.open", ERROR, title, (f"no database at {file}", f"{file} 处没有数据库"),
                          (f"zerocarbon db upgrade --db '{shown}' creates an empty one, or point --db / ZEROCARBON_DB "
                           "at the right file", f"zerocarbon db upgrade --db '{shown}' 可创建空数据库，或把 --db / "
                           "ZEROCARBON_DB 指向正确的文件")))
            return out, None
    created = engine is None
    if created:
        engine = make_engine(url)
    try:
        revisions = database_revisions(engine)
        clock = probe_database_clock(engine)
    except SQLAlchemyError as exc:
        if created:
            engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        out.append(_f("database.open", ERROR, title, (f"cannot open {shown}: {reason}", f"无法打开 {shown}：{reason}"),
                      ("check that the server runs and the URL's host, port, user and database",
                       "检查数据库服务是否运行，以及 URL 中的主机、端口、用户和数据库名")))
        return out, None
    heads, known = code_revisions()
    out.append(migration_finding(revisions, heads, known, shown))
    out.append(skew_finding("clock.database", ("the database server", "数据库服务器"), clock, NTP_FIX))
    if revisions != heads:
        if created:
            engine.dispose()
        return out, None
    return out, engine


def run(opts: Options, engine=None) -> Report:
    """Every check the options allow; a check whose target is not given is reported as skipped."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from zerocarbon.store.db import database_url

    url = database_url(opts.db) if opts.db or engine is None else str(engine.url.render_as_string(hide_password=False))
    shown = _shown(url)
    findings, current = database_findings(url, opts.mounts_file, engine)
    if current is not None:
        try:
            with Session(current) as s:
                findings.append(device_clock_finding(probe_device_leads(s)))
                findings.extend(account_findings(probe_accounts(s), shown))
        except SQLAlchemyError as exc:
            findings.append(_f("database.read", ERROR, ("Database can be read", "数据库可以读取"),
                               (f"{shown}: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}",
                                f"{shown}：{str(getattr(exc, 'orig', None) or exc).splitlines()[0]}"),
                               ("check the database user's rights (GRANT SELECT ON ALL TABLES ...)",
                                "检查数据库用户的权限")))
        finally:
            if engine is None:
                current.dispose()
    findings.append(kernel_clock_finding(probe_kernel_clock_synchronised()))

    b = opts.broker
    if b is None:
        findings.append(_f("broker", SKIPPED, ("Broker", "代理"),
                           (f"no broker given (--broker HOST:PORT or ${BROKER_ENV})",
                            f"未指定代理（--broker HOST:PORT 或 ${BROKER_ENV}）")))
    else:
        anon = probe_login(b, None, None)
        findings.append(anonymous_finding(b, anon))
        if anon.accepted is False:  # a broker open to anyone accepts any password too: nothing more to learn
            findings.append(broker_default_login_finding(b, probe_login(b, INGEST_USER, INGEST_USER)))
        if anon.accepted is not None:
            findings.append(broker_clock_finding(b))
            if opts.probe_queue:
                findings.append(queue_finding(b, probe_queue(b, opts.probe_messages)))
            else:
                findings.append(_f("broker.queue", SKIPPED, _QUEUE_TITLE,
                                   ("the active queue probe publishes a burst to the broker; it runs with --probe-queue",
                                    "主动队列探测会向代理发布一批消息；需加 --probe-queue 运行")))
    if opts.broker_config is not None:
        try:
            findings.extend(broker_config_findings(read_broker_config(opts.broker_config), str(opts.broker_config)))
        except OSError as exc:
            findings.append(_f("broker.config", ERROR, ("Broker configuration can be read", "代理配置可读取"),
                               (f"cannot read {opts.broker_config}: {exc.strerror or exc}",
                                f"无法读取 {opts.broker_config}：{exc.strerror or exc}"),
                               ("give --broker-config the file mosquitto runs with (mosquitto -c FILE)",
                                "为 --broker-config 指定 mosquitto 实际使用的配置文件")))
    if opts.broker_secrets is not None:
        findings.extend(secret_files_findings(opts.broker_secrets))
    findings.extend(environment_findings(opts.env, b.username if b else None, b.password if b else None, url, shown))

    if opts.lake is not None:
        findings.extend(folder_findings("lake", ("lake folder", "数据湖文件夹"), probe_folder(opts.lake),
                                        "--lake / ZEROCARBON_LAKE", opts.min_free_bytes))
    else:
        findings.append(_f("lake", SKIPPED, ("Lake folder", "数据湖文件夹"),
                           ("no lake given (--lake or $ZEROCARBON_LAKE)", "未指定数据湖（--lake 或 $ZEROCARBON_LAKE）")))
    if opts.data_dir is not None:
        findings.extend(folder_findings("data_dir", ("data folder", "数据文件夹"), probe_folder(opts.data_dir),
                                        "--data-dir / ZEROCARBON_DATA_DIR", opts.min_free_bytes))
    return Report(tuple(findings))


def server_options(env: dict[str, str] | None = None) -> Options:
    """What a running server checks: its database, $ZEROCARBON_LAKE, the jobs' data folder and, when
    $ZEROCARBON_MQTT_BROKER is set, the broker (never the active queue probe)."""
    from zerocarbon.services import jobs

    env = dict(os.environ) if env is None else env
    broker = None
    if env.get(BROKER_ENV, "").strip():
        try:
            broker = parse_broker(env[BROKER_ENV], env.get(MQTT_USER_ENV) or None, env.get(MQTT_PASSWORD_ENV) or None)
        except ValueError:
            broker = None
    lake = env.get("ZEROCARBON_LAKE", "").strip()
    conf = env.get(BROKER_CONFIG_ENV, "").strip()
    return Options(broker=broker, broker_config=Path(conf) if conf else None, lake=Path(lake) if lake else None,
                   data_dir=jobs.data_dir(), env=env)


def server_report(sessions) -> Report:
    """The server's own checks on the database it serves (GET /api/v1/doctor)."""
    engine = sessions.kw["bind"]
    return run(server_options(), engine=engine)


def is_admin_anywhere(sessions, principal) -> bool:
    """A person with the admin role in at least one organisation (tokens act for machines, never here)."""
    from zerocarbon.store import users as store

    if principal.kind != "user":
        return False
    with sessions() as s:
        return any(role == "admin" for _code, _name, role in store.memberships_of(s, principal.id))


__all__ = ["Broker", "ERROR", "Finding", "OK", "Options", "Report", "SKIPPED", "WARNING", "anonymous_finding",
           "broker_config_findings", "folder_findings", "is_admin_anywhere", "migration_finding", "mount_of",
           "parse_broker", "probe_folder", "probe_login", "probe_queue", "queue_finding", "read_broker_config",
           "read_mounts", "run", "server_report", "skew_finding"]
