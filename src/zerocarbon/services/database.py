"""Open the application database for a use case: resolve the URL, check it can be reached, migrate it."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import sessionmaker

from zerocarbon.errors import StorageError
from zerocarbon.store.db import database_url, make_engine, session_factory, upgrade


def open_sessions(url: str | None = None) -> sessionmaker:
    """A session factory on the migrated database at ``url`` (default: $ZEROCARBON_DB or ./zerocarbon.sqlite).

    Raises StorageError, with what to check, when the URL is malformed, a SQLite file's folder does not
    exist, or the server does not answer.
    """
    url = database_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"'{url}' is not a database URL; use e.g. sqlite:///zerocarbon.sqlite or "
                           "postgresql+psycopg://user@host/db") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise StorageError(f"folder {folder} of the SQLite database does not exist; create it or choose "
                               "another --db")
    engine = make_engine(url)
    try:
        upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        raise StorageError(f"cannot open the database {parsed.render_as_string(hide_password=True)}: "
                           f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}") from None
    return session_factory(engine)
