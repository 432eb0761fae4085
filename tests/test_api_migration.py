"""Migration 0006 creates exactly the users, memberships, tokens and login tables the models declare, and
downgrades cleanly, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from tests.conftest import BACKENDS, blank_engine, check_migration_round_trip

TABLES = {"users", "memberships", "api_tokens", "login_sessions", "login_failures"}


@pytest.mark.parametrize("kind", BACKENDS)
def test_0006_matches_the_models_and_downgrades(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        check_migration_round_trip(engine, TABLES, "0005")
