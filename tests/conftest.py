"""Shared fixtures. Database tests run on SQLite always and on PostgreSQL where one answers."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from zerocarbon.core.factors import load_factor_set
from zerocarbon.core.model import Organisation, Site
from tests.services import require_service
from zerocarbon.store.db import make_engine, session_factory, upgrade

DATA = Path(__file__).parent / "data"
PG_URL = os.environ.get("ZEROCARBON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> bool:
    try:
        with create_engine(PG_URL, connect_args={"connect_timeout": 2}).connect() as c:
            c.execute(text("select 1"))
        return True
    except Exception:
        return False


PG = _pg_available()


@pytest.fixture(scope="session")
def cn():
    return load_factor_set("CN-2025.1")


@pytest.fixture(scope="session")
def epa():
    return load_factor_set("EPA-2025.1")


@pytest.fixture
def org():
    return Organisation("ORG", "Test org", (
        Site("TJ01", "Tianjin", province="天津", grid_region="north"),
        Site("HF01", "Hefei", province="安徽", grid_region="east", equity_share=0.51,
             operational_control=True, financial_control=False),
    ))


@contextmanager
def blank_engine(kind: str, tmp_path):
    """An empty database, not migrated: a SQLite file, or a private schema in the PostgreSQL test database."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 't.sqlite'}")
        yield engine
        engine.dispose()
        return
    if not PG:
        require_service("PostgreSQL", f"PostgreSQL not reachable at {PG_URL}")
    schema = f"zc_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f"create schema {schema}"))
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def sessions(request, tmp_path):
    """A migrated, empty database on each backend."""
    with blank_engine(request.param, tmp_path) as engine:
        upgrade(engine)
        yield session_factory(engine)


@pytest.fixture
def db(sessions):
    """A migrated database holding the organisation of tests/data/organisation.yaml."""
    from zerocarbon.services import accounting

    accounting.load_organisation_file(sessions, DATA / "organisation.yaml", actor="test")
    return sessions


def stored_activities(sessions) -> int:
    from sqlalchemy import func, select

    from zerocarbon.store.tables import ActivityRow

    with sessions() as s:
        return s.scalar(select(func.count()).select_from(ActivityRow))


@pytest.fixture
def cheap_passwords():
    """Argon2 at a test cost (the production cost is checked once, in test_api_auth)."""
    from tests.api_support import fast_passwords

    with fast_passwords():
        yield


@pytest.fixture
def acme(sessions, cheap_passwords):
    """Organisation ACME with alice@acme.cn as its energy manager."""
    from tests.api_support import load_org, person

    load_org(sessions, "ACME")
    person(sessions, "alice@acme.cn", "ACME", "energy_manager")
    return sessions


def alembic_config(conn):
    """The product's Alembic configuration on an open connection, for tests that step through revisions."""
    from importlib import resources

    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("zerocarbon.store") / "migrations"))
    cfg.attributes["connection"] = conn
    return cfg


def check_migration_round_trip(engine, tables: set[str], down_to: str, columns: tuple[tuple[str, str], ...] = ()):
    """A migration's tables (and the ``(table, column)`` pairs it adds to older tables) match the models at head,
    downgrading to ``down_to`` removes them, and upgrading again restores them. The models' modules must be
    imported so that their tables are on ``Base``: all of them are, so the result does not depend on which other
    tests ran first."""
    import importlib
    import pkgutil

    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    import zerocarbon.store
    from zerocarbon.store.tables import Base

    for module in pkgutil.iter_modules(zerocarbon.store.__path__):
        if not module.ispkg:
            importlib.import_module(f"zerocarbon.store.{module.name}")

    names = set(tables) | {name for pair in columns for name in pair}
    upgrade(engine)
    with engine.connect() as conn:
        diff = [d for d in compare_metadata(MigrationContext.configure(conn), Base.metadata)
                if any(n in str(d) for n in names)]
    assert diff == []
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), down_to)
    assert not tables & set(inspect(engine).get_table_names())
    for table, column in columns:
        assert column not in {c["name"] for c in inspect(engine).get_columns(table)}
    upgrade(engine)
    assert tables <= set(inspect(engine).get_table_names())
    for table, column in columns:
        assert column in {c["name"] for c in inspect(engine).get_columns(table)}


def connections_in_zone(engine, zone: str = "Asia/Shanghai") -> None:
    """Every new PostgreSQL connection of ``engine`` in time zone ``zone``: instants must not depend on it."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _zone(dbapi_conn, _record):
        dbapi_conn.execute(f"SET TIME ZONE '{zone}'")
        dbapi_conn.commit()

    engine.dispose()

