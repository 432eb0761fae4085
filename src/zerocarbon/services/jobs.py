"""Background jobs: long work (inventory runs, imports, and the kinds other modules register) run outside the
request that asked for it, with progress and cancellation.

The database row of a job (``store.jobs``) is the only record of its state: the process that runs it writes
its progress there and reads there whether cancelling was requested, so every server process shows the same.
Two executors run jobs:

- embedded (default): a small thread pool inside each server process, which polls the table for queued jobs
  and claims one with an atomic UPDATE, so ``zerocarbon serve --workers N`` runs each job once;
- Redis (when ``$ZEROCARBON_REDIS_URL`` is set): the server only pushes job ids on a Redis list and
  ``zerocarbon worker`` processes pop and run them (claiming them the same way).

A kind is ``register(kind, fn, action)``: ``fn(sessions, params, progress) -> dict`` gets the submitted
params plus ``org`` (organisation code) and ``actor`` (who submitted it), reports through
``progress.update(done, total, message)``, which raises :class:`~zerocarbon.errors.Cancelled` once cancelling
was requested, and returns a small JSON-able result.
"""
from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import sessionmaker

from zerocarbon.errors import (Cancelled, InputError, NotFoundError, PermissionDeniedError, Problem, StateError,
                               StorageError, ZerocarbonError)
from zerocarbon.store import jobs as store
from zerocarbon.store import repos

log = logging.getLogger(__name__)

REDIS_ENV = "ZEROCARBON_REDIS_URL"
DATA_ENV = "ZEROCARBON_DATA_DIR"
THREADS_ENV = "ZEROCARBON_JOB_THREADS"
DEFAULT_DATA_DIR = "zerocarbon-data"
QUEUE_ENV = "ZEROCARBON_REDIS_QUEUE"
DEFAULT_QUEUE = "zerocarbon:jobs"  # the Redis list; another name lets several installations share one Redis
STATUSES = store.STATUSES
FINISHED = store.FINISHED
# Progress is written at most this often [s]; a cancel request is seen within about as long.
PROGRESS_INTERVAL = 0.5
# A runner renews the heartbeat of its jobs this often [s]; a running job without one for STALE_AFTER is
# taken for the job of a process that died.
HEARTBEAT_INTERVAL = 15.0
STALE_AFTER = timedelta(minutes=5)
# Embedded executors look for queued jobs this often [s] (a submit in the same process wakes them at once).
POLL_INTERVAL = 2.0
RESERVED_PARAMS = ("org", "actor")
# Server paths of spooled uploads: never shown, removed when the job ends.
SPOOL_PARAMS = ("path", "orders_path", "carbon_series_path")
RESULT_LIMIT = 16_000  # characters of JSON kept of a result
# This process, as job rows name their runner: host, pid, and a token telling it from an earlier process that
# had the same pid.
HOST = socket.gethostname()
RUNNER = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
# What a user is told to do with a job that a stopped process left unfinished.
RETRY_HINT = ("retry it with `zerocarbon jobs retry {id}`, the Retry button of the jobs page or "
              "POST /api/v1/orgs/{org}/jobs/{id}/retry")


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --- kinds ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    name: str
    fn: Callable[[sessionmaker, dict, Progress], dict]
    action: str  # needed to submit it; members who may do it see the organisation's jobs of this kind
    others: str  # needed to see other people's jobs of this kind (default: ``action``)


_KINDS: dict[str, Kind] = {}


def register(kind: str, fn: Callable, action: str, *, others: str | None = None) -> None:
    """Make ``kind`` a job kind run by ``fn`` that needs ``action`` (an action of ``core.access``)."""
    _KINDS[kind] = Kind(kind, fn, action, others or action)


def kinds() -> dict[str, Kind]:
    return dict(_KINDS)


def action_of(kind: str) -> str:
    """The action a job kind needs; a kind this process does not know is left to those who may cancel any job."""
    k = _KINDS.get(kind)
    return k.action if k else "jobs.cancel"


def _visible(kind: str, created_by: str, actor: str | None, actions: frozenset[str] | None) -> bool:
    if actions is None:
        return True
    k = _KINDS.get(kind)
    if k is None:
        return "jobs.cancel" in actions
    return k.action in actions and (created_by == actor or k.others in actions)


# --- what callers see -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class JobInfo:
    id: int
    organisation: str
    kind: str
    params: dict
    status: str
    done: int
    total: int
    message: str
    cancel_requested: bool
    cancel_requested_by: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict | None
    error: list[dict] | None  # problems: file, row, column, reason
    action: str = ""

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> float | None:
        """Share done in percent, None while the total is unknown."""
        if self.status == store.SUCCEEDED:
            return 100.0
        return round(100.0 * min(self.done, self.total) / self.total, 1) if self.total > 0 else None


@dataclass(frozen=True)
class JobPage:
    total: int
    limit: int
    offset: int
    jobs: list[JobInfo] = field(default_factory=list)


def _info(row, org_code: str) -> JobInfo:
    params = {k: v for k, v in (row.params or {}).items() if k not in SPOOL_PARAMS}  # nobody's business
    return JobInfo(row.id, org_code, row.kind, params, row.status, row.progress_done or 0, row.progress_total or 0,
                   row.progress_message or "", bool(row.cancel_requested), row.cancel_requested_by, row.created_by,
                   row.created_at, row.started_at, row.finished_at, row.result, row.error, action_of(row.kind))


# --- submit, read, cancel ---------------------------------------------------------------------------------------

def submit(sessions: sessionmaker, org_code: str, kind: str, params: dict, *, actor: str) -> JobInfo:
    """Queue a job of a registered kind for ``org_code`` and hand it to the executor; returns it queued."""
    if kind not in _KINDS:
        raise NotFoundError(f"no job kind '{kind}'; the kinds: {', '.join(sorted(_KINDS))}")
    clash = [k for k in RESERVED_PARAMS if k in params]
    if clash:
        raise InputError([Problem("params", None, k, "is set by the server, not by the request") for k in clash])
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        row = store.add(s, org_id, kind, dict(params), actor, _now())
        info = _info(row, org_code)
    _dispatch(sessions, info.id)
    return info


def get(sessions: sessionmaker, org_code: str, job_id: int, *, actor: str | None = None,
        actions: frozenset[str] | None = None) -> JobInfo:
    """A job of the organisation. With ``actions`` (what the caller may do), one they may not see is not found."""
    for attempt in (0, 1):
        with sessions.begin() as s:
            org_id, _ = repos.load_organisation(s, org_code)
            row = store.get(s, org_id, job_id)
            if not _visible(row.kind, row.created_by, actor, actions):
                raise NotFoundError(f"no job {job_id} in this organisation")
            info = _info(row, org_code)
            dead = _looks_dead(row)
        if not dead or attempt or not fail_stale(sessions):
            return info
    return info


def list_jobs(sessions: sessionmaker, org_code: str, *, actor: str | None = None,
              actions: frozenset[str] | None = None, status: str | None = None, kind: str | None = None,
              limit: int = 50, offset: int = 0) -> JobPage:
    """The organisation's jobs, newest first, a page at a time; with ``actions``, only those the caller may see
    (jobs of kinds whose action they may perform; others' jobs only with the kind's ``others`` action)."""
    if status is not None and status not in STATUSES:
        raise InputError([Problem("status", None, "status", f"'{status}' is not one of {', '.join(STATUSES)}")])
    page, dead = None, False
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        if actions is None:
            total, rows = store.listing(s, org_id, kind=kind, status=status, limit=limit, offset=offset)
        else:
            # The same rule as _visible, as one query.
            every = [k.name for k in _KINDS.values() if k.action in actions and k.others in actions]
            own = [k.name for k in _KINDS.values() if k.action in actions and k.others not in actions]
            total, rows = store.listing(s, org_id, restrict=True, every=every, own=own, actor=actor,
                                        unknown_besides=list(_KINDS) if "jobs.cancel" in actions else None,
                                        kind=kind, status=status, limit=limit, offset=offset)
        page = JobPage(total, limit, offset, [_info(r, org_code) for r in rows])
        dead = any(_looks_dead(r) for r in rows)
    if dead and fail_stale(sessions):
        return list_jobs(sessions, org_code, actor=actor, actions=actions, status=status, kind=kind, limit=limit,
                         offset=offset)
    return page


def _looks_dead(row) -> bool:
    """Whether a job shown as running has a runner known to be gone: a process of this host that no longer exists,
    or silence longer than STALE_AFTER. A server or worker started again fails such jobs at once; reading them
    does too, so a job never stays 'running' after its process died, whether or not anything restarts."""
    if row.status != store.RUNNING or row.runner == RUNNER:
        return False
    beat = row.heartbeat_at
    if beat is not None and beat.tzinfo is None:
        beat = beat.replace(tzinfo=timezone.utc)
    return beat is None or _now() - beat > STALE_AFTER or _runner_gone(row.runner)


def retry(sessions: sessionmaker, org_code: str, job_id: int, *, actor: str,
          actions: frozenset[str] | None = None) -> JobInfo:
    """Submit a failed or cancelled job again, with the same kind and parameters, as a new job of ``actor``
    (``params.retry_of`` names the original). Needs the kind's action. An import or schedule run takes over the
    original's uploaded files, so a job is retried once; its new job can be retried in turn."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        row = store.get(s, org_id, job_id)
        kind, status, params, owner = row.kind, row.status, dict(row.params or {}), row.created_by
    if kind not in _KINDS:
        raise StateError(f"job {job_id} is of kind '{kind}', which this server does not run")
    if actions is not None and _KINDS[kind].action not in actions:
        raise PermissionDeniedError(f"retrying job {job_id} ({kind}) needs {_KINDS[kind].action}")
    if not _visible(kind, owner, actor, actions):
        raise NotFoundError(f"no job {job_id} in this organisation")
    if status not in (store.FAILED, store.CANCELLED):
        raise StateError(f"job {job_id} is {status}; only a failed or cancelled job can be retried")
    params = {k: v for k, v in params.items() if k not in RESERVED_PARAMS}
    params["retry_of"] = job_id
    moved: list[tuple[Path, Path]] = []
    try:
        for key in SPOOL_PARAMS:
            if not params.get(key):
                continue
            old = _spooled_path(params, key)
            new_folder = _spool_root() / uuid.uuid4().hex
            try:
                # A rename is atomic: of two retries of the same job, one gets the files, the other is told.
                old.parent.rename(new_folder)
            except FileNotFoundError:
                raise StateError(f"the uploaded file {old.name} of job {job_id} is no longer kept on the server "
                                 "(the job was retried already, cancelled, or its file refused); upload the file "
                                 "again") from None
            moved.append((old.parent, new_folder))
            params[key] = str(new_folder / old.name)
        info = submit(sessions, org_code, kind, params, actor=actor)
    except Exception:
        for old_folder, new_folder in reversed(moved):
            new_folder.rename(old_folder)
        raise
    with sessions.begin() as s:
        repos.audit(s, actor, "job.retry", f"job:{job_id}", org_id=org_id, kind=kind, new_job=info.id)
    return info


# Jobs this process runs, with the flag their progress checks between database reads.
_local: dict[int, threading.Event] = {}
# Who cancelled a job of this process when the request could not be written yet (job id -> actor).
_unrecorded_cancels: dict[int, str] = {}
_local_lock = threading.Lock()


def cancel(sessions: sessionmaker, org_code: str, job_id: int, *, actor: str, may_cancel_others: bool,
           actions: frozenset[str] | None = None) -> JobInfo:
    """Cancel a queued job at once, or ask a running one to stop (it ends ``cancelled`` at its next progress
    report, storing nothing of its unfinished transaction). One's own jobs need no permission; others' need
    ``may_cancel_others`` (the ``jobs.cancel`` action)."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        row = store.get(s, org_id, job_id)
        if row.created_by != actor and not may_cancel_others:
            raise PermissionDeniedError(f"job {job_id} was started by someone else; cancelling another's job "
                                        "needs jobs.cancel")
        if not _visible(row.kind, row.created_by, actor, actions):
            raise NotFoundError(f"no job {job_id} in this organisation")
        if row.status in FINISHED:
            raise StateError(f"job {job_id} has already ended ({row.status}); there is nothing to cancel")
        kind = row.kind
    with _local_lock:
        flag = _local.get(job_id)
    if flag is not None:
        flag.set()  # seen at the job's next progress report, without waiting for the database
    try:
        with (_quick(sessions) if flag is not None else sessions).begin() as s:
            if not (store.cancel_queued(s, job_id, actor, _now()) or store.request_cancel(s, job_id, actor)):
                raise StateError(f"job {job_id} ended meanwhile; there is nothing to cancel")
            repos.audit(s, actor, "job.cancel", f"job:{job_id}", org_id=org_id, kind=kind)
    except OperationalError as exc:
        if not _locked(exc):
            raise
        if flag is None:
            raise StorageError(f"the database is busy; cancelling job {job_id} did not reach it, try again") from exc
        # SQLite allows one writer: the job's own transaction holds the database; its flag stops it, and the
        # runner records who cancelled it once the job has let go of the database.
        with _local_lock:
            _unrecorded_cancels[job_id] = actor
    _discard_spool_if_cancelled(sessions, org_code, job_id)
    return get(sessions, org_code, job_id)


def _locked(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


_quick_sessions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _quick(sessions: sessionmaker) -> sessionmaker:
    """Sessions that give up at once on a locked SQLite database (others: ``sessions`` itself).

    SQLite allows one writer: while a job's own transaction (an import storing its rows) holds the database, a
    progress report, heartbeat or cancel request of that job must not wait for it, or the job waits on itself.
    """
    engine = sessions.kw.get("bind")
    if engine is None or engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return sessions
    quick = _quick_sessions.get(engine)
    if quick is None:
        quick = sessionmaker(create_engine(engine.url, connect_args={"timeout": 0.01}), expire_on_commit=False)
        _quick_sessions[engine] = quick
    return quick


# --- progress ---------------------------------------------------------------------------------------------------

class Progress:
    """What a job function reports through. ``update`` writes at most every PROGRESS_INTERVAL seconds and raises
    Cancelled once cancelling the job was requested (here, or through the database by another process)."""

    def __init__(self, sessions: sessionmaker, job_id: int, flag: threading.Event | None = None,
                 interval: float | None = None):
        self.sessions = sessions
        self.job_id = job_id
        self.flag = flag or threading.Event()
        self.interval = PROGRESS_INTERVAL if interval is None else interval
        self._last = float("-inf")
        self.latest: tuple[int, int, str] | None = None

    def check(self) -> None:
        if self.flag.is_set():
            raise Cancelled(f"job {self.job_id} was cancelled")

    def update(self, done: int, total: int, message: str = "") -> None:
        self.check()
        self.latest = (int(done), int(total), str(message)[:512])  # written at the job's end if throttled now
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        quick = _quick(self.sessions)
        try:
            with quick.begin() as s:
                requested = store.progress(s, self.job_id, int(done), int(total), str(message), _now())
        except OperationalError as exc:
            if not _locked(exc):
                raise
            # SQLite: the job's own transaction holds the write lock; the next report writes. Reading still works.
            try:
                with quick.begin() as s:
                    requested = store.cancel_flag(s, self.job_id)
            except OperationalError as again:
                if not _locked(again):
                    raise
                requested = False
        if requested:
            self.flag.set()
            self.check()

    def requested(self) -> bool:
        """Whether cancelling was requested, asking the database now (not only at the next written report)."""
        if not self.flag.is_set():
            try:
                with _quick(self.sessions).begin() as s:
                    if store.cancel_flag(s, self.job_id):
                        self.flag.set()
            except OperationalError as exc:
                if not _locked(exc):
                    raise
        return self.flag.is_set()


# --- running ----------------------------------------------------------------------------------------------------

def _problems(exc: BaseException) -> list[dict]:
    if isinstance(exc, InputError):
        return [{"file": p.source, "row": p.row, "column": p.column, "reason": p.reason} for p in exc.problems]
    if isinstance(exc, ZerocarbonError):
        return [{"file": None, "row": None, "column": exc.column, "reason": str(exc)}]
    return [{"file": None, "row": None, "column": None,
             "reason": f"internal error ({type(exc).__name__}: {exc}); the server log has the details"}]


def _small(result) -> dict | None:
    import json

    if result is None:
        return None
    text = json.dumps(result, default=str)
    if len(text) > RESULT_LIMIT:
        return {"note": f"the result had {len(text)} characters of JSON; only its keys are kept",
                "keys": sorted(result)[:100] if isinstance(result, dict) else []}
    return json.loads(text)


def run(sessions: sessionmaker, job_id: int, *, runner: str = RUNNER) -> bool:
    """Claim a queued job and run it in this thread to its end; False when it was not queued (another process
    has it, or it was cancelled before it started)."""
    with sessions.begin() as s:
        if not store.claim(s, job_id, runner, _now()):
            return False
        row = store.by_id(s, job_id)
        kind, params, org_id = row.kind, dict(row.params or {}), row.organisation_id
        params.update(org=store.organisation_code(s, row.organisation_id), actor=row.created_by)
    flag = threading.Event()
    with _local_lock:
        _local[job_id] = flag
    status, result, error, progress, refused = store.FAILED, None, None, None, False
    try:
        k = _KINDS.get(kind)
        if k is None:
            raise StateError(f"this process has no job kind '{kind}'; a server or worker of another version "
                             "queued it")
        progress = Progress(sessions, job_id, flag)
        result = _small(k.fn(sessions, params, progress))
        status = store.SUCCEEDED
    except Cancelled:
        status = store.CANCELLED
        if _stopping.is_set() and not _cancel_requested(sessions, job_id):
            status = store.FAILED
            error = [{"file": None, "row": None, "column": None,
                      "reason": "the server or worker process running this job was shut down before it "
                                "finished; nothing of it was stored; "
                                + RETRY_HINT.format(id=job_id, org=params["org"])}]
    except Exception as exc:  # every failure is the job's outcome, recorded on its row
        if not isinstance(exc, ZerocarbonError):
            log.exception("job %s (%s) failed", job_id, kind)
        error = _problems(exc)
        refused = isinstance(exc, InputError)
    finally:
        with _local_lock:
            _local.pop(job_id, None)
            cancelled_by = _unrecorded_cancels.pop(job_id, None)
        with sessions.begin() as s:
            if cancelled_by is not None:
                store.request_cancel(s, job_id, cancelled_by)
                repos.audit(s, cancelled_by, "job.cancel", f"job:{job_id}", org_id=org_id, kind=kind)
            store.finish(s, job_id, status, _now(), result=result, error=error,
                         progress=progress.latest if progress is not None else None)
        # A job that failed for another reason than its input (the process stopped, the database went away)
        # keeps its uploaded files, so that retrying it needs no new upload; a refused file would be refused again.
        if status != store.FAILED or refused:
            _discard_spool(params)
    return True


def _cancel_requested(sessions: sessionmaker, job_id: int) -> bool:
    with sessions.begin() as s:
        row = store.by_id(s, job_id)
        return bool(row and row.cancel_requested)


def _runner_gone(runner: str | None) -> bool:
    """Whether the process named by ``runner`` is known to be gone (only a process on this host can be checked)."""
    if not runner:
        return True
    host, _, rest = runner.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != HOST or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return runner != RUNNER  # an earlier process that had this pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def fail_stale(sessions: sessionmaker, *, stale_after: timedelta | None = None) -> list[int]:
    """Mark failed the running jobs whose process is gone: on this host a process that no longer exists, anywhere
    a heartbeat older than ``stale_after`` (default STALE_AFTER). Returns their ids."""
    stale_after = STALE_AFTER if stale_after is None else stale_after
    now = _now()
    failed = []
    with sessions.begin() as s:
        rows = store.running(s)
        candidates = [(r.id, r.runner, r.heartbeat_at) for r in rows]
        org_ids = {r.id: r.organisation_id for r in rows}
    for job_id, runner, beat in candidates:
        if runner == RUNNER:
            continue
        silent = beat is None or now - beat > stale_after
        if not (silent or _runner_gone(runner)):
            continue
        since = f"last sign of life {beat:%Y-%m-%d %H:%M:%S} UTC" if beat else "no sign of life"
        with sessions.begin() as s:
            org_code = store.organisation_code(s, org_ids[job_id])
        reason = (f"the server or worker process running this job ({runner or 'unknown'}) stopped before it "
                  f"finished ({since}); nothing of it was stored; "
                  + RETRY_HINT.format(id=job_id, org=org_code))
        with sessions.begin() as s:
            if store.fail_running(s, job_id, runner, now, [{"file": None, "row": None, "column": None,
                                                            "reason": reason}]):
                failed.append(job_id)
    if failed:
        log.warning("marked %d job(s) failed whose process had stopped: %s", len(failed), failed)
    return failed


def _heartbeat(sessions: sessionmaker) -> None:
    with _local_lock:
        ids = list(_local)
    if not ids:
        return
    try:
        with _quick(sessions).begin() as s:
            store.heartbeat(s, ids, _now())
    except OperationalError as exc:
        if not _locked(exc):
            raise


# Set while this process shuts its executors down: a job stopped by it is recorded failed, not cancelled.
_stopping = threading.Event()


class _Pool:
    """Threads that run claimed jobs, at most ``threads`` at a time, and keep their heartbeats."""

    def __init__(self, sessions: sessionmaker, threads: int):
        self.sessions = sessions
        self.threads = max(1, threads)
        self._slots = threading.Semaphore(self.threads)
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="zerocarbon-job")
        self._mine: set[int] = set()
        self._lock = threading.Lock()
        self._beat = 0.0
        self.ran = 0

    def free(self) -> bool:
        if self._slots.acquire(blocking=False):
            self._slots.release()
            return True
        return False

    def busy(self) -> bool:
        with self._lock:
            return bool(self._mine)

    def try_start(self, job_id: int) -> bool:
        if not self._slots.acquire(blocking=False):
            return False
        with self._lock:
            self._mine.add(job_id)
        self._pool.submit(self._run, job_id)
        return True

    def start_waiting(self, job_id: int, stop: threading.Event) -> None:
        while not stop.is_set():
            if self._slots.acquire(timeout=0.5):
                with self._lock:
                    self._mine.add(job_id)
                self._pool.submit(self._run, job_id)
                return

    def _run(self, job_id: int) -> None:
        try:
            if run(self.sessions, job_id):
                self.ran += 1
        except Exception:
            log.exception("job %s could not be run", job_id)
        finally:
            with self._lock:
                self._mine.discard(job_id)
            self._slots.release()

    def beat(self) -> None:
        now = time.monotonic()
        if now - self._beat >= HEARTBEAT_INTERVAL:
            self._beat = now
            _heartbeat(self.sessions)

    def stop(self, timeout: float) -> None:
        with self._lock:
            mine = list(self._mine)
        with _local_lock:
            for job_id in mine:
                if job_id in _local:
                    _local[job_id].set()
        deadline = time.monotonic() + timeout
        while self.busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._pool.shutdown(wait=False, cancel_futures=True)


_embedded: set[EmbeddedExecutor] = set()


class EmbeddedExecutor:
    """Runs queued jobs in threads of this process; needs no other service."""

    def __init__(self, sessions: sessionmaker, threads: int = 2, poll: float = POLL_INTERVAL):
        self.sessions = sessions
        self.poll = poll
        self.pool = _Pool(sessions, threads)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> EmbeddedExecutor:
        fail_stale(self.sessions)
        self._thread = threading.Thread(target=self._loop, name="zerocarbon-jobs", daemon=True)
        self._thread.start()
        _embedded.add(self)
        return self

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        last_sweep = time.monotonic()
        while not self._stop.is_set():
            try:
                if self.pool.free():
                    with self.sessions.begin() as s:
                        queued = store.queued_ids(s, limit=self.pool.threads)
                    for job_id in queued:
                        if not self.pool.try_start(job_id):
                            break
                self.pool.beat()
                if time.monotonic() - last_sweep > STALE_AFTER.total_seconds() / 2:
                    last_sweep = time.monotonic()
                    fail_stale(self.sessions)
            except Exception:
                log.exception("the job executor could not read the jobs table; trying again")
            self._wake.wait(self.poll)
            self._wake.clear()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs; a running job is asked to stop (and recorded failed: submit it again)."""
        _embedded.discard(self)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        _stopping.set()
        try:
            self.pool.stop(timeout)
        finally:
            if not _embedded:
                _stopping.clear()


# --- Redis ------------------------------------------------------------------------------------------------------

def redis_url() -> str | None:
    return os.environ.get(REDIS_ENV, "").strip() or None


def queue_key() -> str:
    return os.environ.get(QUEUE_ENV, "").strip() or DEFAULT_QUEUE


def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)


def _push(url: str, job_id: int) -> None:
    import redis

    try:
        _redis(url).lpush(queue_key(), job_id)
    except redis.RedisError as exc:
        raise StorageError(f"the job queue at {REDIS_ENV}={url} does not answer ({exc}); check that Redis runs") \
            from exc


def _dispatch(sessions: sessionmaker, job_id: int) -> None:
    url = redis_url()
    if url is None:
        for executor in list(_embedded):
            executor.wake()
        return
    try:
        _push(url, job_id)
    except StorageError as exc:
        with sessions.begin() as s:
            if store.claim(s, job_id, RUNNER, _now()):
                store.finish(s, job_id, store.FAILED, _now(),
                             error=[{"file": None, "row": None, "column": None, "reason": str(exc)}])
        raise


def work(sessions: sessionmaker, url: str, *, threads: int = 1, burst: bool = False,
         stop: threading.Event | None = None) -> int:
    """Run jobs popped from the Redis list at ``url`` until ``stop`` is set (or, with ``burst``, until the list
    is empty and nothing runs). Returns how many jobs this worker ran.

    On start it marks failed the jobs of processes that died and pushes again the ids of queued jobs (a
    restarted Redis loses its list; a job pushed twice is still run once: running claims it).
    """
    import redis

    stop = stop or threading.Event()
    key = queue_key()
    r = _redis(url)
    try:
        r.ping()
    except redis.RedisError as exc:
        raise StorageError(f"the job queue at {url} does not answer ({exc}); check that Redis runs") from exc
    fail_stale(sessions)
    with sessions.begin() as s:
        queued = store.queued_ids(s, limit=10_000)
    if queued:
        r.lpush(key, *queued)
    pool = _Pool(sessions, threads)
    last_sweep = time.monotonic()
    try:
        while not stop.is_set():
            pool.beat()
            if time.monotonic() - last_sweep > STALE_AFTER.total_seconds() / 2:
                last_sweep = time.monotonic()
                fail_stale(sessions)
            if not pool.free():
                time.sleep(0.2)
                continue
            try:
                item = r.brpop([key], timeout=1)
            except redis.RedisError:
                log.exception("the job queue at %s does not answer; trying again", url)
                stop.wait(2)
                continue
            if item is None:
                if burst and not pool.busy():
                    break
                continue
            try:
                job_id = int(item[1])
            except ValueError:
                log.warning("ignored a job queue entry that is not a job id: %r", item[1])
                continue
            pool.start_waiting(job_id, stop)
    finally:
        _stopping.set()
        try:
            pool.stop(10.0 if not burst else 3600.0)
        finally:
            _stopping.clear()
    return pool.ran


def start_server_executor(sessions: sessionmaker) -> EmbeddedExecutor | None:
    """What a server process runs jobs with: nothing with a Redis queue (``zerocarbon worker`` runs them),
    else an embedded executor of $ZEROCARBON_JOB_THREADS (default 2) threads."""
    if redis_url() is not None:
        return None
    threads = os.environ.get(THREADS_ENV, "").strip()
    return EmbeddedExecutor(sessions, int(threads) if threads.isdigit() and int(threads) > 0 else 2).start()


def wait(sessions: sessionmaker, org_code: str, job_id: int, timeout: float = 60.0) -> JobInfo:
    """The job once it has ended, or as it is after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        info = get(sessions, org_code, job_id)
        if info.finished or time.monotonic() > deadline:
            return info
        time.sleep(0.05)


# --- uploads ----------------------------------------------------------------------------------------------------

def data_dir() -> Path:
    return Path(os.environ.get(DATA_ENV, "").strip() or DEFAULT_DATA_DIR).expanduser().resolve()


def _spool_root() -> Path:
    return data_dir() / "uploads"


def spool(source: BinaryIO, name: str) -> Path:
    """Copy an upload to a private folder under the data directory, where a job (in this or a worker process
    sharing the directory) reads it; ``name`` must be a bare file name."""
    if Path(name).name != name or name in ("", ".", ".."):
        raise InputError([Problem("file", None, None, f"'{name}' is not a bare file name")])
    folder = _spool_root() / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=False)
    path = folder / name
    with path.open("wb") as out:
        shutil.copyfileobj(source, out, length=1 << 20)
    return path


def _spooled_path(params: dict, key: str = "path") -> Path:
    path = Path(str(params.get(key, ""))).resolve()
    root = _spool_root()
    if root not in path.parents:
        raise StateError(f"the uploaded file of this job is not under {root}; upload it again")
    return path


def _check_kept(path: Path) -> None:
    if not path.is_file():
        raise StateError(f"the uploaded file {path.name} of this job is no longer kept on the server (the job was "
                         "retried or its upload discarded); upload the file again")


def _discard_spool_if_cancelled(sessions: sessionmaker, org_code: str, job_id: int) -> None:
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        row = store.get(s, org_id, job_id)
        if row.status != store.CANCELLED:
            return
        params = dict(row.params or {})
    _discard_spool(params)


def _discard_spool(params: dict) -> None:
    for key in SPOOL_PARAMS:
        if params.get(key):
            try:
                shutil.rmtree(_spooled_path(params, key).parent, ignore_errors=True)
            except StateError:
                pass


def submit_import(sessions: sessionmaker, org_code: str, kind: str, year: int, factor_set: str, source: BinaryIO,
                  name: str, *, actor: str) -> JobInfo:
    """Spool an uploaded activity file and queue its import (every row or none, as ``accounting.import_file``)."""
    path = spool(source, name)
    try:
        return submit(sessions, org_code, "import", {"kind": kind, "year": year, "factor_set": factor_set,
                                                     "file": name, "path": str(path)}, actor=actor)
    except Exception:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise


def submit_schedule(sessions: sessionmaker, org_code: str, problem: BinaryIO, problem_name: str,
                    orders: BinaryIO | None = None, orders_name: str | None = None, *, actor: str,
                    time_limit: float = 10.0, objective: str = "cost", name: str | None = None,
                    site: str | None = None, workers: int = 2, operating_days: float | None = None,
                    carbon_series: str | None = None, carbon_series_file: BinaryIO | None = None,
                    carbon_series_name: str | None = None) -> JobInfo:
    """Spool a plant problem file (and an orders file, and a grid carbon-intensity series CSV) and queue its
    schedule run (``schedule_runs.run_plan``).

    ``carbon_series`` names a shipped series (with or without ``shipped:``); ``carbon_series_file`` is an uploaded
    series CSV instead (not both). The files are read and checked first: a file that does not read, a series that
    does not cover the problem's week, bad settings or an unknown site are refused here with their problems
    (InputError: file, row, column, reason) and nothing is queued.
    """
    from zerocarbon.services import schedule_runs

    days = float(operating_days if operating_days is not None else schedule_runs.OPERATING_DAYS)
    if carbon_series and carbon_series_file is not None:
        raise InputError([Problem("settings", None, "carbon_series", "give a shipped series or upload a series "
                                                                     "file, not both")])
    params = {"file": problem_name, "orders": orders_name if orders is not None else None,
              "time_limit": float(time_limit), "objective": objective, "name": name, "site": site,
              "workers": int(workers), "operating_days": days, "carbon_series": None}
    try:
        params["path"] = str(spool(problem, problem_name))
        if orders is not None:
            params["orders_path"] = str(spool(orders, orders_name or "orders.csv"))
        series = None
        if carbon_series:
            series = params["carbon_series"] = schedule_runs.shipped_spec(carbon_series)
        elif carbon_series_file is not None:
            params["carbon_series"] = carbon_series_name or "carbon-series.csv"
            series = params["carbon_series_path"] = str(spool(carbon_series_file, params["carbon_series"]))
        schedule_runs.check_input(sessions, org_code, params["path"], params.get("orders_path"),
                                  time_limit=float(time_limit), objective=objective, site=site,
                                  operating_days=days, carbon_series=series)
        return submit(sessions, org_code, "schedule.run", params, actor=actor)
    except Exception:
        _discard_spool(params)
        raise


# --- the kinds of this package ----------------------------------------------------------------------------------

COMPUTE_STEPS = ("load", "compute", "save")


def _inventory_job(sessions: sessionmaker, params: dict, progress: Progress) -> dict:
    from zerocarbon.core.model import Boundary
    from zerocarbon.services import accounting

    total = len(COMPUTE_STEPS) + 1
    for attempt in range(3):
        progress.update(0, total, "start")
        try:
            result = accounting.compute(
                sessions, params["org"], int(params["year"]),
                params.get("factor_set") or accounting.DEFAULT_FACTOR_SET, params.get("gwp_set") or "AR5",
                Boundary(params.get("boundary") or Boundary.OPERATIONAL_CONTROL.value),
                params.get("recalculation_reason"), actor=params["actor"],
                progress=lambda step: progress.update(COMPUTE_STEPS.index(step) + 1, total, step),
                engine=accounting.server_engine())
            break
        except IntegrityError:
            # Another run stored the same year's inventory first; computing again replaces it.
            if attempt == 2:
                raise
    progress.update(total, total, "done")
    return {"year": int(params["year"]), "totals": result.totals(), "warnings": len(result.warnings),
            "exclusions": len(result.exclusions)}


def _import_job(sessions: sessionmaker, params: dict, progress: Progress) -> dict:
    from zerocarbon.services import accounting

    path = _spooled_path(params)
    _check_kept(path)
    progress.update(0, 0, "read")
    rep = accounting.import_file(sessions, params["org"], params["kind"], path, int(params["year"]),
                                 params.get("factor_set") or accounting.DEFAULT_FACTOR_SET, actor=params["actor"],
                                 source=f"upload:{path.name}",
                                 progress=lambda done, total: progress.update(done, total, "store"))
    return {"batch_id": rep.batch_id, "kind": rep.kind, "rows": rep.rows, "source": rep.source,
            "sha256": rep.sha256, "warnings": rep.warnings[:20]}


def _schedule_job(sessions: sessionmaker, params: dict, progress: Progress) -> dict:
    from zerocarbon.services import schedule_runs

    def report(done: int, total: int, message: str) -> None:
        try:
            progress.update(done, total, message)
        except Cancelled:
            pass  # a solve under way finishes its phase; the run stops before the next one

    problem = _spooled_path(params)
    orders = _spooled_path(params, "orders_path") if params.get("orders_path") else None
    series = (str(_spooled_path(params, "carbon_series_path")) if params.get("carbon_series_path")
              else params.get("carbon_series"))
    for path in (problem, orders, series if params.get("carbon_series_path") else None):
        if path is not None:
            _check_kept(Path(path))
    if series and not params.get("carbon_series_path"):
        series = schedule_runs.shipped_spec(series)  # a name in a job's params is never read as a path
    try:
        info = schedule_runs.run_plan(sessions, params["org"], problem, orders, actor=params["actor"],
                                      time_limit=float(params.get("time_limit") or 10.0),
                                      objective=params.get("objective") or "cost", name=params.get("name"),
                                      site=params.get("site"), workers=int(params.get("workers") or 2),
                                      progress=report, cancelled=progress.requested,
                                      operating_days=float(params.get("operating_days")
                                                           or schedule_runs.OPERATING_DAYS),
                                      carbon_series=series)
    except StateError:
        if progress.flag.is_set():
            raise Cancelled(f"job {progress.job_id} was cancelled") from None
        raise
    return {"run_id": info.id, "name": info.name, "solver_status": info.summary.get("solver_status"),
            "savings": info.summary.get("savings"), "carbon_series": info.summary.get("carbon_series")}


register("inventory.compute", _inventory_job, "inventory.compute")
register("import", _import_job, "import.write", others="import.read")
register("schedule.run", _schedule_job, "schedule.run")
