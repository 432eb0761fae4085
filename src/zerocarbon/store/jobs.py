"""Queries of the jobs table. Every query of an organisation's jobs takes its id; only the runners' queries
(claim, heartbeat, finish, stale) work by job id across organisations, because a runner serves them all.

State changes are single UPDATE statements guarded by the state they leave, so two processes racing for the
same job (two server processes claiming it, a cancel meeting a finish) cannot both win.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from zerocarbon.errors import NotFoundError
from zerocarbon.store.tables import JobRow, OrganisationRow

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
FINISHED = (SUCCEEDED, FAILED, CANCELLED)


def add(session: Session, org_id: int, kind: str, params: dict, actor: str, at: datetime) -> JobRow:
    row = JobRow(organisation_id=org_id, kind=kind, params=params, status=QUEUED, progress_done=0,
                 progress_total=0, progress_message="", cancel_requested=False, created_by=actor, created_at=at)
    session.add(row)
    session.flush()
    return row


def get(session: Session, org_id: int, job_id: int) -> JobRow:
    row = session.scalar(select(JobRow).where(JobRow.id == job_id, JobRow.organisation_id == org_id))
    if row is None:
        raise NotFoundError(f"no job {job_id} in this organisation")
    return row


def listing(session: Session, org_id: int, *, restrict: bool = False, every: list[str] = (), own: list[str] = (),
            actor: str | None = None, unknown_besides: list[str] | None = None, kind: str | None = None,
            status: str | None = None, limit: int = 50, offset: int = 0) -> tuple[int, list[JobRow]]:
    """The total matching and one page of jobs, newest first.

    With ``restrict``, only jobs of the kinds in ``every``, the jobs of ``actor`` of the kinds in ``own``, and,
    when ``unknown_besides`` is given, jobs of every kind not in it.
    """
    where = [JobRow.organisation_id == org_id]
    if restrict:
        seen = [JobRow.kind.in_(list(every)), and_(JobRow.kind.in_(list(own)), JobRow.created_by == actor)]
        if unknown_besides is not None:
            seen.append(JobRow.kind.not_in(list(unknown_besides)))
        where.append(or_(*seen))
    if kind is not None:
        where.append(JobRow.kind == kind)
    if status is not None:
        where.append(JobRow.status == status)
    total = session.scalar(select(func.count()).select_from(JobRow).where(*where))
    rows = list(session.scalars(select(JobRow).where(*where).order_by(JobRow.id.desc()).limit(limit).offset(offset)))
    return int(total or 0), rows


def organisation_code(session: Session, org_id: int) -> str:
    return session.scalar(select(OrganisationRow.code).where(OrganisationRow.id == org_id))


def queued_ids(session: Session, limit: int = 100) -> list[int]:
    return list(session.scalars(select(JobRow.id).where(JobRow.status == QUEUED).order_by(JobRow.id).limit(limit)))


def claim(session: Session, job_id: int, runner: str, at: datetime) -> bool:
    """Mark a queued job running for ``runner``; False when another runner got it first or it was cancelled."""
    done = session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == QUEUED)
                           .values(status=RUNNING, runner=runner, started_at=at, heartbeat_at=at)
                           .execution_options(synchronize_session=False))
    return done.rowcount == 1


def by_id(session: Session, job_id: int) -> JobRow | None:
    return session.get(JobRow, job_id)


def progress(session: Session, job_id: int, done: int, total: int, message: str, at: datetime) -> bool:
    """Write the progress of a running job; returns whether cancelling it was requested."""
    session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == RUNNING)
                    .values(progress_done=done, progress_total=total, progress_message=message[:512],
                            heartbeat_at=at).execution_options(synchronize_session=False))
    return cancel_flag(session, job_id)


def cancel_flag(session: Session, job_id: int) -> bool:
    return bool(session.scalar(select(JobRow.cancel_requested).where(JobRow.id == job_id)))


def heartbeat(session: Session, job_ids: list[int], at: datetime) -> None:
    if job_ids:
        session.execute(update(JobRow).where(JobRow.id.in_(job_ids), JobRow.status == RUNNING)
                        .values(heartbeat_at=at).execution_options(synchronize_session=False))


def finish(session: Session, job_id: int, status: str, at: datetime, result: dict | None = None,
           error: list | None = None, progress: tuple[int, int, str] | None = None) -> bool:
    """Record how a running job ended and its last ``progress`` (done, total, message); False when it was no
    longer running (e.g. declared dead meanwhile)."""
    values = dict(status=status, finished_at=at, result=result, error=error)
    if progress is not None:
        values.update(progress_done=progress[0], progress_total=progress[1], progress_message=progress[2])
    done = session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == RUNNING).values(**values)
                           .execution_options(synchronize_session=False))
    return done.rowcount == 1


def cancel_queued(session: Session, job_id: int, actor: str, at: datetime) -> bool:
    """A job nobody has started ends cancelled at once."""
    done = session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == QUEUED)
                           .values(status=CANCELLED, cancel_requested=True, cancel_requested_by=actor,
                                   finished_at=at).execution_options(synchronize_session=False))
    return done.rowcount == 1


def request_cancel(session: Session, job_id: int, actor: str) -> bool:
    """Ask the runner of a running job to stop; it ends cancelled at its next progress report."""
    done = session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == RUNNING)
                           .values(cancel_requested=True, cancel_requested_by=actor)
                           .execution_options(synchronize_session=False))
    return done.rowcount == 1


def running(session: Session) -> list[JobRow]:
    return list(session.scalars(select(JobRow).where(JobRow.status == RUNNING)))


def fail_running(session: Session, job_id: int, runner: str | None, at: datetime, error: list) -> bool:
    """Mark a job failed if it is still running under ``runner`` (unchanged since it was found stale)."""
    done = session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == RUNNING,
                                                JobRow.runner == runner)
                           .values(status=FAILED, finished_at=at, error=error)
                           .execution_options(synchronize_session=False))
    return done.rowcount == 1
