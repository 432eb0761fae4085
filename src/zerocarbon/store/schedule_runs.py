"""Stored scheduler runs. Every query names the organisation: a run of another organisation is not found."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from zerocarbon.store.tables import ScheduleRunRow


def add(session: Session, row: ScheduleRunRow) -> ScheduleRunRow:
    session.add(row)
    session.flush()
    return row


def get(session: Session, org_id: int, run_id: int) -> ScheduleRunRow | None:
    return session.scalar(select(ScheduleRunRow).where(ScheduleRunRow.organisation_id == org_id,
                                                       ScheduleRunRow.id == run_id))


def page(session: Session, org_id: int, limit: int, offset: int) -> tuple[int, list[ScheduleRunRow]]:
    """The total number of runs of the organisation and one page of them, newest first, without their result
    (lists show the summary kept beside it; a result holds every segment of the week)."""
    where = ScheduleRunRow.organisation_id == org_id
    total = session.scalar(select(func.count()).select_from(ScheduleRunRow).where(where)) or 0
    rows = session.scalars(select(ScheduleRunRow).where(where).options(defer(ScheduleRunRow.result))
                           .order_by(ScheduleRunRow.id.desc()).limit(limit).offset(offset))
    return total, list(rows)
