"""Revision 0011 on a database written before it, on SQLite and PostgreSQL: a login session, an API token and a
failed login stored with naive UTC stamps read back as the same UTC instants, so the session still logs in and
ends at the instant it was given, and the token still authenticates."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.conftest import BACKENDS, alembic_config, blank_engine, connections_in_zone
from zerocarbon.errors import AuthenticationError
from zerocarbon.services import auth, users
from zerocarbon.store.db import session_factory, upgrade
from zerocarbon.store.tables import Base
from zerocarbon.store.users import ApiTokenRow, LoginFailureRow, LoginSessionRow, UserRow

TABLES = ("users", "memberships", "api_tokens", "login_sessions", "login_failures")
# Naive UTC, as written before 0011: a login an hour old, so it is still valid now.
CREATED = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
EXPIRES = CREATED + auth.SESSION_LIFETIME


def _old_database(engine) -> tuple[str, str]:
    """Revision 0010 with a person, their membership, a login session, an API token and a failed login, written as
    the code before 0011 wrote them (naive UTC). Returns the session's and the token's secrets."""
    session_key, session_secret = users.new_secret(auth.SESSION_PREFIX)
    token_key, token_secret = users.new_secret(users.TOKEN_PREFIX)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0010")
        conn.execute(text("INSERT INTO organisations (code, name) VALUES ('ACME', 'ACME')"))
        org = conn.execute(text("SELECT id FROM organisations")).scalar()
        conn.execute(text("INSERT INTO users (email, display_name, password_hash, active, locale, created_at, "
                          "created_by) VALUES ('a@acme.cn', 'A', 'x', :t, 'en', :at, 'cli')"),
                     {"t": True, "at": CREATED})
        user = conn.execute(text("SELECT id FROM users")).scalar()
        conn.execute(text("INSERT INTO memberships (user_id, organisation_id, role, created_at, created_by) VALUES "
                          "(:u, :o, 'viewer', :at, 'cli')"), {"u": user, "o": org, "at": CREATED})
        conn.execute(text("INSERT INTO login_sessions (key_id, secret_hash, csrf_hash, user_id, created_at, "
                          "expires_at, ip) VALUES (:k, :h, 'c', :u, :at, :exp, '127.0.0.1')"),
                     {"k": session_key, "h": users.sha256(session_secret), "u": user, "at": CREATED,
                      "exp": EXPIRES})
        conn.execute(text("INSERT INTO api_tokens (organisation_id, name, key_id, secret_hash, scopes, created_at, "
                          "created_by, last_used_at) VALUES (:o, 'meter', :k, :h, '[\"energy.read\"]', :at, 'cli', "
                          ":at)"), {"o": org, "k": token_key, "h": users.sha256(token_secret), "at": CREATED})
        conn.execute(text("INSERT INTO login_failures (email, ip, at) VALUES ('a@acme.cn', '127.0.0.1', :at)"),
                     {"at": CREATED})
    return session_secret, token_secret


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_session_stored_before_0011_still_logs_in_and_ends_at_its_instant(kind, tmp_path, monkeypatch):
    with blank_engine(kind, tmp_path) as engine:
        session_secret, token_secret = _old_database(engine)
        if kind == "postgresql":
            # Connections in another zone: the naive values must still be taken as UTC, not as local time.
            connections_in_zone(engine)
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() >= "0011"
            diff = [d for d in compare_metadata(MigrationContext.configure(conn), Base.metadata)
                    if any(t in str(d) for t in TABLES)]
            assert diff == []
            if kind == "postgresql":
                types = conn.execute(text(
                    "SELECT DISTINCT data_type FROM information_schema.columns WHERE table_schema = current_schema()"
                    " AND table_name IN ('users', 'memberships', 'api_tokens', 'login_sessions', 'login_failures')"
                    " AND data_type LIKE 'timestamp%'")).scalars().all()
                assert types == ["timestamp with time zone"]
            with Session(bind=conn) as s:
                row = s.scalar(select(LoginSessionRow))
                token = s.scalar(select(ApiTokenRow))
                failure = s.scalar(select(LoginFailureRow))
                user = s.scalar(select(UserRow))
        utc = timezone.utc
        assert (row.created_at, row.expires_at) == (CREATED.replace(tzinfo=utc), EXPIRES.replace(tzinfo=utc))
        assert token.last_used_at == failure.at == user.created_at == CREATED.replace(tzinfo=utc)

        sessions = session_factory(engine)
        assert auth.from_session(sessions, session_secret).name == "a@acme.cn"
        assert auth.from_token(sessions, token_secret).scopes == frozenset({"energy.read"})
        with sessions.begin() as s:  # its last use is written now, as an instant
            assert s.scalar(select(ApiTokenRow.last_used_at)) > CREATED.replace(tzinfo=utc)
        monkeypatch.setattr(auth, "now", lambda: EXPIRES.replace(tzinfo=utc) - timedelta(seconds=1))
        assert auth.from_session(sessions, session_secret).name == "a@acme.cn"
        monkeypatch.setattr(auth, "now", lambda: EXPIRES.replace(tzinfo=utc))
        with pytest.raises(AuthenticationError, match="ended"):
            auth.from_session(sessions, session_secret)

        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0010")
        with engine.connect() as conn:
            at = conn.execute(text("SELECT at FROM login_failures")).scalar()
        assert at in (CREATED, str(CREATED), CREATED.isoformat(sep=" "))  # naive UTC again
        upgrade(engine)
