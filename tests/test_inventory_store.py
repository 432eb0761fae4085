"""Stored inventories: pinned factor sets, closed years, recalculation with a recorded reason."""
from pathlib import Path

import pytest
from sqlalchemy import select

from zerocarbon.core.ghg.base_year import BaseYearChange, ChangeKind, assess_recalculation
from zerocarbon.errors import ClosedInventoryError
from zerocarbon.services import accounting
from zerocarbon.store.tables import AuditRow

DATA = Path(__file__).parent / "data"


@pytest.fixture
def db(sessions):
    accounting.load_organisation_file(sessions, DATA / "organisation.yaml", actor="test")
    for kind in ("electricity", "fuel", "instrument"):
        accounting.import_file(sessions, "ORG", kind, DATA / f"{kind}_ok.csv", 2023, "CN-2025.1", actor="test")
    return sessions


def test_stored_ledger_equals_computed(db):
    result = accounting.compute(db, "ORG", 2023, "CN-2025.1", actor="test")
    meta, ledger = accounting.stored_ledger(db, "ORG", 2023)
    assert meta["totals"]["total_market_t"] == pytest.approx(result.totals()["total_market_t"])
    assert ledger["co2e_t"].sum() == pytest.approx(result.ledger["co2e_t"].sum())
    assert len(ledger) == len(result.ledger) and meta["fingerprint"] == result.factor_set_fingerprint


def test_closed_year_does_not_change_silently(db):
    accounting.compute(db, "ORG", 2023, "CN-2025.1", "AR5", actor="test")
    accounting.close_inventory(db, "ORG", 2023, actor="test")
    accounting.compute(db, "ORG", 2023, "CN-2025.1", "AR5", actor="test")  # same inputs, same set: allowed, unchanged
    with pytest.raises(ClosedInventoryError, match="closed"):
        accounting.compute(db, "ORG", 2023, "CN-2025.1", "AR6", actor="test")
    accounting.compute(db, "ORG", 2023, "CN-2025.1", "AR6", recalculation_reason="switch to AR6 GWPs (policy 2026)", actor="test")
    meta, _ = accounting.stored_ledger(db, "ORG", 2023)
    assert meta["gwp_set"] == "AR6" and meta["status"] == "closed"
    with db() as s:
        actions = [a.action for a in s.scalars(select(AuditRow).order_by(AuditRow.id))]
    assert "inventory.recalculate" in actions and actions.count("import") == 3


def test_base_year_significance():
    # Acquisition adds 600 t and a discovered error removes 200 t from a 10,000 t base year:
    # cumulative 800 t = 8 % > 5 % -> recalculate to 10,400 t. Organic growth never counts.
    changes = [BaseYearChange(ChangeKind.STRUCTURAL, 600, "acquired plant"),
               BaseYearChange(ChangeKind.ERROR, -200, "meter multiplier"),
               BaseYearChange(ChangeKind.ORGANIC_GROWTH, 5000, "more output")]
    d = assess_recalculation(10_000, changes, 0.05)
    assert d.recalculate and d.relative_change == pytest.approx(0.08) and d.recalculated_base_t == 10_400
    assert not assess_recalculation(10_000, changes[1:], 0.05).recalculate
