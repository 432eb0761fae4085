"""Revision 0015 creates the assessment tables exactly as the models declare them, and downgrades cleanly, on SQLite
and PostgreSQL."""
from __future__ import annotations

import pytest

from zerocarbon.store import assessments as models
from tests.conftest import BACKENDS, blank_engine, check_migration_round_trip

TABLES = {m.__tablename__ for m in (models.IndexSystemRow, models.AssessmentRow, models.ManualEntryRow)}


@pytest.mark.parametrize("kind", BACKENDS)
def test_0015_matches_the_models_and_downgrades(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        check_migration_round_trip(engine, TABLES, "0014")
