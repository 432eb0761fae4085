"""The inventory's combustion and grid-electricity rows from one SQL definition (core.bulk_sql.INVENTORY_SCOPE12):
in process (numpy), on DuckDB and on Spark the ledger must be the same, row for row with its lineage, values to
1e-9 relative.

Scope 3 over purchase rows (categories 1 and 2, ``core.bulk_sql.PURCHASES_SCOPE3``) is compared the same way.

The data hold the hard cases: two organisations with the same site codes in different provinces and under
different factor sets; fuels by mass, volume (Nm3, 万Nm3, scf) and energy on either basis; biogenic rows (whose CO2
is a memo and whose CH4 and N2O use the non-fossil GWP); kWh, MWh and GWh; instruments that cover part of a site,
more than a site, or are refused (another market, another vintage); a site outside operational control and sites
held in part (equity share); purchase rows on every route of the method hierarchy (a stored PACT footprint, an
unknown one, the supplier's figure per row or per kg, hybrid with material or spend inputs, material, spend in
CNY, 万元 and EUR with and without a booked rate), capital goods beside purchased goods. Tests marked ``spark`` need
Java; under CI=true its absence fails them.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.spark_cluster import java_or_fail, local_spark, spark_env
from zerocarbon.core.factors import load_factor_set
from zerocarbon.core.ghg.inventory import LEDGER_COLUMNS, ActivityData, compute_inventory
from zerocarbon.core.model import Boundary, Organisation, Site
from zerocarbon.errors import InputError
from zerocarbon.services import accounting, footprints
from zerocarbon.services.inventory_engine import on_engine, purchases_on
from zerocarbon.store import engines

pytestmark = [pytest.mark.spark, pytest.mark.slow]

YEAR = 2025
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TEXT = ["activity_id", "site", "scope", "category", "method", "gas", "gwp_set", "gwp_factor_id", "factor_ids",
        "formula", "memo", "calc_method"]


def _org(code: str, provinces: tuple[str, str, str]) -> Organisation:
    return Organisation(code, code, (
        Site("S1", "S1", province=provinces[0]),
        Site("S2", "S2", province=provinces[1], equity_share=0.6),
        Site("S3", "S3", province=provinces[2], operational_control=False, equity_share=0.25)))


def _instrument(i: int, site: str, kwh: float, market: str = "CN", vintage: int = YEAR, ef: float = 0.0,
                technology: str = "wind") -> dict:
    return {"activity_id": f"b9:instrument.csv:{i + 2}", "instrument_id": f"I{i}", "type": "GEC", "registry": "CN-GEC",
            "market": market, "volume_kwh": kwh, "vintage_start": pd.Timestamp(f"{vintage}-01-01"),
            "vintage_end": pd.Timestamp(f"{vintage}-12-31"), "serial_start": np.nan, "serial_end": np.nan,
            "retired_for_site": site, "retired_for_year": YEAR, "emission_factor_kg_per_kwh": ef,
            "technology": technology}


def _data(fuels: list[tuple], batch: int, rows: int = 3000, seed: int = 7) -> ActivityData:
    """``rows`` electricity rows and as many fuel rows over the three sites, cycling through ``fuels``
    (fuel, use, unit, basis, biogenic)."""
    rng = np.random.default_rng(seed)
    sites = np.array(["S1", "S2", "S3"])
    month = pd.to_datetime([f"{YEAR}-{m:02d}-01" for m in rng.integers(1, 13, rows)])
    units = np.array(["kWh", "MWh", "GWh"])[rng.choice(3, rows, p=[0.8, 0.19, 0.01])]
    scale = pd.Series(units).map({"kWh": 1.0, "MWh": 1e-3, "GWh": 1e-6}).to_numpy()
    elec = pd.DataFrame({"activity_id": [f"b{batch}:electricity.csv:{i + 2}" for i in range(rows)],
                         "site": sites[rng.integers(0, 3, rows)], "meter": "M", "period_start": month,
                         "period_end": month + pd.offsets.MonthEnd(0),
                         "quantity": rng.uniform(1e4, 5e5, rows) * scale, "unit": units})
    pick = [fuels[i % len(fuels)] for i in range(rows)]
    fuel = pd.DataFrame({"activity_id": [f"b{batch + 1}:fuel.csv:{i + 2}" for i in range(rows)],
                         "site": sites[rng.integers(0, 3, rows)], "period_start": month, "period_end": month,
                         "fuel": [p[0] for p in pick], "use": [p[1] for p in pick],
                         "quantity": rng.uniform(0.5, 50, rows), "unit": [p[2] for p in pick],
                         "basis": [p[3] or np.nan for p in pick], "biogenic": [p[4] for p in pick]})
    inst = pd.DataFrame([_instrument(0, "S1", 2e8), _instrument(1, "S2", 9e12, ef=0.35, technology="gas"),
                         _instrument(2, "S3", 1e6, market="GB"), _instrument(3, "S1", 1e6, vintage=YEAR - 2)])
    return ActivityData({"electricity": elec, "fuel": fuel, "instrument": inst,
                         "purchase": _purchases(rows, batch + 2, rng), "pcf": FOOTPRINTS})


FOOTPRINTS = pd.DataFrame([
    {"pf_id": "pf-1", "company_name": "Alu Co", "product_id": "urn:alu", "declared_unit": "kilogram",
     "pcf_kg_per_unit": 1.9, "primary_data_share": 80.0, "dqr": 1.6, "period_start": pd.Timestamp("2025-01-01"),
     "period_end": pd.Timestamp("2025-12-31")},
    {"pf_id": "pf-2", "company_name": "Board Co", "product_id": "urn:board", "declared_unit": "kilogram",
     "pcf_kg_per_unit": 0.7, "primary_data_share": 20.0, "dqr": np.nan, "period_start": pd.Timestamp("2020-01-01"),
     "period_end": pd.Timestamp("2020-12-31")}])


def _purchases(rows: int, batch: int, rng) -> pd.DataFrame:
    """Purchase rows whose columns are each present or not at random, so that every route of the hierarchy is
    taken; each row keeps a complete spend (and a quantity), so none is left without a method."""
    def pick(values, blank: float):
        v = np.array(values, dtype=object)[rng.integers(0, len(values), rows)]
        return np.where(rng.random(rows) < blank, None, v)

    def number(lo, hi, blank: float):
        return np.where(rng.random(rows) < blank, np.nan, rng.uniform(lo, hi, rows))

    currency = pick(["CNY", "万元", "EUR"], 0.0)
    year = np.where(currency == "EUR", 2021.0, rng.choice([2020.0, 2023.0], rows))
    return pd.DataFrame({
        "activity_id": [f"b{batch}:purchase.csv:{i + 2}" for i in range(rows)],
        "site": np.array(["S1", "S2", "S3"])[rng.integers(0, 3, rows)], "period_start": pd.Timestamp(f"{YEAR}-01-01"),
        "period_end": pd.Timestamp(f"{YEAR}-12-31"), "category": pick(["1", "2"], 0.1), "item": "part",
        "supplier": pick(["SUP1", "SUP2"], 0.3), "spend": rng.uniform(1, 1e5, rows), "currency": currency,
        "price_year": year, "eeio_code": pick(["331313", "334111", "334419"], 0.0),
        "exchange_rate": np.where(rng.random(rows) < 0.8, np.nan, 7.1), "quantity": rng.uniform(1, 1e4, rows),
        "unit": pick(["kg", "t", "g"], 0.0), "material": pick(["aluminium_cans_foil", "paper_board"], 0.4),
        "supplier_co2e": number(0, 1e3, 0.7),
        "supplier_co2e_unit": pick(["kgCO2e", "tCO2e", "kgCO2e/kg", "kgCO2e/t"], 0.2),
        "supplier_scope12_co2e": number(0, 1e3, 0.6), "pcf_id": pick(["pf-1", "pf-2", "pf-x"], 0.6),
        "evidence": pick(["EPD S-P-01234"], 0.3)})


CASES = {
    # CN-2025.1: CO2 only for fuels (CH4 and N2O are excluded, and say so)
    "A": (_org("A", ("天津", "广东", "四川")), "CN-2025.1",
          [("natural_gas", "stationary", "万Nm3", "", False), ("natural_gas", "stationary", "GJ", "NCV", False),
           ("natural_gas", "stationary", "Nm3", "", True), ("gas_diesel_oil", "mobile", "t", "", False),
           ("lpg", "stationary", "t", "", True), ("anthracite", "stationary", "t", "", False)]),
    # EPA-2025.1: CO2, CH4 and N2O on the higher heating value; the same site codes in other provinces
    "B": (_org("B", ("广东", "四川", "天津")), "EPA-2025.1",
          [("natural_gas", "stationary", "mmBtu", "HHV", False), ("natural_gas", "stationary", "GJ", "GCV", True),
           ("natural_gas", "stationary", "scf", "", False), ("distillate_fuel_oil_no2", "stationary", "gal", "", True),
           ("propane", "stationary", "gal", "", False)]),
}


@pytest.fixture(scope="module")
def spark_engine():
    with local_spark() as engine:
        yield engine


def _sorted(ledger: pd.DataFrame) -> pd.DataFrame:
    led = ledger[LEDGER_COLUMNS].astype({c: str for c in TEXT})
    return led.sort_values(["activity_id", "method", "gas"], ignore_index=True)


def assert_same_ledger(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a, b = _sorted(a), _sorted(b)
    assert len(a) == len(b) > 0
    for c in LEDGER_COLUMNS:
        if c in TEXT:
            assert a[c].tolist() == b[c].tolist(), f"column {c} differs"
        else:
            x, y = a[c].to_numpy(dtype=float), b[c].to_numpy(dtype=float)
            same = np.isclose(x, y, rtol=1e-9, atol=0) | (np.isnan(x) & np.isnan(y))
            assert same.all(), f"column {c}: {list(zip(x[~same][:5], y[~same][:5]))}"


def _compute(case: str, boundary: Boundary, engine=None):
    org, fs_id, fuels = CASES[case]
    data = _data(fuels, batch=10 if case == "A" else 20)
    return compute_inventory(org, data, load_factor_set(fs_id), YEAR, "AR5", boundary, **_on(engine))


def _on(engine) -> dict:
    return {} if engine is None else {"scope12_rows": on_engine(engine), "purchase_rows": purchases_on(engine)}


@pytest.mark.parametrize("case", ["A", "B"])
@pytest.mark.parametrize("boundary", [Boundary.OPERATIONAL_CONTROL, Boundary.EQUITY_SHARE])
def test_the_ledger_is_the_same_in_process_on_duckdb_and_on_spark(case, boundary, spark_engine):
    ref = _compute(case, boundary)
    for engine in (engines.engine("duckdb"), spark_engine):
        got = _compute(case, boundary, engine)
        assert_same_ledger(ref.ledger, got.ledger)
        for key, value in ref.totals().items():
            assert math.isclose(value, got.totals()[key], rel_tol=1e-9, abs_tol=1e-12), key
        assert got.warnings == ref.warnings and got.exclusions == ref.exclusions
        # per-site kWh are sums, whose order differs between engines: equal to 1e-9, not bit for bit
        assert list(got.claims) == list(ref.claims)
        for site, claim in ref.claims.items():
            for field, value in vars(claim).items():
                other = vars(got.claims[site])[field]
                assert (math.isclose(value, other, rel_tol=1e-9) if isinstance(value, float) else value == other), \
                    (site, field)
        pd.testing.assert_frame_equal(got.renewable, ref.renewable, rtol=1e-12)


def test_the_hard_cases_came_through():
    """What the equality test compares holds what it claims to: else agreeing would prove little."""
    a, b = _compute("A", Boundary.EQUITY_SHARE), _compute("B", Boundary.OPERATIONAL_CONTROL)
    led = pd.concat([_sorted(a.ledger), _sorted(b.ledger)])
    assert {"CO2", "CH4", "N2O"} <= set(led["gas"]) and "biogenic_co2" in set(led["memo"])
    assert set(led["inclusion"]) >= {1.0, 0.6, 0.25} and 0.0 in set(_sorted(b.ledger)["inclusion"])
    assert any("market GB" in w for w in a.warnings) and any("vintage" in w for w in a.warnings)
    assert a.claims["S2"].covered_kwh == a.claims["S2"].grid_kwh  # more than the site used: capped
    assert 0 < a.claims["S1"].fraction < 1 and a.claims["S3"].fraction == 0
    assert any(e.startswith("CH4 from stationary natural_gas") for e in a.exclusions)
    for inv in (a, b):
        s3 = inv.ledger[inv.ledger["scope"] == "3"]
        assert set(s3["calc_method"]) == {"supplier_specific", "hybrid", "average_data", "spend_based"}
        assert {"c1_purchased_goods", "c2_capital_goods"} <= set(s3["category"])
        ids = s3["factor_ids"].astype(str)
        assert ids.str.startswith("pcf:pf-1").any() and ids.str.startswith("pcf:pf-2").any()
        assert ids.str.contains("fx:CNY:booked").any() and ids.str.contains("fx:EUR:2021").any()
        assert s3["formula"].astype(str).str.contains("per kg|kgCO2e/kg|x 10000 CNY").any()
        assert any("pcf_id pf-x" in w for w in inv.warnings)
    # a non-fossil CH4 row uses the non-fossil GWP factor
    bio = _sorted(b.ledger)
    assert len(bio[(bio["gas"] == "CH4") & bio["activity_id"].isin(
        b.ledger["activity_id"][b.ledger["memo"] == "biogenic_co2"].astype(str))]) > 0


def test_hand_checked_rows(spark_engine):
    """Published factors by hand: MEE/NBS 2023 national grid 0.5306 kg CO2/kWh and the grid excluding market-traded
    non-fossil power 0.6096 (CN-2025.1); US EPA GHG Emission Factors Hub 2025, natural gas 53.06 kg CO2, 0.001 kg CH4
    and 0.0001 kg N2O per mmBtu (HHV); AR5 GWP CH4 28, N2O 265."""
    org, _, _ = CASES["A"]
    elec = pd.DataFrame({"activity_id": ["e.csv:2", "e.csv:3"], "site": ["S1", "S1"], "meter": "M",
                         "period_start": pd.Timestamp("2025-01-01"), "period_end": pd.Timestamp("2025-01-31"),
                         "quantity": [600.0, 0.4], "unit": ["MWh", "GWh"]})
    fuel = pd.DataFrame({"activity_id": ["f.csv:2"], "site": ["S2"], "period_start": pd.Timestamp("2025-01-01"),
                         "period_end": pd.Timestamp("2025-01-31"), "fuel": ["natural_gas"], "use": ["stationary"],
                         "quantity": [1000.0], "unit": ["mmBtu"], "basis": ["HHV"], "biogenic": [False]})
    inst = pd.DataFrame([_instrument(0, "S1", 250_000.0)])
    for engine in (None, engines.engine("duckdb"), spark_engine):
        inv = compute_inventory(org, ActivityData({"electricity": elec, "fuel": fuel, "instrument": inst}),
                                load_factor_set("EPA-2025.1"), YEAR, "AR5", Boundary.OPERATIONAL_CONTROL,
                                scope12_rows=on_engine(engine) if engine is not None else None)
        t = inv.totals()
        assert math.isclose(t["scope2_location_t"], 1000 * 0.5306, rel_tol=1e-12)  # 1,000 MWh
        assert math.isclose(t["scope2_market_t"], 750 * 0.6096, rel_tol=1e-12)  # 250 MWh covered at 0 kg/kWh
        assert math.isclose(t["scope1_t"], 53.06 + 0.001 * 28 + 0.0001 * 265, rel_tol=1e-12)


def _refusals(org, data, spark_engine) -> list[str]:
    """The error of each path (in process, DuckDB, Spark), checked to be one and the same."""
    errors = []
    for engine in (None, engines.engine("duckdb"), spark_engine):
        with pytest.raises(InputError) as caught:
            compute_inventory(org, data, load_factor_set("CN-2025.1"), YEAR, **_on(engine))
        errors.append(str(caught.value))
    assert errors[0] == errors[1] == errors[2]
    return errors


def test_a_row_the_factor_set_cannot_price_is_refused_the_same_way(spark_engine):
    org, _, fuels = CASES["A"]
    data = _data(fuels, batch=10, rows=50)
    data.frames["fuel"].loc[7, ["fuel", "unit"]] = ["natural_gas", "L"]
    errors = _refusals(org, data, spark_engine)
    assert "fuel.csv" in errors[0] and "row 9" in errors[0] and "unit" in errors[0]


@pytest.mark.parametrize("bad", ["material", "unit", "eeio_code", "no_route", "figure_without_quantity",
                                 "supplier_co2e_unit"])
def test_a_purchase_row_no_route_can_price_is_refused_the_same_way(bad, spark_engine):
    org, _, fuels = CASES["A"]
    data = _data(fuels, batch=10, rows=60)
    buy = data.frames["purchase"]
    buy[["pcf_id", "supplier_co2e", "supplier_scope12_co2e"]] = [None, np.nan, np.nan]
    row = 11
    if bad == "material":
        buy.loc[row, "material"] = "unobtainium"
    elif bad == "unit":
        buy.loc[row, ["material", "unit"]] = ["paper_board", "kWh"]
    elif bad == "eeio_code":
        buy.loc[row, ["material", "eeio_code"]] = [None, "999999"]
    elif bad == "no_route":
        buy.loc[row, ["material", "spend", "pcf_id"]] = [None, np.nan, "pf-x"]
    elif bad == "figure_without_quantity":
        buy.loc[row, ["supplier_co2e", "supplier_co2e_unit", "evidence", "quantity"]] = [5.0, "kgCO2e/kg", "EPD",
                                                                                          np.nan]
    else:  # a figure per kWh for a quantity in kg
        buy.loc[row, ["supplier_co2e", "supplier_co2e_unit", "evidence", "unit"]] = [5.0, "kgCO2e/kWh", "EPD", "kg"]
    errors = _refusals(org, data, spark_engine)
    column = {"no_route": "pcf_id", "figure_without_quantity": "pcf_id", "supplier_co2e_unit": "unit"}.get(bad, bad)
    assert f"purchase.csv, row {row + 2}, column '{column}'" in errors[0], errors[0]


def test_purchase_rows_by_hand(spark_engine):
    """The method hierarchy by hand, on every engine: a stored footprint of 1.9 kg CO2e/kg beats the supplier's
    own figure; 2.1 t CO2e for the row from the supplier; 1.5 kg CO2e/kg x 1,200 kg; the supplier's Scope 1+2
    share of 640 kg plus 1.2 t of paper board x the DESNZ 2024 factor; 1.2 t x that factor alone."""
    org, _, _ = CASES["A"]
    fs = load_factor_set("CN-2025.1")
    board = fs.material("paper_board", "primary", YEAR).value  # kg CO2e per t
    common = {"site": "S1", "period_start": pd.Timestamp(f"{YEAR}-01-01"), "period_end": pd.Timestamp(f"{YEAR}-12-31"),
              "category": "1", "item": "x", "supplier": "SUP1", "spend": 1e4, "currency": "CNY",
              "price_year": 2023.0, "eeio_code": "334111", "exchange_rate": np.nan, "quantity": 1200.0, "unit": "kg",
              "material": "paper_board", "supplier_co2e": np.nan, "supplier_co2e_unit": None,
              "supplier_scope12_co2e": np.nan, "pcf_id": None, "evidence": None}
    rows = [{"pcf_id": "pf-1", "supplier_co2e": 9.0, "supplier_co2e_unit": "kgCO2e", "evidence": "e"},
            {"supplier_co2e": 2.1, "supplier_co2e_unit": "tCO2e", "evidence": "e"},
            {"supplier_co2e": 1.5, "supplier_co2e_unit": "kgCO2e/kg", "evidence": "e", "category": "2"},
            {"supplier_scope12_co2e": 640.0, "supplier_co2e_unit": "kgCO2e", "evidence": "e"},
            {}]
    buy = pd.DataFrame([common | r | {"activity_id": f"p.csv:{i + 2}"} for i, r in enumerate(rows)])
    expected = [1200 * 1.9, 2100.0, 1.5 * 1200, 640.0 + 1.2 * board, 1.2 * board]
    for engine in (None, engines.engine("duckdb"), spark_engine):
        inv = compute_inventory(org, ActivityData({"purchase": buy, "pcf": FOOTPRINTS}), fs, YEAR, **_on(engine))
        led = inv.ledger.set_index(inv.ledger["activity_id"].astype(str))
        got = [float(led.at[f"p.csv:{i + 2}", "gas_kg"]) for i in range(len(rows))]
        assert np.allclose(got, expected, rtol=1e-12), (engine, got)
        assert [str(led.at[f"p.csv:{i + 2}", "calc_method"]) for i in range(len(rows))] == [
            "supplier_specific", "supplier_specific", "supplier_specific", "hybrid", "average_data"]
        assert str(led.at["p.csv:4", "category"]) == "c2_capital_goods"


def test_the_stored_inventory_is_the_same_on_every_engine(sessions, spark_engine):
    """Through the service the CLI and API call: the same tables, totals, lines and explained rows."""
    accounting.load_organisation_file(sessions, EXAMPLES / "organisation.yaml", actor="test")
    for kind in ("electricity", "generation", "fuel", "refrigerant", "instrument"):
        accounting.import_file(sessions, "ACME", kind, EXAMPLES / f"{kind}_{YEAR}.csv", YEAR, "CN-2025.1",
                               actor="test")
    footprints.import_file(sessions, "ACME", EXAMPLES / "supply" / "pact_S006_a_cover.json", actor="test")
    accounting.import_file(sessions, "ACME", "purchase", EXAMPLES / "supply" / f"purchase_{YEAR}.csv", YEAR,
                           "CN-2025.1", actor="test")
    stored = {}
    for engine in (None, "duckdb", "spark"):
        accounting.compute(sessions, "ACME", YEAR, "CN-2025.1", actor="test", engine=engine,
                           spark_master="local[2]" if engine == "spark" else None)
        meta, ledger = accounting.stored_ledger(sessions, "ACME", YEAR)
        stored[engine] = (meta, accounting.inventory_summary(sessions, "ACME", YEAR)[1], ledger)
    ref_meta, ref_sites, ref_ledger = stored[None]
    for engine in ("duckdb", "spark"):
        meta, sites, ledger = stored[engine]
        for key, value in ref_meta["totals"].items():
            assert math.isclose(value, meta["totals"][key], rel_tol=1e-9, abs_tol=1e-12), (engine, key)
        assert [x.site for x in sites] == [x.site for x in ref_sites]
        for x, y in zip(sites, ref_sites):
            assert all(math.isclose(getattr(x, f), getattr(y, f), rel_tol=1e-9, abs_tol=1e-12)
                       for f in ("scope1", "scope2_location", "scope2_market")), x.site
        cols = [c for c in ref_ledger.columns if c not in ("line_id", "id")]
        # stored in the same order too, so a listing of the ledger reads the same
        pd.testing.assert_frame_equal(ref_ledger[cols].reset_index(drop=True), ledger[cols].reset_index(drop=True),
                                      check_dtype=False, rtol=1e-9)
    assert len(ref_ledger) > 0 and ref_ledger["batch_id"].notna().all()
    assert (ref_ledger["scope"] == "3").sum() > 0
    # A set that cannot price the example's gas (万Nm3): the same refusal on every path, the stored inventory kept.
    errors = []
    for engine in (None, "duckdb", "spark"):
        with pytest.raises(InputError) as caught:
            accounting.compute(sessions, "ACME", YEAR, "UK-DESNZ-2025.1", actor="test", engine=engine,
                               spark_master="local[2]" if engine == "spark" else None)
        errors.append(str(caught.value))
    assert errors[0] == errors[1] == errors[2] and "fuel_2025.csv" in errors[0]
    meta, ledger = accounting.stored_ledger(sessions, "ACME", YEAR)
    assert meta["factor_set"] == "CN-2025.1" and meta["totals"] == stored["spark"][0]["totals"]
    assert len(ledger) == len(ref_ledger)


def test_a_result_bigger_than_the_driver_accepts_is_a_setting_to_change(tmp_path):
    """spark.driver.maxResultSize exceeded: exit 2 with the setting to raise, nothing stored."""
    import subprocess
    import sys

    java_or_fail()
    url = f"sqlite:///{tmp_path / 'z.sqlite'}"
    env = {**os.environ, **spark_env(), "ZEROCARBON_DB": url,
           "PYSPARK_SUBMIT_ARGS": "--conf spark.driver.maxResultSize=1k pyspark-shell",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
    zc = [sys.executable, "-m", "zerocarbon"]
    subprocess.run([*zc, "org", "load", str(EXAMPLES / "organisation.yaml")], env=env, check=True, capture_output=True)
    for kind in ("electricity", "fuel"):
        subprocess.run([*zc, "import", kind, str(EXAMPLES / f"{kind}_{YEAR}.csv"), "--org", "ACME", "--year",
                        str(YEAR), "--factors", "CN-2025.1"], env=env, check=True, capture_output=True)
    done = subprocess.run([*zc, "inventory", "compute", "--org", "ACME", "--year", str(YEAR), "--engine", "spark",
                           "--spark-master", "local[1]"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "spark.driver.maxResultSize" in done.stderr and "Traceback" not in done.stderr
    shown = subprocess.run([*zc, "inventory", "show", "--org", "ACME", "--year", str(YEAR)], env=env,
                           capture_output=True, text=True)
    assert shown.returncode != 0 and "compute it first" in shown.stdout + shown.stderr
