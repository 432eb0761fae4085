"""The audit trail as a hash chain: each entry's hash covers its content and the hash of the entry before it.

Editing an entry changes its hash; deleting or inserting one breaks the link of the next entry or the run of
sequence numbers. Only deleting entries from the end leaves a shorter but valid chain, which is why a verifier
can also be given the head (sequence number and hash) recorded earlier (``zerocarbon audit head``), e.g. in a
signed report or an e-mail to the auditor.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

GENESIS = "0" * 64


@dataclass(frozen=True)
class Entry:
    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    organisation_id: int | None
    detail: dict
    prev_hash: str
    hash: str


def entry_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, entity: str,
               organisation_id: int | None, detail: dict) -> str:
    """SHA-256 of the previous hash and the entry's canonical JSON (sorted keys, UTC time to the microsecond).

    The time is hashed as UTC wall time without an offset, the text entries written before instants became
    time-zone aware were hashed with, so their hashes still verify; a naive ``at`` is UTC."""
    utc = at.astimezone(timezone.utc) if at.tzinfo is not None else at
    body = json.dumps({"seq": seq, "at": utc.replace(tzinfo=None).isoformat(timespec="microseconds"), "actor": actor,
                       "action": action, "entity": entity, "organisation_id": organisation_id, "detail": detail},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Finding:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.problem}"


def verify_chain(entries: list[Entry], head: tuple[int, str] | None = None) -> list[Finding]:
    """Every break in the chain, in order; an empty list means the trail is intact (up to ``head`` if given)."""
    findings: list[Finding] = []
    prev_hash, expected_seq = GENESIS, 1
    by_seq: dict[int, Entry] = {}
    for e in entries:
        if e.seq != expected_seq:
            findings.append(Finding(e.seq, f"sequence jumps from {expected_seq - 1} to {e.seq}: "
                                           f"{'entries deleted' if e.seq > expected_seq else 'entry inserted'}"))
        if e.prev_hash != prev_hash:
            findings.append(Finding(e.seq, "does not link to the entry before it (an entry before it was deleted, "
                                           "inserted or edited)"))
        if entry_hash(e.prev_hash, e.seq, e.at, e.actor, e.action, e.entity, e.organisation_id, e.detail) != e.hash:
            findings.append(Finding(e.seq, "content does not match its hash (the entry was edited)"))
        prev_hash, expected_seq = e.hash, e.seq + 1
        by_seq[e.seq] = e
    if head is not None:
        seq, digest = head
        if seq not in by_seq:
            findings.append(Finding(seq, f"the recorded head {seq} is missing: the trail ends at {expected_seq - 1}"
                                         " (entries deleted from the end)"))
        elif by_seq[seq].hash != digest:
            findings.append(Finding(seq, "the recorded head's hash differs: the trail was rewritten"))
    return findings
