"""Migration 0013 creates exactly the supplier tables and the memberships.supplier_code column the models declare,
and downgrades cleanly, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from tests.conftest import BACKENDS, blank_engine, check_migration_round_trip

TABLES = {"suppliers", "supply_settings", "supplier_campaigns", "supplier_requests", "supplier_evidence",
          "supplier_submissions", "supplier_answers", "supplier_projects"}


@pytest.mark.parametrize("kind", BACKENDS)
def test_0013_matches_the_models_and_downgrades(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        check_migration_round_trip(engine, TABLES, "0011", columns=(("memberships", "supplier_code"),))
