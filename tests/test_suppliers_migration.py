"""Migration 0013 creates exactly the supplier tables and the memberships.supplier_code column the models declare,
and downgrades cleanly, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import zerocarbon.store.suppliers as _supplier_tables
from tests.conftest import BACKENDS, alembic_config, blank_engine
from zerocarbon.store.db import upgrade
from zerocarbon.store.tables import Base

TABLES = {"suppliers", "supply_settings", "supplier_campaigns", "supplier_requests", "supplier_evidence",
          "supplier_submissions", "supplier_answers", "supplier_projects"}


@pytest.mark.parametrize("kind", BACKENDS)
def test_0013_matches_the_models_and_downgrades(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        upgrade(engine)
        with engine.connect() as conn:
            diff = [d for d in compare_metadata(MigrationContext.configure(conn), Base.metadata)
                    if any(t in str(d) for t in TABLES | {"memberships", "supplier_code"})]
        assert diff == []
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0011")
        assert not TABLES & set(inspect(engine).get_table_names())
        assert "supplier_code" not in {c["name"] for c in inspect(engine).get_columns("memberships")}
        upgrade(engine)
        assert TABLES <= set(inspect(engine).get_table_names())


assert _supplier_tables.__name__  # imported for its tables on Base
