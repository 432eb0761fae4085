"""Engine and session factory; the schema is created and upgraded by Alembic, never by create_all."""
from __future__ import annotations

import os
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker

DEFAULT_URL = "sqlite:///zerocarbon.sqlite"


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("ZEROCARBON_DB", DEFAULT_URL)


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    engine = create_engine(url, future=True)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _fk_on(dbapi_conn, _record):  # SQLite ignores foreign keys unless asked
            dbapi_conn.execute("PRAGMA foreign_keys=ON")
    return engine


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
