"""Migration 0016 creates exactly the credit-register and claim tables the models declare, and downgrades cleanly,
on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from tests.conftest import BACKENDS, blank_engine, check_migration_round_trip

TABLES = {"carbon_credits", "neutrality_claims"}


@pytest.mark.parametrize("kind", BACKENDS)
def test_0016_matches_the_models_and_downgrades(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        check_migration_round_trip(engine, TABLES, "0015")
