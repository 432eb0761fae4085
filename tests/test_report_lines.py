"""A stored inventory reports each site on the lines of the standard it declares (GHG Protocol or GB/T 32150).

Before, `Methodology.GBT_32150` was stored with the site and changed nothing the user could see."""
from pathlib import Path

import pytest

from zerocarbon.services import accounting

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_gbt32150_site_reports_its_categories_with_location_based_electricity(sessions):
    accounting.load_organisation_file(sessions, EXAMPLES / "organisation.yaml", actor="test")
    for kind in ("electricity", "generation", "fuel", "refrigerant", "instrument"):
        accounting.import_file(sessions, "ACME", kind, EXAMPLES / f"{kind}_2025.csv", 2025, "CN-2025.1", actor="test")
    result = accounting.compute(sessions, "ACME", 2025, "CN-2025.1", actor="test")
    meta = accounting.inventory_meta(sessions, "ACME", 2025)
    assert meta["methodology"] == {"CD01": "gbt32150", "TJ01": "ghg_protocol"}
    cd01, tj01 = meta["report_lines"]["CD01"], meta["report_lines"]["TJ01"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in line) for line in cd01)  # GB/T lines, in Chinese
    assert not any("market" in line for line in cd01)
    loc = result.by("site", "scope")
    site_total = float(loc.loc[loc["site"] == "CD01", "co2e_t"].sum())
    assert sum(cd01.values()) == pytest.approx(site_total)
    assert "Scope 2 (market-based): purchased electricity" in tj01


def test_site_totals_are_summed_by_the_database_and_add_up_to_the_inventory(sessions):
    """The dashboard's per-site table loaded the whole ledger into pandas for a few sums; the database sums them."""
    accounting.load_organisation_file(sessions, EXAMPLES / "organisation.yaml", actor="test")
    for kind in ("electricity", "fuel", "refrigerant", "instrument"):
        accounting.import_file(sessions, "ACME", kind, EXAMPLES / f"{kind}_2025.csv", 2025, "CN-2025.1", actor="test")
    totals = accounting.compute(sessions, "ACME", 2025, "CN-2025.1", actor="test").totals()
    sites = accounting.site_totals(sessions, "ACME", 2025)
    assert [s.site for s in sites] == ["CD01", "TJ01"]
    assert sum(s.scope1 for s in sites) == pytest.approx(totals["scope1_t"])
    assert sum(s.scope2_location for s in sites) == pytest.approx(totals["scope2_location_t"])
    assert sum(s.scope2_market for s in sites) == pytest.approx(totals["scope2_market_t"])
