"""The Scope 3 report of a stored inventory: stored ledger rows carry their method and data-quality score, and the
report gives every category's tCO2e with its DQ and method mix, "no data" for a category without rows, the share
from supplier data, Scope 1+2 beside it, by site and by supplier; the same from the CLI and the API, on SQLite
and PostgreSQL.

The Scope 3 ledger rows here are written by hand (the engine that computes them has its own tests,
tests/test_scope3_*.py): what is checked is storage and reporting arithmetic. Figures of the worked example:

    category 1, purchases of file p.csv (activity rows 2..4):
      row 2 supplier S-001  supplier_specific  DQ 1.6   2.0 t
      row 3 supplier S-002  spend_based        DQ 4.0   6.0 t
      row 4 (no supplier)   average_data       DQ 3.0   2.0 t
      -> 10.0 t, DQ (2.0 x 1.6 + 6.0 x 4.0 + 2.0 x 3.0) / 10.0 = 3.32, supplier data 2.0 / 10.0 = 20 %
    category 4, shipments of file s.csv (rows 2, 3):
      row 2 distance_based   DQ 3.2   1.5 t;  row 3 carrier_reported DQ 1.8   0.5 t
      -> 2.0 t, DQ (1.5 x 3.2 + 0.5 x 1.8) / 2.0 = 2.85, supplier data 0.5 / 2.0 = 25 %
    category 12, a memo item (avoided emissions of recycling): -0.8 t, outside every total
    Scope 3 = 12.0 t, DQ (33.2 + 5.7) / 12.0 = 3.2416..., supplier data 2.5 / 12.0

The weighting (emission-weighted mean of the row scores) and the "percentage of emissions calculated using data
obtained from suppliers or other value chain partners" are those the GHG Protocol Scope 3 Standard (2011) ch. 7.3
and 11.1 ask a report to disclose.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from tests.api_support import logged_in, person
from tests.conftest import BACKENDS, alembic_config, blank_engine
from zerocarbon.cli import app
from zerocarbon.core.ghg.inventory import SCOPE3_METHOD
from zerocarbon.errors import NotFoundError
from zerocarbon.services import accounting, scope3
from zerocarbon.store import repos
from zerocarbon.store.db import session_factory, upgrade
from zerocarbon.store.tables import Base, EmissionLineRow

DATA = Path(__file__).parent / "data"
YEAR = 2023
runner = CliRunner()

# (file, row, category, site, supplier, calc_method, dq, co2e_t, memo)
SCOPE3_ROWS = [
    ("p.csv", 2, "c1_purchased_goods", "TJ01", "S-001", "supplier_specific", 1.6, 2.0, ""),
    ("p.csv", 3, "c1_purchased_goods", "TJ01", "S-002", "spend_based", 4.0, 6.0, ""),
    ("p.csv", 4, "c1_purchased_goods", "HF01", None, "average_data", 3.0, 2.0, ""),
    ("s.csv", 2, "c4_upstream_transport", "TJ01", None, "distance_based", 3.2, 1.5, ""),
    ("s.csv", 3, "c4_upstream_transport", "TJ01", None, "carrier_reported", 1.8, 0.5, ""),
    ("t.csv", 2, "c12_end_of_life", "TJ01", None, "waste_type", 3.0, -0.8, "avoided_emissions"),
]


def _batch(s, org_id: int, kind: str, name: str, rows: list[tuple]) -> int:
    """Activity rows of one file stored as a batch (as an import stores them), with the supplier each names."""
    frame = pd.DataFrame({"activity_id": [f"{name}:{r[1]}" for r in rows], "site": [r[3] for r in rows],
                          "period_start": pd.to_datetime([f"{YEAR}-01-01"] * len(rows)),
                          "period_end": pd.to_datetime([f"{YEAR}-12-31"] * len(rows)),
                          "supplier": [r[4] for r in rows], "item": [f"item {r[1]}" for r in rows]})
    return repos.save_batch(s, org_id, kind, name, name, name * 8, YEAR, frame, "test").id


def _with_scope3(sessions) -> None:
    """The inventory of tests/data (electricity and fuel: Scope 1 and 2) computed, then stored again with
    the Scope 3 rows of SCOPE3_ROWS as its only Scope 3 rows."""
    result = accounting.compute(sessions, "ORG", YEAR, "CN-2025.1", actor="test")
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, "ORG")
        ids = {}
        for kind, name in (("purchase", "p.csv"), ("shipment", "s.csv"), ("product_eol", "t.csv")):
            rows = [r for r in SCOPE3_ROWS if r[0] == name]
            batch = _batch(s, org_id, kind, name, rows)
            ids.update({(name, r[1]): f"b{batch}:{name}:{r[1]}" for r in rows})
        led = result.ledger.astype({c: object for c in result.ledger.columns
                                    if isinstance(result.ledger[c].dtype, pd.CategoricalDtype)})
        # Scope 1 and 2 as computed; the engine's own Scope 3 rows (category 3 from the fuels) left out, so the
        # Scope 3 of the ledger is exactly the worked example.
        led = led[led["scope"] != "3"].copy()
        extra = pd.DataFrame([{
            "activity_id": ids[(f, row)], "site": site, "scope": "3", "category": cat, "method": SCOPE3_METHOD,
            "gas": "CO2e", "gas_kg": t * 1000, "gwp_set": result.gwp_set, "gwp": 1.0, "gwp_factor_id": "",
            "inclusion": 1.0, "co2e_t": t, "factor_ids": f"TEST.{method}@1", "formula": f"{method} (test row)",
            "memo": memo, "calc_method": method, "dq": dq} for f, row, cat, site, _, method, dq, t, memo in SCOPE3_ROWS])
        result.ledger = pd.concat([led, extra], ignore_index=True)
        repos.save_inventory(s, org_id, result)


@pytest.fixture
def stored(sessions):
    accounting.load_organisation_file(sessions, DATA / "organisation.yaml", actor="test")
    for kind in ("electricity", "fuel"):
        accounting.import_file(sessions, "ORG", kind, DATA / f"{kind}_ok.csv", YEAR, "CN-2025.1", actor="test")
    _with_scope3(sessions)
    return sessions


def test_stored_ledger_round_trips_method_and_data_quality(stored):
    _, ledger = accounting.stored_ledger(stored, "ORG", YEAR, scope="3")
    got = {(str(r.activity_id).split(":", 1)[1], r.calc_method, r.dq, round(r.co2e_t, 9), r.memo)
           for r in ledger.itertuples()}
    want = {(f"{f}:{row}", m, dq, t, memo) for f, row, _, _, _, m, dq, t, memo in SCOPE3_ROWS}
    assert got == want
    _, s12 = accounting.stored_ledger(stored, "ORG", YEAR, scope="1")
    assert len(s12) and (s12["calc_method"] == "").all() and s12["dq"].isna().all()
    with stored() as s:
        # Rows of one category computed by different methods or with different scores are different lines.
        lines = s.scalars(select(EmissionLineRow).where(EmissionLineRow.category == "c1_purchased_goods")).all()
        assert sorted((x.calc_method, x.dq) for x in lines) == [("average_data", 3.0), ("spend_based", 4.0),
                                                                ("supplier_specific", 1.6)]
        assert {x.dq for x in s.scalars(select(EmissionLineRow).where(EmissionLineRow.scope != "3"))} == {None}


def test_scope3_totals_stay_outside_scope_1_and_2(stored):
    meta, _ = accounting.stored_ledger(stored, "ORG", YEAR)
    rep = scope3.report(stored, "ORG", YEAR)
    _, s12 = accounting.stored_ledger(stored, "ORG", YEAR, method="location")
    s12 = s12[(s12["scope"] != "3") & (s12["memo"] == "")]
    assert meta["totals"]["total_location_t"] == pytest.approx(s12["co2e_t"].sum())
    assert rep.scope12["total_location_t"] == meta["totals"]["total_location_t"]


def test_report_by_category_with_dq_methods_and_no_data(stored):
    rep = scope3.report(stored, "ORG", YEAR)
    by = {c.category: c for c in rep.categories}
    assert [c.number for c in rep.categories] == list(range(1, 16))
    c1 = by["c1_purchased_goods"]
    assert c1.status == "reported" and c1.figure.co2e_t == pytest.approx(10.0)
    assert c1.figure.dq == pytest.approx(3.32)
    assert c1.figure.methods == pytest.approx({"supplier_specific": 2.0, "average_data": 2.0, "spend_based": 6.0})
    assert list(c1.figure.methods) == ["supplier_specific", "average_data", "spend_based"]  # best data first
    assert c1.figure.supplier_data_share == pytest.approx(0.2) and c1.figure.rows == 3
    c4 = by["c4_upstream_transport"]
    assert c4.figure.co2e_t == pytest.approx(2.0) and c4.figure.dq == pytest.approx(2.85)
    assert c4.figure.supplier_data_share == pytest.approx(0.25)
    assert c1.share == pytest.approx(10 / 12) and c4.share == pytest.approx(2 / 12)
    for c in ("c2_capital_goods", "c3_fuel_energy", "c5_waste", "c6_business_travel", "c7_commuting",
              "c9_downstream_transport", "c11_use_of_sold_products", "c12_end_of_life"):
        assert by[c].status == "no data" and by[c].figure is None and by[c].share is None, c
    for c in ("c8_upstream_leased_assets", "c10_processing_of_sold_products", "c13_downstream_leased_assets",
              "c14_franchises", "c15_investments"):
        assert by[c].status == "not evaluated" and by[c].reason, c
    # Avoided emissions: a memo of its category and of the report, in no total.
    assert by["c12_end_of_life"].memo == pytest.approx({"avoided_emissions": -0.8})
    assert rep.memo == pytest.approx({"avoided_emissions": -0.8})
    assert rep.total.co2e_t == pytest.approx(12.0)
    assert rep.total.dq == pytest.approx((2 * 1.6 + 6 * 4.0 + 2 * 3.0 + 1.5 * 3.2 + 0.5 * 1.8) / 12)
    assert rep.total.supplier_data_share == pytest.approx(2.5 / 12)


def test_report_by_site_and_supplier(stored):
    rep = scope3.report(stored, "ORG", YEAR)
    sites = {s.site: s for s in rep.sites}
    assert sites["TJ01"].scope3.co2e_t == pytest.approx(10.0) and sites["HF01"].scope3.co2e_t == pytest.approx(2.0)
    assert sites["TJ01"].scope1 > 0 and sites["TJ01"].scope2_location > 0
    suppliers = {f.supplier: f.figure for f in rep.suppliers}
    assert [f.supplier for f in rep.suppliers] == ["S-002", "", "S-001"]  # largest first; "" names no supplier
    assert suppliers["S-001"].co2e_t == pytest.approx(2.0) and suppliers["S-001"].dq == pytest.approx(1.6)
    assert suppliers["S-001"].methods == {"supplier_specific": pytest.approx(2.0)}
    assert suppliers["S-002"].methods == {"spend_based": pytest.approx(6.0)}
    assert suppliers[""].co2e_t == pytest.approx(2.0)


def test_category_rows_carry_their_lineage(stored):
    page = scope3.category_rows(stored, "ORG", YEAR, "c1_purchased_goods", limit=2)
    assert page.total == 3 and page.co2e_t == pytest.approx(10.0) and len(page.rows) == 2
    r = page.rows[0]
    assert r["activity_id"].endswith("p.csv:2") and r["calc_method"] == "supplier_specific" and r["dq"] == 1.6
    assert r["factor_ids"] == "TEST.supplier_specific@1" and r["formula"].startswith("supplier_specific")
    assert page.batches[r["batch_id"]]["path"] == "p.csv"
    rest = scope3.category_rows(stored, "ORG", YEAR, "c1_purchased_goods", limit=2, offset=2)
    assert [x["calc_method"] for x in rest.rows] == ["average_data"]
    assert scope3.category_rows(stored, "ORG", YEAR, "c5_waste").total == 0
    with pytest.raises(NotFoundError, match="not evaluated"):
        scope3.category_rows(stored, "ORG", YEAR, "c15_investments")
    with pytest.raises(NotFoundError, match="no Scope 3 category"):
        scope3.category_rows(stored, "ORG", YEAR, "stationary_combustion")


def test_an_inventory_without_scope3_says_no_data_everywhere(sessions):
    accounting.load_organisation_file(sessions, DATA / "organisation.yaml", actor="test")
    accounting.import_file(sessions, "ORG", "electricity", DATA / "electricity_ok.csv", YEAR, "CN-2025.1",
                           actor="test")
    accounting.compute(sessions, "ORG", YEAR, "CN-2025.1", actor="test")
    rep = scope3.report(sessions, "ORG", YEAR)
    assert rep.total is None and rep.suppliers == []
    assert {c.status for c in rep.categories} == {"no data", "not evaluated"}
    assert rep.scope12["total_location_t"] > 0
    with pytest.raises(NotFoundError, match="compute it first"):
        scope3.report(sessions, "ORG", 2022)


# -- CLI --------------------------------------------------------------------------------------------------------

def test_cli_scope3_table_and_json(stored, monkeypatch):
    from zerocarbon.cli.common import console

    monkeypatch.setattr("zerocarbon.cli.accounting._stored", lambda db: stored)
    monkeypatch.setattr(console, "width", 250)  # the console was sized when the CLI was imported
    r = runner.invoke(app, ["inventory", "scope3", "--org", "ORG", "--year", str(YEAR)], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    assert "no data" in r.output and "supplier_specific 2.000" in r.output and "3.3" in r.output
    assert "not evaluated" in r.output and "avoided_emissions -0.800" in r.output
    r = runner.invoke(app, ["inventory", "scope3", "--org", "ORG", "--year", str(YEAR), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    cats = {c["category"]: c for c in out["categories"]}
    assert cats["c1_purchased_goods"]["figure"]["dq"] == pytest.approx(3.32)
    assert cats["c5_waste"]["status"] == "no data" and cats["c5_waste"]["figure"] is None
    assert out["total"]["co2e_t"] == pytest.approx(12.0)
    r = runner.invoke(app, ["inventory", "scope3", "--org", "ORG", "--year", str(YEAR), "--category",
                            "c4_upstream_transport", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["rows"]
    assert [(x["calc_method"], x["dq"]) for x in rows] == [("distance_based", 3.2), ("carrier_reported", 1.8)]
    r = runner.invoke(app, ["inventory", "scope3", "--org", "ORG", "--year", str(YEAR), "--category",
                            "c4_upstream_transport"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "formula: distance_based (test row)" in r.output and "DQ 3.2" in r.output
    r = runner.invoke(app, ["inventory", "scope3", "--org", "ORG", "--year", str(YEAR), "--category", "c99_x"])
    assert r.exit_code != 0 and "no Scope 3 category" in r.output


# -- API --------------------------------------------------------------------------------------------------------

def test_api_scope3_report_and_rows(stored, cheap_passwords):
    person(stored, "viewer@example.org", "ORG", "viewer")
    c = logged_in(stored, "viewer@example.org")
    r = c.get(f"/api/v1/orgs/ORG/inventories/{YEAR}/scope3")
    assert r.status_code == 200, r.text
    body = r.json()
    cats = {x["category"]: x for x in body["categories"]}
    assert cats["c1_purchased_goods"]["figure"]["methods"]["spend_based"] == pytest.approx(6.0)
    assert cats["c9_downstream_transport"]["status"] == "no data"
    assert cats["c14_franchises"]["status"] == "not evaluated"
    assert body["scope12"]["total_location_t"] > 0 and body["total"]["co2e_t"] == pytest.approx(12.0)
    assert c.get(f"/api/v1/orgs/ORG/inventories/{YEAR}/scope3",
                 headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    r = c.get(f"/api/v1/orgs/ORG/inventories/{YEAR}/scope3/c1_purchased_goods/rows", params={"limit": 2})
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 3 and len(page["rows"]) == 2 and page["rows"][1]["dq"] == 4.0
    assert page["batches"][str(page["rows"][0]["batch_id"])]["path"] == "p.csv"
    r = c.get(f"/api/v1/orgs/ORG/inventories/{YEAR}/scope3/c13_downstream_leased_assets/rows")
    assert r.status_code == 404 and "not evaluated" in r.json()["detail"]
    assert c.get("/api/v1/orgs/ORG/inventories/2022/scope3").status_code == 404
    # A supplier reads none of it: neither the report (which names suppliers) nor the rows.
    person(stored, "supplier@example.org", "ORG", "supplier")
    s = logged_in(stored, "supplier@example.org")
    for url in (f"/api/v1/orgs/ORG/inventories/{YEAR}/scope3",
                f"/api/v1/orgs/ORG/inventories/{YEAR}/scope3/c1_purchased_goods/rows"):
        r = s.get(url)
        assert r.status_code == 403 and "S-00" not in r.text and "inventory.read" in r.json()["detail"]


# -- migration 0012 ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", BACKENDS)
def test_migration_0012_keeps_stored_ledgers_and_refuses_to_drop_scope3(kind, tmp_path):
    """A ledger stored before 0012 reads back with its rows as Scope 1/2 rows ("" method, no score); going back
    below 0012 is refused while Scope 3 lines are stored, and allowed once they are gone."""
    with blank_engine(kind, tmp_path) as engine:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0011")
        sessions = session_factory(engine)
        accounting.load_organisation_file(sessions, DATA / "organisation.yaml", actor="test")
        # Written as before 0012: no Scope 3 columns in the table.
        with engine.begin() as conn:
            org = conn.execute(text("SELECT id FROM organisations")).scalar()
            conn.execute(text("INSERT INTO inventories (organisation_id, year, boundary, factor_set, "
                              "factor_set_fingerprint, gwp_set, status, computed_at, totals, warnings, exclusions) "
                              "VALUES (:o, 2023, 'operational_control', 'CN-2025.1', 'f', 'AR5', 'draft', :at, "
                              "'{\"scope1_t\": 1.5}', '[]', '[]')"), {"o": org, "at": "2026-01-01 00:00:00"})
            inv = conn.execute(text("SELECT id FROM inventories")).scalar()
            conn.execute(text("INSERT INTO emission_lines (inventory_id, site, scope, category, method, gas, gwp_set, "
                              "gwp, gwp_factor_id, inclusion, factor_ids, formula, memo) VALUES (:i, 'TJ01', '1', "
                              "'stationary_combustion', 'both', 'CO2', 'AR5', 1, 'g', 1, 'f', 'q x ef', '')"),
                         {"i": inv})
            line = conn.execute(text("SELECT id FROM emission_lines")).scalar()
            conn.execute(text("INSERT INTO emissions (inventory_id, line_id, batch_id, activity_id, gas_kg, co2e_t) "
                              "VALUES (:i, :l, NULL, 'f.csv:2', 1500, 1.5)"), {"i": inv, "l": line})
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT calc_method, dq FROM emission_lines")).one() == ("", None)
            diff = [d for d in compare_metadata(MigrationContext.configure(conn), Base.metadata)
                    if "emission_lines" in str(d)]
            assert diff == []
        _, ledger = accounting.stored_ledger(sessions, "ORG", 2023)
        assert ledger["calc_method"].tolist() == [""] and ledger["dq"].isna().all()
        with engine.begin() as conn:
            conn.execute(text("UPDATE emission_lines SET scope = '3', category = 'c1_purchased_goods', "
                              "calc_method = 'spend_based', dq = 4"))
        with engine.begin() as conn, pytest.raises(RuntimeError, match="Scope 3"):
            command.downgrade(alembic_config(conn), "0011")
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM emissions"))
            conn.execute(text("DELETE FROM emission_lines"))
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0011")
        with engine.connect() as conn:
            assert "dq" not in {c["name"] for c in inspect(conn).get_columns("emission_lines")}


# -- with the engine: imported files, computed, stored, reported --------------------------------------------------

PURCHASES = """site,period_start,period_end,category,item,supplier,quantity,unit,material,supplier_co2e,supplier_co2e_unit,evidence
TJ01,2023-01-01,2023-12-31,1,cans,S-2,2,t,aluminium_cans_foil,,,
HF01,2023-01-01,2023-12-31,1,chassis,S-1,500,kg,,1200,kgCO2e,EPD-1
"""
SHIPMENTS = """site,period_start,period_end,category,shipment,leg,mode,vehicle,mass,mass_unit,distance,distance_unit,carrier_co2e,carrier_co2e_unit
TJ01,2023-01-01,2023-01-31,4,SH1,1,road,hgv_average_laden,10,t,100,km,,
TJ01,2023-01-01,2023-01-31,4,SH2,1,sea,container_ship_average,20,t,1000,km,300,kgCO2e
"""


def test_the_stored_report_equals_the_engines_summary(sessions, tmp_path):
    """What the engine computes in memory (core.ghg.inventory's per-category summary) and what the report reads
    back from the database agree, category by category; the suppliers come from the imported rows."""
    accounting.load_organisation_file(sessions, DATA / "organisation.yaml", actor="test")
    for kind, text_ in (("purchase", PURCHASES), ("shipment", SHIPMENTS)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text_, encoding="utf-8")
        accounting.import_file(sessions, "ORG", kind, path, YEAR, "CN-2025.1", actor="test")
    accounting.import_file(sessions, "ORG", "fuel", DATA / "fuel_ok.csv", YEAR, "CN-2025.1", actor="test")
    result = accounting.compute(sessions, "ORG", YEAR, "CN-2025.1", actor="test")
    core = result.scope3_by_category().set_index("category")
    rep = scope3.report(sessions, "ORG", YEAR)
    for c in rep.categories:
        if c.status == "not evaluated":
            continue
        assert c.status == core.loc[c.category, "status"], c.category
        if c.figure is None:
            continue
        assert c.figure.co2e_t == pytest.approx(core.loc[c.category, "co2e_t"], rel=1e-12), c.category
        assert c.figure.dq == pytest.approx(core.loc[c.category, "dq"], rel=1e-12), c.category
        shares = {m: t / c.figure.co2e_t for m, t in c.figure.methods.items()}
        assert shares == pytest.approx(core.loc[c.category, "methods"]), c.category
    by = {c.category: c for c in rep.categories}
    assert by["c1_purchased_goods"].figure.methods.keys() == {"supplier_specific", "average_data"}
    assert by["c4_upstream_transport"].figure.methods["carrier_reported"] == pytest.approx(0.3)
    suppliers = {f.supplier: f.figure for f in rep.suppliers}
    assert suppliers["S-1"].co2e_t == pytest.approx(1.2) and set(suppliers) == {"S-1", "S-2"}
    assert rep.total.co2e_t == pytest.approx(result.totals()["scope3_t"])
    assert rep.scope12["total_location_t"] == pytest.approx(result.totals()["total_location_t"])
