"""Supply-chain activity files are validated row by row: every broken rule is refused with file, row and column,
and nothing is imported (all-or-nothing)."""
from __future__ import annotations

import pandas as pd
import pytest

from zerocarbon.core.ghg.overlaps import against, within
from zerocarbon.errors import InputError
from zerocarbon.io.schemas import SCHEMAS
from zerocarbon.io.tables import read_table, validate

SITES = {"TJ01"}


def example(kind: str) -> dict:
    return {c.name: c.example for c in SCHEMAS[kind]}


def refused(kind: str, rows: list[dict], tmp_path, year=2025) -> set[tuple]:
    path = tmp_path / f"{kind}.csv"
    pd.DataFrame(rows, dtype=str).to_csv(path, index=False)
    with pytest.raises(InputError) as exc:
        validate(kind, read_table(path), path.name, SITES, year)
    return {(p.source, p.row, p.column, p.reason) for p in exc.value.problems}


def test_examples_import_under_english_and_chinese_headers(tmp_path):
    for kind in ("purchase", "shipment", "waste", "travel", "commute", "product_use", "product_eol", "packaging",
                 "takeback"):
        row = example(kind)
        zh = {next(c for c in SCHEMAS[kind] if c.name == k).aliases[0]: v for k, v in row.items()}
        path = tmp_path / f"{kind}.csv"
        pd.DataFrame([zh], dtype=str).to_csv(path, index=False)
        out = validate(kind, read_table(path), path.name, SITES, 2025)
        assert out["activity_id"].tolist() == [f"{kind}.csv:2"]


SPEND_ONLY = {"quantity": "", "unit": "", "material": "", "supplier_co2e": "", "supplier_co2e_unit": "",
              "supplier_scope12_co2e": "", "pcf_id": "", "evidence": ""}


@pytest.mark.parametrize("kind,cells,column,words", [
    ("purchase", SPEND_ONLY | {"currency": ""}, "currency", "required with the spend-based method"),
    ("purchase", SPEND_ONLY | {"spend": "", "currency": "", "price_year": "", "eeio_code": ""}, "spend",
     "no complete method"),
    ("purchase", {"evidence": ""}, "evidence", "supplier figures need evidence"),
    ("purchase", {"category": "5"}, "category", "'5' is not one of 1, 2"),
    ("purchase", SPEND_ONLY | {"eeio_code": "3341"}, "eeio_code", "is not a NAICS-6 code"),
    ("purchase", SPEND_ONLY | {"currency": "kg"}, "currency", "unit 'kg' is not a currency"),
    ("purchase", SPEND_ONLY | {"spend": "-5"}, "spend", "negative value -5.0 is not allowed"),
    ("purchase", {"supplier_co2e_unit": "kg"}, "supplier_co2e_unit", "is not a CO2e mass"),
    ("purchase", {"supplier_co2e_unit": "kgCO2e/kWh"}, "unit",
     "quantity in 'kg' cannot be used with supplier_co2e_unit 'kgCO2e/kWh', which is per kWh"),
    ("purchase", SPEND_ONLY | {"supplier_scope12_co2e": "640", "supplier_co2e_unit": "kgCO2e", "evidence": "CDP",
                               "spend": "", "currency": "", "price_year": "", "eeio_code": ""},
     "supplier_scope12_co2e", "the hybrid method adds the supplier's inputs"),
    ("shipment", {"distance": "", "destination_lon": ""}, "destination_lon", "required when no distance is given"),
    ("shipment", {"category": "2"}, "category", "'2' is not one of 4, 9"),
    ("shipment", {"mode": "pipeline"}, "mode", "is not one of road, rail, sea, inland_waterway, air"),
    ("shipment", {"mass_unit": "km"}, "mass_unit", "unit 'km' is not a mass unit"),
    ("shipment", {"origin_lon": "190"}, "origin_lon", "beyond the ceiling of 180"),
    ("shipment", {"fuel": ""}, "fuel", "required with the fuel-based method"),
    ("shipment", {"carrier_co2e_unit": ""}, "carrier_co2e_unit", "required with carrier_co2e"),
    ("shipment", {"mass": "2e7"}, "mass", "beyond the ceiling of 1e+07 t"),
    ("waste", {"treatment": "burning"}, "treatment", "is not one of landfill"),
    ("travel", {"travellers": "", "spend": "", "currency": "", "price_year": "", "eeio_code": "", "hotel": "",
                "nights": ""}, "travellers", "required with the distance-based method"),
    ("commute", {"days": "400"}, "days", "beyond the ceiling of 366"),
    ("product_use", {"market": "China"}, "market", "is not an ISO 3166-1 alpha-2 country code"),
    ("product_use", {"energy_unit": "kg"}, "energy_unit", "is not an energy unit"),
    ("packaging", {"recycled_share": "1.2"}, "recycled_share", "1.2 is not a fraction between 0 and 1"),
    ("takeback", {"recycled": "9"}, "recycled", "recycled 9 is more than collected 4.1"),
    ("takeback", {"placed_on_market": "2"}, "collected", "collected 4.1 is more than placed_on_market 2"),
])
def test_each_rule_is_refused_at_its_row_and_column(tmp_path, kind, cells, column, words):
    good = example(kind)
    problems = refused(kind, [good, good | cells | {"site": "TJ01"}], tmp_path)
    hits = [p for p in problems if p[1] == 3 and p[2] == column and words in p[3]]
    assert hits, problems
    assert all(p[1] == 3 for p in problems)  # the good row 2 is not blamed


def test_shipment_leg_imported_twice_is_a_double_count():
    a = validate("shipment", pd.DataFrame([example("shipment")], dtype=str), "a.csv", SITES)
    later = example("shipment") | {"period_start": "2025-03-01", "period_end": "2025-03-31", "mass": "13"}
    b = validate("shipment", pd.DataFrame([later], dtype=str), "b.csv", SITES)
    clash = against("shipment", b, a)
    assert len(clash) == 1 and "the same shipment leg" in clash[0][2]
    both = pd.concat([a, b], ignore_index=True)
    assert len(within("shipment", both)) == 1
    other_leg = validate("shipment", pd.DataFrame([later | {"leg": "2"}], dtype=str), "c.csv", SITES)
    assert against("shipment", other_leg, a) == []


def test_keys_without_a_factor_in_the_set_are_refused_at_import(tmp_path):
    from zerocarbon.core.factors import load_factor_set

    fs = load_factor_set("CN-2025.1")
    cases = [("purchase", {"eeio_code": "999999"}, "eeio_code", "no eeio factor"),
             ("purchase", {"material": "unobtainium"}, "material", "no material factor"),
             ("shipment", {"vehicle": "hovercraft"}, "vehicle", "no freight factor"),
             ("shipment", {"mode": "inland_waterway", "vehicle": ""}, "mode", "no freight factor"),
             ("waste", {"treatment": "composting", "material": "glass"}, "material", "no waste factor"),
             ("travel", {"mode": "teleport"}, "mode", "no travel factor"),
             ("travel", {"hotel": "ZZ"}, "hotel", "no travel factor"),
             ("product_use", {"market": "ZZ"}, "market", "no grid factor for market ZZ"),
             ("shipment", {"fuel_unit": "L"}, "fuel_unit", "gas_diesel_oil")]
    for kind, cells, column, words in cases:
        path = tmp_path / f"{kind}.csv"
        pd.DataFrame([example(kind) | cells], dtype=str).to_csv(path, index=False)
        with pytest.raises(InputError) as exc:
            validate(kind, read_table(path), path.name, SITES, 2025, fs)
        found = {(p.row, p.column) for p in exc.value.problems if words in p.reason}
        assert found == {(2, column)}, (kind, exc.value.problems)
    for kind in ("purchase", "shipment", "waste", "travel", "commute", "product_use", "product_eol", "takeback"):
        validate(kind, pd.DataFrame([example(kind)], dtype=str), "ok.csv", SITES, 2025, fs)
