"""Audit trail use cases: read it, and prove it was not edited, deleted from or inserted into."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import sessionmaker

from zerocarbon.core.audit import Entry, Finding, verify_chain
from zerocarbon.errors import InputError, Problem
from zerocarbon.store import audit as trail
from zerocarbon.store import repos


@dataclass(frozen=True)
class Verification:
    entries: int
    head_seq: int | None
    head_hash: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings


def parse_head(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` as printed by ``zerocarbon audit head``."""
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InputError([Problem("--head", None, None, f"'{text}' is not SEQ:HASH (e.g. 42:3f0c...; 64 hex digits)")])
    return int(seq), digest


def verify(sessions: sessionmaker, head: str | None = None) -> Verification:
    """Walk the whole chain (all organisations: it is one chain). ``head`` (SEQ:HASH) recorded earlier also
    detects entries deleted from the end."""
    expected = parse_head(head) if head else None
    with sessions.begin() as s:
        entries = trail.entries(s)
    findings = verify_chain(entries, expected)
    last = entries[-1] if entries else None
    return Verification(len(entries), last.seq if last else None, last.hash if last else None, findings)


def log(sessions: sessionmaker, org_code: str | None = None, limit: int = 50) -> list[Entry]:
    """The latest ``limit`` entries, oldest first; of one organisation when ``org_code`` is given."""
    with sessions.begin() as s:
        org_id = repos.load_organisation(s, org_code)[0] if org_code else None
        return trail.entries(s, org_id, limit)
