"""Migration 0017 creates exactly the target tables the models declare and downgrades cleanly, on SQLite and
PostgreSQL."""
from __future__ import annotations

import pytest

from tests.conftest import BACKENDS, blank_engine, check_migration_round_trip

TABLES = {"targets", "target_outputs"}


@pytest.mark.parametrize("kind", BACKENDS)
def test_0017_matches_the_models_and_downgrades(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        check_migration_round_trip(engine, TABLES, "0016")
