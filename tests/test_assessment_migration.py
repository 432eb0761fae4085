"""Revision 0015 creates the assessment tables exactly as the models declare them, and downgrades cleanly, on SQLite
and PostgreSQL."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import BACKENDS, alembic_config, blank_engine
from zerocarbon.store import assessments as models
from zerocarbon.store.db import upgrade
from zerocarbon.store.tables import Base

TABLES = {m.__tablename__ for m in (models.IndexSystemRow, models.AssessmentRow, models.ManualEntryRow)}


@pytest.mark.parametrize("kind", BACKENDS)
def test_0015_matches_the_models_and_downgrades(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        upgrade(engine)
        with engine.connect() as conn:
            diff = [d for d in compare_metadata(MigrationContext.configure(conn), Base.metadata)
                    if any(t in str(d) for t in TABLES)]
        assert diff == []
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0014")
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert TABLES <= set(inspect(engine).get_table_names())
