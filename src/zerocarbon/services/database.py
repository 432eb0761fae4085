"""Open the application database for a use case: resolve the URL, check it can be reached, migrate it."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import sessionmaker

from zerocarbon.errors import StorageError
from zerocarbon.store.db import database_url, make_engine, session_factory, upgrade


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise StorageError(f"'{url}' is not a database URL; use e.g. sqlite:///zerocarbon.sqlite or "
                           "postgresql+psycopg://user@host/db") from None


def _sqlite_file(parsed: URL) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database).expanduser().resolve()
    return None


def exists(url: str | None = None) -> bool:
    """False only for a SQLite file that is not there (a server database cannot be told apart without a
    connection; opening it says whether it answers)."""
    path = _sqlite_file(_parse(database_url(url)))
    return path is None or path.is_file()


def open_sessions(url: str | None = None, create: bool = True, meter_org: str | None = None) -> sessionmaker:
    """A session factory on the migrated database at ``url`` (default: $ZEROCARBON_DB or ./zerocarbon.sqlite).

    With ``create=False`` a SQLite file that does not exist is an error rather than a new empty database:
    commands that only read (or change what is stored) would otherwise leave an empty file behind a typo.

    ``meter_org`` names the organisation of meters and readings stored before they carried one, for a
    database holding several organisations or none (``zerocarbon db upgrade --org``).

    Raises StorageError, with what to check, when the URL is malformed, a SQLite file's folder does not
    exist, the file does not exist and ``create`` is false, or the server does not answer.
    """
    url = database_url(url)
    parsed = _parse(url)
    path = _sqlite_file(parsed)
    if path is not None:
        if not path.parent.is_dir():
            raise StorageError(f"folder {path.parent} of the SQLite database does not exist; create it or choose "
                               "another --db")
        if not create and not path.exists():
            raise StorageError(f"no database at {path}; load an organisation first with `zerocarbon org load`")
        if path.is_dir():
            raise StorageError(f"{path} is a folder, not a SQLite database file; choose another --db")
    engine = make_engine(url)
    try:
        upgrade(engine, meter_org)
    except StorageError:
        engine.dispose()
        raise
    except OperationalError as exc:
        engine.dispose()
        raise StorageError(f"cannot open the database {parsed.render_as_string(hide_password=True)}: "
                           f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}") from None
    return session_factory(engine)
