"""Engine and session factory; the schema is created and upgraded by Alembic, never by create_all."""
from __future__ import annotations

import os
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from zerocarbon.errors import StorageError

DEFAULT_URL = "sqlite:///zerocarbon.sqlite"


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("ZEROCARBON_DB", DEFAULT_URL)


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    # A server restarted between two requests leaves dead connections in the pool: the ping on checkout
    # replaces them, so the first request after the restart works instead of failing.
    engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _fk_on(dbapi_conn, _record):  # SQLite ignores foreign keys unless asked
            dbapi_conn.execute("PRAGMA foreign_keys=ON")
    else:
        shown = make_url(url).render_as_string(hide_password=True)

        @event.listens_for(engine, "handle_error")
        def _lost(ctx):
            if ctx.is_pre_ping:  # the pool replaces the dead connection itself
                return
            if ctx.is_disconnect:
                raise connection_lost(shown, ctx.original_exception, ctx.statement is None) from ctx.sqlalchemy_exception
            if ctx.connection is None and isinstance(ctx.sqlalchemy_exception, OperationalError):
                first = (str(ctx.original_exception).strip().splitlines() or ["no answer"])[0]
                raise StorageError(f"cannot open the database {shown}: {first}; check that the database server is "
                                   "running and reachable, then run the command again") from ctx.sqlalchemy_exception
    return engine


def connection_lost(shown: str, exc: BaseException, at_commit: bool) -> StorageError:
    """The error for a database connection that broke during a request (server restarted or stopped, the
    session ended by an administrator, the network gone): the transaction it was in is rolled back by the
    server, so what the command wrote is not stored; running it again is the remedy."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if at_commit:
        stored = ("the connection broke while the change was being committed, so the server may or may not have "
                  "stored it; look before running the command again (an import already stored is refused as a "
                  "duplicate, so running it again is safe)")
    else:
        stored = "the server rolled back the transaction in progress, so nothing of it was stored"
    return StorageError(f"the connection to the database {shown} was lost ({first}); {stored}. Check that the "
                        "database server is running and reachable, then run the command again.")


def upgrade(engine: Engine, meter_org: str | None = None) -> None:
    """Bring the schema to the newest Alembic revision. ``meter_org`` (an organisation code) says whose the
    meters and readings stored before they carried an organisation are, when the database cannot tell
    (revision 0009)."""
    cfg = Config()
    cfg.attributes["meter_org"] = meter_org
    cfg.set_main_option("script_location", str(resources.files("zerocarbon.store") / "migrations"))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # SQLite changes a table by copying it; with foreign keys enforced, dropping the old copy fails.
            # The pragma only acts outside a transaction; the keys are checked once the migration is done.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        with conn.begin():
            if sqlite:
                # The sqlite3 driver opens a transaction only before INSERT/UPDATE/DELETE, so a CREATE TABLE
                # of one revision would stay behind when a later revision refuses; an explicit BEGIN makes the
                # whole upgrade one transaction that a refusal undoes.
                conn.exec_driver_sql("BEGIN")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            if sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"schema upgrade left {len(broken)} broken foreign key(s): {broken[:5]}")
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
