"""Organisation file: reader, its documentation, the shipped example, and what a site's methodology changes."""
from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers import data, elec, gec
from zerocarbon.core.ghg.inventory import compute_inventory
from zerocarbon.core.model import Methodology
from zerocarbon.errors import InputError
from zerocarbon.io.org import SITE_FIELDS, organisation_markdown, read_organisation

ROOT = Path(__file__).resolve().parents[1]


def test_docs_page_is_generated_from_the_reader():
    """The organisation file format was undocumented; docs/organisation.md must equal what io/org.py reads."""
    assert (ROOT / "docs" / "organisation.md").read_text(encoding="utf-8") == organisation_markdown(), \
        "regenerate: python -c 'from zerocarbon.io.org import organisation_markdown as m; print(m(), end=\"\")' " \
        "> docs/organisation.md"


def test_example_organisation_uses_every_site_field():
    """The README's organisation ACME exists, and its example shows every documented site field."""
    org = read_organisation(ROOT / "examples" / "organisation.yaml")
    assert org.code == "ACME" and {s.code for s in org.sites} == {"TJ01", "CD01"}
    assert org.site("TJ01").province == "天津" and org.site("CD01").methodology is Methodology.GBT_32150
    import yaml
    raw = yaml.safe_load((ROOT / "examples" / "organisation.yaml").read_text(encoding="utf-8"))
    assert set().union(*(set(s) for s in raw["sites"])) == {f.name for f in SITE_FIELDS}


def test_bad_organisation_file_lists_every_problem(tmp_path):
    """Each bad field is named by its path; the string "false" is not read as true."""
    path = tmp_path / "org.yaml"
    path.write_text("code: X\nowner: me\nsites:\n"
                    "  - {code: A, equity_share: 1.5, financial_control: 'false', timezone: Mars/Base}\n"
                    "  - {code: A, grid_region: moon, methodology: iso14064, colour: red}\n"
                    "  - {code: A}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_organisation(path)
    text = str(exc.value)
    for where in ("'owner'", "sites[1].equity_share", "sites[1].financial_control", "sites[1].timezone",
                  "sites[2].grid_region", "sites[2].methodology", "sites[2].colour", "sites[3].code"):
        assert where in text, where
    assert "appears twice" in text
    path.write_text("code: X\nsites: []\n", encoding="utf-8")
    with pytest.raises(InputError, match="at least one site"):
        read_organisation(path)


def _ledger_rows(result):
    led = result.ledger[result.ledger["memo"] == ""]
    g = led.groupby(["site", "scope", "category", "method"], observed=True)["co2e_t"].sum().reset_index()
    return list(g.itertuples(index=False, name=None))


def test_gbt32150_site_reports_its_own_categories_and_location_based_electricity(org, cn):
    """Methodology.GBT_32150 used to be stored and change nothing; now it decides the site's report lines."""
    fuel = {"site": "HF01", "period_start": "2025-01-01", "period_end": "2025-12-31", "fuel": "natural_gas",
            "use": "stationary", "quantity": 10, "unit": "万Nm3", "basis": "", "biogenic": False}
    refr = {"site": "HF01", "period_start": "2025-01-01", "period_end": "2025-12-31", "gas": "HFC-134a",
            "method": "screening", "unit": "kg", "charge": 1000, "annual_leak_rate": 0.02,
            "parameter_source": "test"}
    d = data(electricity=[elec("HF01", 1_000_000)], fuel=[fuel], refrigerant=[refr],
             instrument=[gec("G1", "HF01", 500)])
    result = compute_inventory(org, d, cn, 2025)
    rows = _ledger_rows(result)
    ghg = org.methodology_report(rows)["HF01"]
    gbt_org = replace(org, sites=tuple(replace(s, methodology=Methodology.GBT_32150) for s in org.sites))
    gbt = gbt_org.methodology_report(rows)["HF01"]
    t = result.totals()
    # GHG Protocol: dual Scope 2 reporting; the certificate lowers the market-based line.
    loc, mkt = ghg["Scope 2 (location-based): purchased electricity"], ghg["Scope 2 (market-based): purchased electricity"]
    assert mkt < loc
    # GB/T 32150: its own categories, grid-average electricity only, refrigerant leakage as process emissions.
    assert set(gbt) == {"化石燃料燃烧排放 fuel combustion", "过程排放 process emissions",
                        "购入的电力产生的排放 purchased electricity"}
    assert gbt["购入的电力产生的排放 purchased electricity"] == pytest.approx(loc)
    assert gbt["过程排放 process emissions"] == pytest.approx(ghg["Scope 1: fugitive (refrigerants)"])
    assert sum(gbt.values()) == pytest.approx(t["total_location_t"])
    assert sum(v for k, v in ghg.items() if "market" not in k) == pytest.approx(t["total_location_t"])


def test_unknown_ledger_category_is_refused_not_dropped():
    with pytest.raises(ValueError, match="no report line"):
        Methodology.GBT_32150.reporting_line("3", "business_travel", "both")
    assert Methodology.GBT_32150.reporting_line("2", "purchased_electricity", "market") is None


def test_us_site_takes_its_egrid_subregion(tmp_path):
    """Defect: a US site with grid_region CAMX was refused ("'CAMX' is not one of ['north', ...]"); China's regional
    grids apply only to country CN, other countries' codes are the factor set's."""
    from zerocarbon.core.factors import load_factor_set
    from zerocarbon.core.ghg.inventory import compute_inventory

    path = tmp_path / "org.yaml"
    path.write_text("code: X\nsites:\n  - {code: SF01, country: US, grid_region: CAMX, timezone: America/Los_Angeles}\n"
                    "  - {code: TJ01, province: 天津, grid_region: north}\n", encoding="utf-8")
    org = read_organisation(path)
    assert org.site("SF01").grid_region == "CAMX" and org.site("TJ01").country == "CN"
    d = data(electricity=[{**elec("SF01", 1000), "period_start": "2023-01-01", "period_end": "2023-01-28"}])
    result = compute_inventory(org, d, load_factor_set("US-EGRID-2025.1"), 2023)
    assert set(result.ledger["factor_ids"].astype(str).str.split("@").str[0]) == {
        "EGRID2023.grid.location.US-grid-CAMX.CO2"}


def test_grid_region_is_checked_against_chinas_list_only_for_cn_sites(tmp_path):
    path = tmp_path / "org.yaml"
    path.write_text("code: X\nsites:\n  - {code: A, grid_region: CAMX}\n  - {code: B, country: US, grid_region: 'CA MX!'}\n"
                    "  - {code: C, country: US, grid_region: 12}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_organisation(path)
    problems = {p.column: p.reason for p in exc.value.problems}
    assert set(problems) == {"sites[1].grid_region", "sites[2].grid_region", "sites[3].grid_region"}
    assert "China's regional grids" in problems["sites[1].grid_region"]
    assert "is not a grid-region code" in problems["sites[2].grid_region"]
