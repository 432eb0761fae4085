"""Live ingest use case: MQTT messages -> readings table (idempotent) and dead letters."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import sessionmaker

from zerocarbon.io.mqtt import PayloadError, Subscriber, parse_message
from zerocarbon.store import repos


@dataclass
class IngestStats:
    messages: int = 0
    readings: int = 0
    dead_letters: int = 0
    flagged: dict[str, int] = field(default_factory=dict)


def make_handler(sessions: sessionmaker, stats: IngestStats):
    def handle(batch: list) -> None:
        rows, dead = [], []
        for _, _, topic, payload in batch:
            try:
                for r in parse_message(topic, payload):
                    rows.append(r)
                    if r.flag:
                        stats.flagged[r.flag] = stats.flagged.get(r.flag, 0) + 1
            except PayloadError as exc:
                dead.append((topic, payload, str(exc)))
        with sessions.begin() as s:  # one transaction per batch; acks follow the commit
            repos.insert_readings(s, rows)
            repos.insert_dead_letters(s, dead)
        stats.messages += len(batch)
        stats.readings += len(rows)
        stats.dead_letters += len(dead)
    return handle


def mqtt_subscriber(sessions: sessionmaker, host: str = "127.0.0.1", port: int = 1883, topic: str = "zc/#",
                    client_id: str = "zerocarbon-ingest", stats: IngestStats | None = None) -> Subscriber:
    stats = stats if stats is not None else IngestStats()
    sub = Subscriber(host, port, topic, client_id, make_handler(sessions, stats))
    sub.stats = stats
    return sub
