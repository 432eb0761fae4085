"""Live ingest use case: MQTT messages -> readings table and dead letters.

A live reading obeys the rules of a file import, by the same functions
(``core.energy.intervals.reading_problems`` and ``parse_stamps``): a registered meter (the ``meters`` table,
written by ``zerocarbon meters import``), a finite non-negative number, a known unit of the meter's
dimension, a readable stamp. On top of that a live reading must carry a UTC offset, arrive on its meter's
organisation and site topic (the broker's ACL lets a gateway write only under its own organisation and site;
a meter is looked up only among the topic's organisation's meters, so one tenant's gateway cannot book energy
on another's meter of the same id) and be interval energy (a
cumulative register needs its previous reading, which a file gives and a message does not). The CT/PT
multiplier and the unit conversion are applied as for files. Each refused reading becomes one dead letter
with its reason; a second, different value for a stored (meter, interval) is refused with both values,
while an identical redelivery changes nothing. Different values for one interval within one batch are all
refused (a file holding them is refused as a whole), so no arrival order decides which is kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from zerocarbon.core.energy.intervals import Meter, grid_reason, off_grid, parse_stamps, reading_problems
from zerocarbon.io.mqtt import LiveReading, PayloadError, RawReading, Subscriber, org_from_topic, parse_message
from zerocarbon.store import repos
from zerocarbon.store.tables import MeterRow

FUTURE = timedelta(minutes=5)
STALE = timedelta(days=400)
SAME = 1e-9  # values closer than this are the same reading (as the lake judges re-imports)


@dataclass
class IngestStats:
    messages: int = 0
    readings: int = 0
    dead_letters: int = 0
    flagged: dict[str, int] = field(default_factory=dict)

    def add(self, other: "IngestStats") -> None:
        self.messages += other.messages
        self.readings += other.readings
        self.dead_letters += other.dead_letters
        for k, v in other.flagged.items():
            self.flagged[k] = self.flagged.get(k, 0) + v


def load_meters(session: Session, org_id: int, ids) -> dict[str, Meter]:
    """Registered meters of one organisation among ``ids``, as the core knows them."""
    rows = session.scalars(select(MeterRow).where(MeterRow.organisation_id == org_id,
                                                  MeterRow.id.in_(sorted(set(ids))))) if ids else []
    return {r.id: Meter(id=r.id, site=r.site, area=r.area or "", line=r.line or "", asset=r.asset or "",
                        medium=r.medium, unit=r.unit, multiplier=r.multiplier, register=r.register, stamp=r.stamp,
                        interval_min=r.interval_min, timezone=r.timezone, rollover=r.rollover) for r in rows}


class Judged(NamedTuple):
    """The accepted readings of a batch by column: position in the batch, meter, interval start (naive UTC,
    ``datetime64[ns]``), value in the meter's unit with the multiplier applied, unit, flag."""

    index: np.ndarray
    meter: np.ndarray
    ts: np.ndarray
    value: np.ndarray
    unit: np.ndarray
    flag: np.ndarray


def judge_readings(raws: list[RawReading], meters: dict[str, Meter],
                   now: datetime | None = None) -> tuple[Judged, dict[int, str]]:
    """The file rules applied to a batch of live readings (see ``check_readings``), the accepted ones by column
    (what the PostgreSQL COPY path writes) and the refusals as {index: reason}."""
    now = now or datetime.now(timezone.utc)
    now = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now
    now64 = np.datetime64(now.astimezone(timezone.utc).replace(tzinfo=None), "ns")
    future, stale = now64 + np.timedelta64(FUTURE), now64 - np.timedelta64(STALE)
    # built by column with plain objects: row tuples and Arrow strings cost more than the checks
    df = pd.DataFrame({"meter": [r.meter for r in raws], "value": [r.value for r in raws],
                       "unit": [r.unit for r in raws], "ts": [r.ts for r in raws]}, dtype=object)
    value, found = reading_problems(df, meters)
    refused: dict[int, str] = {}
    for i, col, why in found:
        refused.setdefault(int(i), f"{col}: {why}")
    stamps = parse_stamps(df["ts"])
    for i, why in stamps.problem[stamps.problem != ""].items():
        refused.setdefault(int(i), f"ts: {why}")
    for i in df.index[~stamps.exact & (stamps.problem == "")]:
        refused.setdefault(int(i), f"ts: '{df.at[i, 'ts']}' has no UTC offset; a live reading must carry one "
                                   f"(local time is ambiguous around clock changes)")
    # The readings of one message share meter, site, stamp and interval: the registration rules are judged once
    # per such key, and each reading only looks its key up (this loop runs at the feed's rate).
    keys: dict[tuple, int] = {}
    verdicts: list[tuple] = []  # per key: (reason or None, meter id, unit, multiplier, minutes to subtract)
    kept: list[int] = []
    codes: list[int] = []
    for i, r in enumerate(raws):
        if i in refused:
            continue
        key = (r.meter, r.site, r.stamp, r.interval_min)
        code = keys.get(key)
        if code is None:
            m = meters[r.meter]
            why = None
            if r.site != m.site:
                why = (f"topic: meter {m.id} is registered at site {m.site}, not {r.site}; a gateway publishes "
                       f"under its own site's topics")
            elif m.register != "interval":
                why = (f"meter: {m.id} is a cumulative register; the live feed takes interval energy (import "
                       f"register files with `zerocarbon meters import`)")
            elif r.interval_min is not None and r.interval_min != m.interval_min:
                why = (f"interval_min: {r.interval_min}-minute intervals, but meter {m.id} is registered with "
                       f"{m.interval_min}")
            code = keys[key] = len(verdicts)
            verdicts.append((why, m.id, m.unit, m.multiplier, m.interval_min if (r.stamp or m.stamp) == "end" else 0,
                             m.timezone, m.interval_min))
        why = verdicts[code][0]
        if why is not None:
            refused[i] = why
            continue
        kept.append(i)
        codes.append(code)
    idx = np.asarray(kept, dtype=np.int64)
    c = np.asarray(codes, dtype=np.int64)
    shift = np.array([v[4] for v in verdicts], dtype="timedelta64[m]")[c] if verdicts else np.array([], "timedelta64[m]")
    ts = stamps.ts.to_numpy(dtype="datetime64[ns]")[idx] - shift.astype("timedelta64[ns]")
    mult = np.array([v[3] for v in verdicts], dtype=float)[c] if verdicts else np.array([], float)
    vals = value.to_numpy(dtype=float)[idx] * mult
    meter_ids = np.array([v[1] for v in verdicts] or [""], dtype=object)[c]
    units = np.array([v[2] for v in verdicts] or [""], dtype=object)[c]
    if len(idx):  # the grid rule of files, on the interval starts
        zones, steps = {v[5] for v in verdicts}, {v[6] for v in verdicts}
        zone = np.array([v[5] for v in verdicts], dtype=object)[c]
        minutes = np.array([v[6] for v in verdicts], dtype=np.int64)[c]
        bad, local = off_grid(ts, zones.pop() if len(zones) == 1 else zone,
                              steps.pop() if len(steps) == 1 else minutes)
        if bad.any():
            for k in np.flatnonzero(bad):
                refused[int(idx[k])] = f"ts: {grid_reason(local[k], int(minutes[k]), zone[k])}"
            ok = ~bad
            idx, ts, vals, meter_ids, units = idx[ok], ts[ok], vals[ok], meter_ids[ok], units[ok]
    if len(idx) > 1:  # one interval with different values in one batch: none is stored, as a file is refused
        meter_code = pd.factorize(meter_ids)[0]
        order = np.lexsort((ts, meter_code))
        mo, to, vo = meter_code[order], ts[order], vals[order]
        same = (mo[1:] == mo[:-1]) & (to[1:] == to[:-1])
        if same.any():  # redeliveries are common; different values rare: only those groups are looked at
            starts = np.flatnonzero(np.r_[True, ~same])
            spread_ = np.maximum.reduceat(vo, starts) - np.minimum.reduceat(vo, starts)
            clash = np.zeros(len(idx), bool)
            ends = np.r_[starts[1:], len(order)]
            for a, b in zip(starts[spread_ > SAME], ends[spread_ > SAME]):
                ks = order[a:b]
                clash[ks] = True
                seen = ", ".join(f"{x:g}" for x in dict.fromkeys(vals[ks].tolist()))
                why = (f"value: {meter_ids[ks[0]]} at {pd.Timestamp(ts[ks[0]]):%Y-%m-%d %H:%M} UTC (interval start) "
                       f"appears with different values in one batch ({seen} {units[ks[0]]}); none of them is "
                       f"stored, as a file holding them is refused; resend the right one")
                for k in sorted(ks.tolist()):
                    refused[int(idx[k])] = why
            if clash.any():
                ok = ~clash
                idx, ts, vals, meter_ids, units = idx[ok], ts[ok], vals[ok], meter_ids[ok], units[ok]
    flag = np.where(ts > future, "future", np.where(ts < stale, "stale", "")).astype(object)
    return Judged(idx, meter_ids, ts, vals, units, flag), refused


def check_readings(raws: list[RawReading], meters: dict[str, Meter],
                   now: datetime | None = None) -> tuple[list[tuple[int, LiveReading]], list[tuple[int, str]]]:
    """Judge a batch of live readings by the file rules, ``meters`` being the registry of the organisation
    their topics name. Returns the accepted readings with their index in ``raws`` (interval start, UTC-aware,
    in the meter's unit, multiplier applied, flagged ``future``/``stale``) and the refusals as (index, reason)."""
    if not raws:
        return [], []
    j, refused = judge_readings(raws, meters, now)
    stamps = [t.replace(tzinfo=timezone.utc) for t in j.ts.astype("datetime64[us]").tolist()]
    out = [(i, LiveReading(m, t, v, u, f)) for i, m, t, v, u, f in
           zip(j.index.tolist(), j.meter.tolist(), stamps, j.value.tolist(), j.unit.tolist(), j.flag.tolist())]
    return out, sorted(refused.items())


def _clash_reason(meter: str, ts: datetime, unit: str, value: float, old: float) -> str:
    return (f"value: {meter} at {ts:%Y-%m-%d %H:%M} UTC (interval start) already holds {old:g} {unit}; this reading "
            f"says {value:g} {unit}; the stored value is kept")


def make_handler(sessions: sessionmaker, org: str, stats: IngestStats):
    """A batch handler storing organisation ``org``'s readings; a message on another organisation's topic is
    a dead letter (kept with that organisation when the database knows it).

    ``handle(batch)`` takes ``[(mid, qos, topic, payload), ...]``, stores it in one transaction and returns the
    batch's own IngestStats (also added to ``stats``). The readings go in by column (``repos.write_readings``:
    ``COPY`` through a staging table on PostgreSQL, one executemany on SQLite).
    """
    with sessions.begin() as s:
        orgs = repos.organisation_codes(s)
        org_id = repos.organisation_id(s, org)

    def handle(batch: list) -> IngestStats:
        raws: list[RawReading] = []
        topics: list[str] = []
        dead = []
        for _, _, topic, payload in batch:
            named = org_from_topic(topic)
            if named is not None and named != org:
                dead.append((orgs.get(named), topic, payload, f"topic: organisation {named}; this ingest stores "
                                                              f"organisation {org}'s readings (zc/{org}/...)"))
                continue
            try:
                got = parse_message(topic, payload)
            except PayloadError as exc:
                dead.append((org_id if named == org else None, topic, payload, exc.reason))
                continue
            raws += got
            topics += [topic] * len(got)
        flagged: dict[str, int] = {}
        new = 0
        with sessions.begin() as s:  # one transaction per batch; acks follow the commit
            meters = load_meters(s, org_id, {r.meter for r in raws})
            if raws:
                j, refused = judge_readings(raws, meters)
                dead += [(org_id, topics[i], raws[i].payload(), why) for i, why in sorted(refused.items())]
                new, clash = repos.write_readings(s, org_id, *j, same=SAME)
                if clash:
                    at = {i: k for k, i in enumerate(j.index.tolist())}
                    for i, old in clash:
                        k = at[i]
                        ts = j.ts[k].astype("datetime64[us]").item()
                        dead.append((org_id, topics[i], raws[i].payload(),
                                     _clash_reason(j.meter[k], ts, j.unit[k], float(j.value[k]), old)))
                # flags of the readings offered; exact unless the batch repeated stored readings
                for f in j.flag[j.flag != ""].tolist():
                    flagged[f] = flagged.get(f, 0) + 1
            repos.insert_dead_letters(s, dead)
        got = IngestStats(len(batch), new, len(dead), flagged)
        stats.add(got)
        return got
    return handle


# -- worker processes: parse, check and write off the process that holds the MQTT connection -------------------
_WORKER: dict = {}


def _database_of(sessions: sessionmaker) -> tuple[str, dict]:
    """What a fresh process needs to open the same database as ``sessions``: its URL and, on PostgreSQL, the
    schema search path in force (a deployment's, or a test's private schema)."""
    engine = sessions.kw["bind"]
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "postgresql":
        return url, {}
    with engine.connect() as c:
        path = c.exec_driver_sql("SHOW search_path").scalar()
    return url, {"options": "-csearch_path=" + path.replace("\\", "\\\\").replace(" ", "\\ ")}


def _worker_start(url: str, connect_args: dict, org: str) -> None:
    from sqlalchemy import create_engine

    from zerocarbon.store.db import make_engine, session_factory

    engine = create_engine(url, connect_args=connect_args) if connect_args else make_engine(url)
    _WORKER["handle"] = make_handler(session_factory(engine), org, IngestStats())


def _worker_handle(batch: list) -> IngestStats:
    return _WORKER["handle"]([(0, 1, topic, payload) for topic, payload in batch])


def _ready() -> bool:
    return True


class _Workers:
    """Worker processes, started once the broker has accepted the connection (a refused connection costs no
    process start-up)."""

    def __init__(self, sessions: sessionmaker, org: str, processes: int):
        url, connect_args = _database_of(sessions)
        if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") in ("sqlite:", "sqlite://")):
            raise ValueError("an in-memory SQLite database cannot be shared with worker processes; use processes=0")
        self.args, self.processes, self.pool = (url, connect_args, org), processes, None

    def start(self) -> None:
        if self.pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn, not fork: forking a process that runs threads (paho's, DuckDB's) can leave a lock held
            # forever in the child; each worker opens the database afresh
            self.pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_worker_start, initargs=self.args)
            for f in [self.pool.submit(_ready) for _ in range(self.processes)]:
                f.result(timeout=300)

    def submit(self, batch: list):
        self.start()
        return self.pool.submit(_worker_handle, [(t, p) for _, _, t, p in batch])

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None


def mqtt_subscriber(sessions: sessionmaker, org: str, host: str = "127.0.0.1", port: int = 1883,
                    topic: str | None = None,
                    client_id: str = "zerocarbon-ingest", stats: IngestStats | None = None,
                    username: str | None = None, password: str | None = None, tls: bool = False,
                    cafile: str | None = None, certfile: str | None = None,
                    keyfile: str | None = None, *, processes: int = 0, share: str | None = None,
                    window: int = 10000, flush_s: float = 0.2) -> Subscriber:
    """A subscriber storing organisation ``org``'s readings, by default from its topics ``zc/<org>/#``.

    ``processes`` worker processes parse, check and write the batches (0: a thread of this process does); the
    process holding the MQTT connection only receives and acknowledges. ``share`` joins the shared subscription
    group of that name, so that several subscribers (distinct ``client_id``) split the feed. ``window``: the
    most unacknowledged messages the broker may send (MQTT 5 Receive Maximum), which bounds memory.
    """
    stats = stats if stats is not None else IngestStats()
    topic = topic or f"zc/{org}/#"
    handle = make_handler(sessions, org, stats)  # also says early when the organisation is unknown
    extra: dict = {}
    if processes > 0:
        pool = _Workers(sessions, org, processes)
        extra = dict(submit=pool.submit, on_result=stats.add, max_pending=2 * processes, start=pool.start,
                     close=pool.close)
    sub = Subscriber(host, port, topic, client_id, handle, username=username, password=password, tls=tls,
                     cafile=cafile, certfile=certfile, keyfile=keyfile, window=window, share=share,
                     flush_s=flush_s, **extra)
    sub.stats = stats
    return sub


def dead_letters(sessions: sessionmaker, org: str | None, limit: int = 50) -> list[dict]:
    """The newest ``limit`` dead letters of organisation ``org`` (None: those whose topic names no organisation
    the database knows), newest first: topic, reason, received_at (UTC) and the payload as received."""
    with sessions.begin() as s:
        org_id = None if org is None else repos.organisation_id(s, org)
        return [{"topic": d.topic, "reason": d.reason, "received_at": d.received_at, "payload": d.payload}
                for d in repos.dead_letters(s, org_id, limit)]


@dataclass(frozen=True)
class LakeCopy:
    readings: int
    new: int
    already_stored: int


def live_to_lake(sessions: sessionmaker, root, org: str, since: datetime | None = None) -> LakeCopy:
    """Copy organisation ``org``'s live readings (all, or received since ``since`` [UTC; naive is taken as UTC])
    into its part of the interval-data lake, so that roll-ups,
    energy reports, baselines and the Scope 2 activity path see them like imported files.

    Idempotent: a reading the lake already holds is counted, not written again; a different value for a stored
    (meter, interval) is refused (InputError) and nothing is written. The readings' flag (future, stale) becomes
    the lake's quality column.
    """
    from pathlib import Path

    from zerocarbon.errors import InputError, Problem
    from zerocarbon.store import lake

    with sessions.begin() as s:
        live = repos.live_readings(s, repos.organisation_id(s, org), since)
    if live.empty:
        return LakeCopy(0, 0, 0)
    frame = live.rename(columns={"flag": "quality"}).assign(
        ts=pd.to_datetime(live["ts"], utc=True), batch=f"live-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}")
    try:
        counts = lake.write(Path(root), org, frame[lake.COLUMNS + ["site"]])
    except lake.LakeConflict as exc:
        raise InputError([Problem("live readings", None, exc.column, exc.reason)]) from None
    return LakeCopy(len(frame), counts["new"], counts["already_stored"])
