"""Append-only audit trail storage: entries are chained by hash (core.audit) as they are written."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from zerocarbon.core.audit import GENESIS, Entry, entry_hash
from zerocarbon.store.tables import AuditRow

_PG_LOCK = 4_204_201  # advisory lock id: one writer extends the chain at a time


def append(session: Session, actor: str, action: str, entity: str, org_id: int | None = None, **detail) -> AuditRow:
    """Add one entry after the current last one, in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Two transactions appending at once would both link to the same last entry; the lock (released at
        # commit) makes the second wait. SQLite serialises writers itself.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    session.flush()
    last = session.execute(select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = datetime.now(timezone.utc)
    detail = _plain(detail)
    row = AuditRow(seq=seq, prev_hash=prev, organisation_id=org_id, at=at, actor=actor, action=action, entity=entity,
                   detail=detail, hash=entry_hash(prev, seq, at, actor, action, entity, org_id, detail))
    session.add(row)
    session.flush()
    return row


def _plain(detail: dict) -> dict:
    """The detail as JSON gives it back, so the hash computed now is the hash recomputed after a read."""
    import json

    return json.loads(json.dumps(detail, default=str, ensure_ascii=False))


def entries(session: Session, org_id: int | None = None, limit: int | None = None) -> list[Entry]:
    q = select(AuditRow).order_by(AuditRow.seq)
    if org_id is not None:
        q = q.where(AuditRow.organisation_id == org_id)
    if limit is not None:
        q = q.order_by(None).order_by(AuditRow.seq.desc()).limit(limit)
    rows = list(session.scalars(q))
    if limit is not None:
        rows.reverse()
    return [Entry(r.seq, r.at, r.actor, r.action, r.entity, r.organisation_id, r.detail, r.prev_hash, r.hash)
            for r in rows]
