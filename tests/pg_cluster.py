"""A private PostgreSQL server for tests that stop, restart or cut it: its own data folder, a free port on
loopback, never the shared server.

initdb and pg_ctl refuse to run as root, so as root they run as the ``postgres`` OS user (``runuser``), with
the folder handed to that user. :func:`start` raises :class:`ClusterUnavailable` with the reason when the
server cannot be made here; the fixture turns it into ``require_service`` (skip locally, fail under CI=true).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from contextlib import closing
from pathlib import Path

BIN = Path(os.environ.get("ZEROCARBON_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


class ClusterUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One server: ``url(db)`` for SQLAlchemy, ``restart``/``stop``/``start`` with pg_ctl, ``terminate`` to end
    one backend from another connection (as an administrator would)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.data = folder / "data"
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str, timeout: float = 60) -> str:
        cmd = [str(BIN / args[0]), *args[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if r.returncode:
            raise ClusterUnavailable(f"{' '.join(cmd)} failed ({r.returncode}): {(r.stderr or r.stdout).strip()[-800:]}")
        return r.stdout

    def init(self) -> None:
        if not (BIN / "initdb").is_file():
            raise ClusterUnavailable(f"no initdb in {BIN} (set ZEROCARBON_TEST_PG_BIN)")
        if self.as_postgres:
            try:
                shutil.chown(self.folder, "postgres")
            except (LookupError, OSError) as exc:
                raise ClusterUnavailable(f"cannot hand {self.folder} to the postgres OS user: {exc}") from None
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync",
                  "--locale=C.UTF-8")

    def start(self) -> None:
        # fsync off: a test server needs no durability, and it keeps a restart fast on a busy disk
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w",
                  "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def restart(self, mode: str = "immediate") -> None:
        """Stop (``fast``: sessions ended, transactions rolled back; ``immediate``: as a crash) and start again."""
        self.stop(mode)
        self.start()

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def terminate(self, pid: int) -> None:
        """End backend ``pid`` from a second connection: its open transaction is rolled back by the server."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            ended = c.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        if not ended:
            raise RuntimeError(f"backend {pid} was not there to terminate")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except ClusterUnavailable:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> Cluster:
    """A new running cluster in a temporary folder (the caller removes it with ``remove``)."""
    folder = Path(tempfile.mkdtemp(prefix="zc-pg-"))
    cluster = Cluster(folder)
    try:
        cluster.init()
        cluster.start()
    except (ClusterUnavailable, OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ClusterUnavailable(str(exc)) from None
    return cluster
