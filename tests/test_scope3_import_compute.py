"""A supply-chain file is imported only if the inventory can compute it: rows that `inventory compute` (or the
packaging and recycling reports) would refuse are refused at import, with the same file, row and column, and
nothing is stored, so one bad file never blocks the whole inventory until its batch is withdrawn.

The reasons are those of the engine (core.ghg.scope3, core.supply.logistics, core.supply.packaging):
  - spend-based (GHG Protocol Scope 3 Standard ch. 7.2, "Technical Guidance" cat. 1): a spend in CNY of price year
    2025 needs the 2025 annual average CNY/USD rate, which the shipped economics reference does not have yet;
  - average-data: material factors (DESNZ conversion factors "Material use") are per tonne, so a quantity in kWh
    cannot be multiplied by them;
  - supplier-specific: a pcf_id must name a stored PACT footprint and the quantity must be in its declared unit;
  - ISO 14083 / GLEC: a leg given only by coordinates needs the mode's distance adjustment factor;
  - a purchase names a supplier of the organisation's register (when it keeps one);
  - HKEX KPI A2.5: packaging components of one product and period share its units produced.
Then the Scope 3 rows of a computed inventory are explained (`inventory show --explain --scope 3`), `inventory
compute` states the Scope 3 total beside Scope 1+2, and the supplier dimension of the five-dimension overview says
"no data" for a day before any supplier's answer was accepted (never "0 of N compliant").
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.helpers import database_with_org
from zerocarbon.cli import app
from zerocarbon.cli.common import tonnes
from zerocarbon.errors import InputError
from zerocarbon.io.schemas import SCHEMAS
from zerocarbon.services import accounting, footprints, green_supply, suppliers
from zerocarbon.services.database import open_sessions

YEAR = 2025
SET = "CN-2025.1"
PACT = Path(__file__).parent / "data" / "pact" / "coil.json"  # pf_id 3f6d2b1e-..., declared unit kg, 2.1 kg/kg
COIL = "3f6d2b1e-8c4a-4e27-9b1d-5a0c7e9f2d41"
runner = CliRunner()
NO_METHOD = {k: "" for k in ("spend", "currency", "price_year", "eeio_code", "exchange_rate", "quantity", "unit",
                             "material", "supplier_co2e", "supplier_co2e_unit", "supplier_scope12_co2e", "pcf_id",
                             "evidence", "supplier")}
NO_LEG_DATA = {k: "" for k in ("fuel", "fuel_quantity", "fuel_unit", "carrier_co2e", "carrier_co2e_unit")}


def row(kind: str, cells: dict | None = None, **more) -> dict:
    return {c.name: c.example for c in SCHEMAS[kind]} | {"period_start": f"{YEAR}-01-01",
                                                          "period_end": f"{YEAR}-12-31"} | (cells or {}) | more


def write(tmp_path, name: str, rows: list[dict]) -> Path:
    path = tmp_path / name
    pd.DataFrame(rows, dtype=str).to_csv(path, index=False)
    return path


@pytest.fixture
def sessions(tmp_path):
    return open_sessions(database_with_org(tmp_path))


def refused(sessions, tmp_path, kind: str, rows: list[dict], name: str = "f.csv") -> list[tuple]:
    before = accounting.list_batches(sessions, "ORG", YEAR, kind)
    with pytest.raises(InputError) as exc:
        accounting.import_file(sessions, "ORG", kind, write(tmp_path, name, rows), YEAR, SET, actor="t")
    assert accounting.list_batches(sessions, "ORG", YEAR, kind) == before  # nothing stored
    return [(p.source, p.row, p.column, p.reason) for p in exc.value.problems]


GOOD_SPEND = row("purchase", NO_METHOD, item="chassis", spend="1000", currency="CNY", price_year="2020",
                 eeio_code="334111", exchange_rate="")


@pytest.mark.parametrize("kind,bad,column,words", [
    ("purchase", row("purchase", NO_METHOD, item="late", spend="1000", currency="CNY", price_year="2025",
                     eeio_code="334111"),
     "price_year", "no 2025 annual average exchange rate for CNY"),
    ("purchase", row("purchase", NO_METHOD, item="power", quantity="100", unit="kWh", material="hdpe"),
     "unit", "material factors are per t"),
    ("purchase", row("purchase", NO_METHOD, item="coil", quantity="100", unit="kg",
                     pcf_id="00000000-0000-4000-8000-000000000000"),
     "pcf_id", "is not a stored supplier footprint"),
    ("shipment", row("shipment", NO_LEG_DATA, mode="sea", vehicle="", distance="", distance_unit=""),
     "distance", "has none for sea"),
])
def test_rows_the_inventory_cannot_compute_are_refused_at_import(sessions, tmp_path, kind, bad, column, words):
    good = GOOD_SPEND if kind == "purchase" else row("shipment", NO_LEG_DATA, shipment="OK-1")
    problems = refused(sessions, tmp_path, kind, [good, bad])
    assert [(s, r, c) for s, r, c, _ in problems] == [("f.csv", 3, column)]
    assert words in problems[0][3]
    # Without the bad row the file imports and the inventory computes it.
    accounting.import_file(sessions, "ORG", kind, write(tmp_path, "ok.csv", [good]), YEAR, SET, actor="t")
    result = accounting.compute(sessions, "ORG", YEAR, SET, actor="t")
    assert (result.ledger["scope"] == "3").sum() >= 1


def test_a_footprint_quantity_in_another_unit_than_declared_is_refused(sessions, tmp_path):
    footprints.import_file(sessions, "ORG", PACT, actor="t")
    problems = refused(sessions, tmp_path, "purchase", [row("purchase", NO_METHOD, item="coil", quantity="3",
                                                            unit="m", pcf_id=COIL)])
    assert [(s, r, c) for s, r, c, _ in problems] == [("f.csv", 2, "unit")]
    # In the declared unit (kg): supplier-specific, 1 t x 2.1 kgCO2e/kg = 2.1 tCO2e.
    accounting.import_file(sessions, "ORG", "purchase", write(tmp_path, "ok.csv", [
        row("purchase", NO_METHOD, item="coil", quantity="1", unit="t", pcf_id=COIL)]), YEAR, SET, actor="t")
    led = accounting.compute(sessions, "ORG", YEAR, SET, actor="t").ledger
    c1 = led[led["category"] == "c1_purchased_goods"]
    assert list(c1["calc_method"]) == ["supplier_specific"] and c1["co2e_t"].sum() == pytest.approx(2.1)


def test_a_supplier_code_outside_the_register_is_refused(sessions, tmp_path):
    # No register yet: supplier codes are free text.
    accounting.import_file(sessions, "ORG", "purchase", write(tmp_path, "a.csv", [GOOD_SPEND | {"supplier": "X-1"}]),
                           YEAR, SET, actor="t")
    suppliers.import_suppliers(sessions, "ORG", "suppliers.csv", b"code,name,tier\nS1,Alpha,1\nS2,Beta,2\n",
                               actor="t")
    problems = refused(sessions, tmp_path, "purchase", [GOOD_SPEND | {"item": "a", "supplier": "S1"},
                                                        GOOD_SPEND | {"item": "b", "supplier": "S9"}], "b.csv")
    assert [(s, r, c) for s, r, c, _ in problems] == [("b.csv", 3, "supplier")]
    assert "'S9' is not in the supplier register of ORG (2 suppliers" in problems[0][3]
    assert accounting.list_batches(sessions, "ORG", YEAR, "purchase")[0].source == "a.csv"


def test_packaging_components_stating_different_units_produced_are_refused(sessions, tmp_path):
    laptop = row("packaging", product="LAPTOP-A", units="10000", material="paper_board", mass_per_unit="0.8")
    foam = laptop | {"material": "plastics_average", "mass_per_unit": "50", "unit": "g", "plastic": "true"}
    problems = refused(sessions, tmp_path, "packaging", [laptop, foam | {"units": "9000"}])
    assert [(s, r, c) for s, r, c, _ in problems] == [("f.csv", 2, "units")]
    assert "different units produced (f.csv:2 has 10000, f.csv:3 has 9000)" in problems[0][3]
    # Across files too: a component added later must state the units of the stored ones.
    accounting.import_file(sessions, "ORG", "packaging", write(tmp_path, "box.csv", [laptop]), YEAR, SET, actor="t")
    with pytest.raises(InputError) as exc:
        accounting.import_file(sessions, "ORG", "packaging", write(tmp_path, "foam.csv", [foam | {"units": "9000"}]),
                               YEAR, SET, actor="t")
    assert [(p.source, p.row, p.column) for p in exc.value.problems] == [("foam.csv", 2, "units")]
    assert [b.source for b in accounting.list_batches(sessions, "ORG", YEAR, "packaging")] == ["box.csv"]
    accounting.import_file(sessions, "ORG", "packaging", write(tmp_path, "foam.csv", [foam]), YEAR, SET, actor="t")
    report, _ = green_supply.packaging(sessions, "ORG", YEAR)
    laptops = report.by_product[0]
    assert laptops.units_produced == 10000 and laptops.kg_per_unit == pytest.approx(0.85)  # 0.8 kg + 50 g


def test_scope_1_and_2_imports_are_not_computed_at_import(sessions, tmp_path, monkeypatch):
    def fail(*a, **k):
        raise AssertionError("compute_inventory called for a Scope 1/2 import")

    monkeypatch.setattr(accounting, "compute_inventory", fail)
    path = write(tmp_path, "e.csv", [{"site": "TJ01", "meter": "M1", "period_start": "2025-01-01",
                                      "period_end": "2025-12-31", "quantity": "1000", "unit": "kWh"}])
    assert accounting.import_file(sessions, "ORG", "electricity", path, YEAR, SET, actor="t").rows == 1


def _cli(sessions, monkeypatch, *args):
    from zerocarbon.cli.common import console

    monkeypatch.setattr("zerocarbon.cli.accounting._stored", lambda db: sessions)
    monkeypatch.setattr(console, "width", 250)
    r = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    return r.output


def test_scope3_rows_are_explained_and_compute_states_the_scope3_total(sessions, tmp_path, monkeypatch):
    # A 12.5 t, 1,210 km road leg: distance-based, 12.5 x 1210 = 15,125 t.km.
    leg = row("shipment", NO_LEG_DATA)
    accounting.import_file(sessions, "ORG", "shipment", write(tmp_path, "legs.csv", [leg]), YEAR, SET, actor="t")
    out = _cli(sessions, monkeypatch, "inventory", "compute", "--org", "ORG", "--year", str(YEAR))
    result = accounting.inventory_meta(sessions, "ORG", YEAR)
    scope3_t = result["totals"]["scope3_t"]
    assert scope3_t > 0
    assert f"Scope 3 (beside Scope 1+2, not in them): {tonnes(scope3_t)} tCO2e" in out
    assert "zerocarbon inventory scope3 --org ORG --year 2025" in out
    for filt in (["--scope", "3"], ["--category", "c4_upstream_transport"]):
        out = _cli(sessions, monkeypatch, "inventory", "show", "--org", "ORG", "--year", str(YEAR), "--explain",
                   *filt)
        assert "method=scope3" in out and "0 ledger rows" not in out
        assert "legs.csv row 2" in out and "Scope 3 distance_based, DQ" in out
    out = json.loads(_cli(sessions, monkeypatch, "inventory", "show", "--org", "ORG", "--year", str(YEAR),
                          "--explain", "--scope", "3", "--json"))
    assert out["explain"]["total_co2e_t"] == pytest.approx(scope3_t)
    assert {r["calc_method"] for r in out["explain"]["rows"]} == {"distance_based"}


def test_compute_without_scope3_rows_prints_no_scope3_line(sessions, tmp_path, monkeypatch):
    # Electricity alone under CN-2025.1: Scope 2; its upstream (category 3) is a disclosed exclusion, as the set
    # has no WTT or T&D factors for CN, so the inventory has no Scope 3 row.
    path = write(tmp_path, "e.csv", [{"site": "TJ01", "meter": "M1", "period_start": "2025-01-01",
                                      "period_end": "2025-12-31", "quantity": "1000", "unit": "kWh"}])
    accounting.import_file(sessions, "ORG", "electricity", path, YEAR, SET, actor="t")
    out = _cli(sessions, monkeypatch, "inventory", "compute", "--org", "ORG", "--year", str(YEAR))
    assert accounting.inventory_meta(sessions, "ORG", YEAR)["totals"]["scope3_t"] == 0.0
    assert "Scope 3 (beside" not in out and "zerocarbon inventory scope3" not in out


def test_supplier_dimension_has_no_data_before_any_answer_was_accepted(sessions, monkeypatch):
    suppliers.import_suppliers(sessions, "ORG", "s.csv", b"code,name,tier\nS1,Alpha,1\nS2,Beta,2\n", actor="t")
    o = green_supply.overview(sessions, "ORG", 2023)["suppliers"]
    assert o["status"] == "no data" and "no supplier had an accepted answer on 2023-12-31" in o["reason"]
    answers = b"indicator,value,unit,evidence_ref,evidence_file,valid_until\nrenewable_share,45,%,,ppa.pdf,\n"
    sub = suppliers.submit(sessions, "ORG", "S1", "answers.csv", answers, {"ppa.pdf": b"PPA"}, actor="t")
    suppliers.review(sessions, "ORG", sub["id"], True, actor="t")
    today = date.today()
    assert green_supply.overview(sessions, "ORG", 2023)["suppliers"]["status"] == "no data"
    now = green_supply.overview(sessions, "ORG", today.year)["suppliers"]
    assert now["status"] == "ok" and now["suppliers"] == 2 and now["share_by_count"] is not None
