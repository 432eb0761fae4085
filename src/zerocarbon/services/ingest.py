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
while an identical redelivery changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from zerocarbon.core.energy.intervals import Meter, parse_stamps, reading_problems
from zerocarbon.io.mqtt import LiveReading, PayloadError, RawReading, Subscriber, org_from_topic, parse_message
from zerocarbon.store import repos
from zerocarbon.store.tables import MeterRow, ReadingRow

FUTURE = timedelta(minutes=5)
STALE = timedelta(days=400)
SAME = 1e-9  # values closer than this are the same reading (as the lake judges re-imports)


@dataclass
class IngestStats:
    messages: int = 0
    readings: int = 0
    dead_letters: int = 0
    flagged: dict[str, int] = field(default_factory=dict)


def load_meters(session: Session, org_id: int, ids) -> dict[str, Meter]:
    """Registered meters of one organisation among ``ids``, as the core knows them."""
    rows = session.scalars(select(MeterRow).where(MeterRow.organisation_id == org_id,
                                                  MeterRow.id.in_(sorted(set(ids))))) if ids else []
    return {r.id: Meter(id=r.id, site=r.site, area=r.area or "", line=r.line or "", asset=r.asset or "",
                        medium=r.medium, unit=r.unit, multiplier=r.multiplier, register=r.register, stamp=r.stamp,
                        interval_min=r.interval_min, timezone=r.timezone, rollover=r.rollover) for r in rows}


def check_readings(raws: list[RawReading], meters: dict[str, Meter],
                   now: datetime | None = None) -> tuple[list[tuple[int, LiveReading]], list[tuple[int, str]]]:
    """Judge a batch of live readings by the file rules, ``meters`` being the registry of the organisation
    their topics name. Returns the accepted readings with their index in ``raws`` (interval start, UTC-aware,
    in the meter's unit, multiplier applied, flagged ``future``/``stale``) and the refusals as (index, reason)."""
    if not raws:
        return [], []
    now = now or datetime.now(timezone.utc)
    now = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now
    future, stale = now + FUTURE, now - STALE
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
    # Python objects converted once per batch, not per reading: this loop runs at the feed's rate.
    ts_list = stamps.ts.dt.to_pydatetime().tolist() if len(df) else []  # naive UTC
    values = value.tolist()
    out: list[tuple[int, LiveReading]] = []
    for i, r in enumerate(raws):
        if i in refused:
            continue
        m = meters[r.meter]
        if r.site != m.site:
            refused[i] = (f"topic: meter {m.id} is registered at site {m.site}, not {r.site}; a gateway publishes "
                          f"under its own site's topics")
        elif m.register != "interval":
            refused[i] = (f"meter: {m.id} is a cumulative register; the live feed takes interval energy (import "
                          f"register files with `zerocarbon meters import`)")
        elif r.interval_min is not None and r.interval_min != m.interval_min:
            refused[i] = (f"interval_min: {r.interval_min}-minute intervals, but meter {m.id} is registered with "
                          f"{m.interval_min}")
        else:
            ts = ts_list[i].replace(tzinfo=timezone.utc)
            if (r.stamp or m.stamp) == "end":
                ts -= timedelta(minutes=m.interval_min)
            flag = "future" if ts > future else ("stale" if ts < stale else "")
            out.append((i, LiveReading(m.id, ts, values[i] * m.multiplier, m.unit, flag)))
    return out, sorted(refused.items())


def _conflicts(session: Session, org_id: int, accepted: list[tuple[int, LiveReading]]) -> tuple[list[LiveReading], list]:
    """Split off readings whose (meter, interval) already holds a different value, in the table or earlier
    in this batch, as (index, reading, stored value); identical repeats are dropped (redelivery)."""
    if not accepted:
        return [], []
    readings = [r for _, r in accepted]
    stored: dict[tuple[str, datetime], float] = {}  # UTC-aware stamps on both sides
    # A second of margin: SQLite compares stamps as text, and rows written by the bulk insert lack the
    # microseconds SQLAlchemy adds to a bound stamp; the keys are then matched exactly in Python.
    lo, hi = min(r.ts for r in readings) - timedelta(seconds=1), max(r.ts for r in readings) + timedelta(seconds=1)
    for ids in _chunks(sorted({r.meter for r in readings}), 500):
        q = select(ReadingRow.meter, ReadingRow.ts, ReadingRow.value).where(
            ReadingRow.organisation_id == org_id, ReadingRow.meter.in_(ids), ReadingRow.ts >= lo, ReadingRow.ts <= hi)
        stored.update({(m, t): v for m, t, v in session.execute(q)})
    keep, clash = [], []
    for i, r in accepted:
        old = stored.get((r.meter, r.ts))
        if old is None:
            stored[(r.meter, r.ts)] = r.value
            keep.append(r)
        elif abs(old - r.value) > SAME:
            clash.append((i, r, old))
    return keep, clash


def _chunks(items: list, n: int):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def make_handler(sessions: sessionmaker, org: str, stats: IngestStats):
    """A batch handler storing organisation ``org``'s readings; a message on another organisation's topic is
    a dead letter (kept with that organisation when the database knows it)."""
    with sessions.begin() as s:
        orgs = repos.organisation_codes(s)
        org_id = repos.organisation_id(s, org)

    def handle(batch: list) -> None:
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
        with sessions.begin() as s:  # one transaction per batch; acks follow the commit
            meters = load_meters(s, org_id, {r.meter for r in raws})
            accepted, refused = check_readings(raws, meters)
            dead += [(org_id, topics[i], raws[i].payload(), why) for i, why in refused]
            rows, clash = _conflicts(s, org_id, accepted)
            dead += [(org_id, topics[i], raws[i].payload(),
                      f"value: {r.meter} at {r.ts:%Y-%m-%d %H:%M} UTC (interval start) already holds {old:g} "
                      f"{r.unit}; this reading says {r.value:g} {r.unit}; the stored value is kept")
                     for i, r, old in clash]
            repos.insert_readings(s, org_id, rows)
            repos.insert_dead_letters(s, dead)
        for r in rows:
            if r.flag:
                stats.flagged[r.flag] = stats.flagged.get(r.flag, 0) + 1
        stats.messages += len(batch)
        stats.readings += len(rows)
        stats.dead_letters += len(dead)
    return handle


def mqtt_subscriber(sessions: sessionmaker, org: str, host: str = "127.0.0.1", port: int = 1883,
                    topic: str | None = None,
                    client_id: str = "zerocarbon-ingest", stats: IngestStats | None = None,
                    username: str | None = None, password: str | None = None, tls: bool = False,
                    cafile: str | None = None, certfile: str | None = None,
                    keyfile: str | None = None) -> Subscriber:
    """A subscriber storing organisation ``org``'s readings, by default from its topics ``zc/<org>/#``."""
    stats = stats if stats is not None else IngestStats()
    topic = topic or f"zc/{org}/#"
    sub = Subscriber(host, port, topic, client_id, make_handler(sessions, org, stats), username=username,
                     password=password, tls=tls, cafile=cafile, certfile=certfile, keyfile=keyfile)
    sub.stats = stats
    return sub


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
