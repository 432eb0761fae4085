"""`zerocarbon worker`: run the background jobs a server queued on Redis ($ZEROCARBON_REDIS_URL)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from zerocarbon.cli.common import DbOpt, console


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
