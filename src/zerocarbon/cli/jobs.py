"""`zerocarbon worker`: run the background jobs a server queued on Redis ($ZEROCARBON_REDIS_URL); `zerocarbon jobs`:
list jobs and retry one that failed."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from zerocarbon.cli.common import ActorOpt, DbOpt, JsonOpt, actor, console, emit_json, group
from zerocarbon.cli.meters import OrgCodeOpt, organisation


def worker(db: DbOpt = None,
           redis: Annotated[Optional[str], typer.Option(
               "--redis", help="Redis URL of the job queue; default $ZEROCARBON_REDIS_URL")] = None,
           threads: Annotated[int, typer.Option(help="jobs run at the same time", min=1, max=64)] = 1,
           burst: Annotated[bool, typer.Option("--burst", help="run the queued jobs, then exit")] = False) -> None:
    """Pop job ids from the Redis queue and run them until interrupted. Progress, results and problems go to the
    database, where every server process reads them; start as many workers as the machine has cores to spare."""
    import os
    import signal
    import threading

    from zerocarbon.cli.common import open_db
    from zerocarbon.errors import InputError, Problem
    from zerocarbon.services import jobs

    url = redis or jobs.redis_url()
    if not url:
        raise InputError([Problem("--redis", None, None, f"give the Redis URL of the job queue (--redis or "
                                                         f"${jobs.REDIS_ENV}); without one the server runs jobs "
                                                         "itself and needs no worker")])
    sessions = open_db(db)
    if db:
        os.environ["ZEROCARBON_DB"] = db
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"zerocarbon worker: jobs from {url}, {threads} at a time" + (" (until the queue is empty)"
                                                                                if burst else ""))
    ran = jobs.work(sessions, url, threads=threads, burst=burst, stop=stop)
    console.print(f"ran {ran} job(s)")


jobs_app = group("Background jobs: list them, retry one that failed (e.g. because its process stopped).")


@jobs_app.command("list")
def list_jobs(db: DbOpt = None, org: OrgCodeOpt = None,
              status: Annotated[Optional[str], typer.Option(help="queued, running, succeeded, failed or "
                                                                 "cancelled")] = None,
              limit: Annotated[int, typer.Option(min=1, max=500)] = 20, as_json: JsonOpt = False) -> None:
    """The organisation's jobs, newest first, with how each ended and why a failed one failed."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import jobs

    code = organisation(org, db)
    page = jobs.list_jobs(open_db(db), code, status=status, limit=limit)
    if as_json:
        emit_json([_plain(j) for j in page.jobs])
        return
    for j in page.jobs:
        why = "; ".join(p["reason"] for p in (j.error or [])[:3])
        console.print(f"{j.id}  {j.kind}  {j.status}  {j.created_by}  {j.created_at:%Y-%m-%d %H:%M:%S}"
                      + (f"  {why}" if why else ""), soft_wrap=True)
    console.print(f"{len(page.jobs)} of {page.total} job(s)")


@jobs_app.command("retry")
def retry(job_id: Annotated[int, typer.Argument(help="the job's number (`zerocarbon jobs list`)", min=1)],
          db: DbOpt = None, org: OrgCodeOpt = None, actor_name: ActorOpt = None,
          here: Annotated[bool, typer.Option("--here", help="run the new job in this command, to its end, instead "
                                                            "of leaving it to the server or worker")] = False,
          as_json: JsonOpt = False) -> None:
    """Submit a failed or cancelled job again as a new job, with the same settings and uploaded files."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import jobs

    code = organisation(org, db)
    sessions = open_db(db)
    info = jobs.retry(sessions, code, job_id, actor=actor(actor_name))
    if here:
        jobs.run(sessions, info.id)
        info = jobs.get(sessions, code, info.id)
    if as_json:
        emit_json(_plain(info))
        return
    if not here:
        console.print(f"job {job_id} submitted again as job {info.id} ({info.status}); a running `zerocarbon serve` "
                      f"runs it (`zerocarbon worker` when ${jobs.REDIS_ENV} is set); follow it with "
                      f"`zerocarbon jobs list`")
        return
    console.print(f"job {job_id} retried as job {info.id}: {info.status}")
    for p in info.error or []:
        console.print(f"  {p['reason']}", soft_wrap=True)
    if info.status != "succeeded":
        raise typer.Exit(1)


def _plain(info) -> dict:
    import dataclasses

    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dataclasses.asdict(info).items()}
