"""`zerocarbon serve`: the HTTP API (docs/api.md) and the dashboard (docs/web.md)."""
from __future__ import annotations

from typing import Annotated

import typer

from zerocarbon.cli.common import DbOpt, console


def serve(host: Annotated[str, typer.Option(help="address to listen on; keep 127.0.0.1 behind a TLS proxy")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port", min=1, max=65535)] = 8000,
          db: DbOpt = None,
          workers: Annotated[int | None, typer.Option(
              help="server processes (default: one per core, as a process runs Python on one core at a time)",
              min=1, max=64)] = None) -> None:
    """Run the HTTP API (/api/v1; OpenAPI at /api/v1/openapi.json) and the dashboard (/web) with uvicorn until
    interrupted. Background jobs run in the server, or on `zerocarbon worker` when $ZEROCARBON_REDIS_URL is set."""
    import os

    import uvicorn

    from zerocarbon.cli.common import open_db

    from zerocarbon import limits

    workers = workers or os.cpu_count() or 1
    limits.check()  # a limit set to 'abc' stops the server here, not on every upload later
    open_db(db, create=True)  # a wrong URL or an unreachable server is reported here, before the server starts
    if db:
        os.environ["ZEROCARBON_DB"] = db
    console.print(f"zerocarbon on http://{host}:{port}: dashboard /web/, API /api/v1 (OpenAPI: /api/v1/openapi.json), "
                  f"{workers} process(es)")
    queue = os.environ.get("ZEROCARBON_REDIS_URL", "").strip()
    # Each process runs its own embedded executor; a job is claimed by one of them (services.jobs).
    console.print(f"background jobs: on the Redis queue {queue}; start `zerocarbon worker` to run them" if queue
                  else "background jobs: run inside the server processes (no other service needed)")
    # By import string, so the shells stay independent of each other and uvicorn owns the app's life.
    # Sessions, tokens and the login rate limit live in the database, so several processes share them.
    uvicorn.run("zerocarbon.web:create_app", factory=True, host=host, port=port, proxy_headers=True, workers=workers)
