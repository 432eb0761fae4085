"""Each assessment metric provider on a small stored year with hand-computed values; missing data gives None with
the reason, never a zero.

Fixture (organisation of tests/data/organisation.yaml, year 2025, site TJ01):
- grid electricity 100 000 kWh; PV 20 MWh generated, 2 MWh exported (18 000 kWh self-consumed);
- one green electricity certificate of 30 MWh (wind, 0 kg/kWh) retired for TJ01 2025;
- natural gas 1 万Nm3 (stationary): NCV 389.31 GJ/万Nm3 (GB/T 32151 default in CN-2025.1);
- packaging rows stating 10 000 + 2 000 units produced; waste 10 t recycled (closed loop) + 5 t landfilled;
- refrigerant: one screening row, charge 100 kg at 2 %/yr, one mass-balance row (no installed charge).
GB/T 2589 constants: 1 kgce = 29 307.6 kJ, electricity 0.1229 kgce/kWh (equivalent value).
Workshop: line L1 of TJ01 (meter ML1, 1 kWh per 15 min) and roof meter PV1 (0.1 kWh per 15 min) on 6-7 Jan
2025, 10 units per 15 min on L1 from 08:00 to 16:00 local.
"""
from __future__ import annotations

import pandas as pd
import pytest

from tests.api_support import load_org
from zerocarbon.services import accounting
from zerocarbon.services import assessment_metrics as am

ORG, YEAR = "ORG", 2025
FILES = {
    "electricity": "site,meter,period_start,period_end,quantity,unit\nTJ01,TJ01-M1,2025-01-01,2025-12-31,100000,kWh\n",
    "generation": "site,period_start,period_end,technology,generated,exported,unit\n"
                  "TJ01,2025-01-01,2025-12-31,pv,20,2,MWh\n",
    "instrument": "instrument_id,type,registry,market,volume,unit,vintage_start,vintage_end,serial_start,serial_end,"
                  "retired_for_site,retired_for_year,emission_factor,technology\n"
                  "GEC-1,GEC,CN-GEC,CN,30,MWh,2025-01-01,2025-12-31,1,30,TJ01,2025,0,wind\n",
    "fuel": "site,period_start,period_end,fuel,use,quantity,unit,basis,biogenic\n"
            "TJ01,2025-01-01,2025-12-31,natural_gas,stationary,1,万Nm3,,false\n",
    "refrigerant": "site,period_start,period_end,gas,method,unit,inventory_start,inventory_end,purchased,"
                   "recovered_or_sold,capacity_change,charge,annual_leak_rate,parameter_source\n"
                   "TJ01,2025-01-01,2025-12-31,HFC-134a,screening,kg,,,,,,100,0.02,service log\n"
                   "TJ01,2025-01-01,2025-12-31,R-410A,mass_balance,kg,20,17,6,0.5,1,,,refrigerant log\n",
    "packaging": "site,period_start,period_end,product,units,material,mass_per_unit,unit,recycled_share,plastic\n"
                 "TJ01,2025-01-01,2025-12-31,LAPTOP-A,10000,paper_board,0.80,kg,0.5,false\n"
                 "TJ01,2025-01-01,2025-12-31,LAPTOP-A,10000,plastics_average,50,g,0,true\n"
                 "TJ01,2025-01-01,2025-12-31,MONITOR-B,2000,paper_board,1.5,kg,0.8,false\n",
    "waste": "site,period_start,period_end,material,treatment,quantity,unit\n"
             "TJ01,2025-01-01,2025-12-31,paper_board,recycling_closed_loop,10,t\n"
             "TJ01,2025-01-01,2025-12-31,commercial_industrial_waste,landfill,5000,kg\n",
}
KGCE = 1000 / 29307.6  # kgce per MJ
GAS_KGCE = 389.31e3 * KGCE  # 1 万Nm3 x 389.31 GJ/万Nm3
ELEC_KGCE = 118_000 * 0.1229
UNITS = 12_000


def _import(sessions, tmp_path, kind, text, year=YEAR):
    path = tmp_path / f"{kind}_{year}.csv"
    path.write_text(text, encoding="utf-8")
    accounting.import_file(sessions, ORG, kind, path, year, "CN-2025.1", actor="test")


# The files the assessment pages, API and CLI tests store: energy, instruments and packaged units.
ASSESSED_KINDS = ("electricity", "generation", "instrument", "fuel", "packaging")


def stored_year(sessions, tmp_path, kinds=ASSESSED_KINDS):
    """Organisation ORG with the files of ``kinds`` imported and the year computed."""
    load_org(sessions, ORG)
    for kind in kinds:
        _import(sessions, tmp_path, kind, FILES[kind])
    accounting.compute(sessions, ORG, YEAR, "CN-2025.1", actor="test")


@pytest.fixture
def stored(sessions, tmp_path):
    stored_year(sessions, tmp_path, FILES)
    return sessions


def _ctx(sessions, **kw) -> am.MetricContext:
    b = kw.pop("boundary", am.Boundary("site", "TJ01"))
    kw.pop("registry", None)
    return am.MetricContext(sessions, ORG, YEAR, b, **kw)


def _v(ctx, key):
    return am.compute(ctx, [key])[key]


@pytest.fixture
def lake(tmp_path):
    return make_lake(tmp_path)


def make_lake(tmp_path) -> dict:
    """A two-day lake of lines L1, L2 and roof PV of TJ01, with production counts."""
    from zerocarbon.services import meter_import

    reg = tmp_path / "meters.csv"
    head = "id,site,area,line,medium,unit,multiplier,register,stamp,interval_min,timezone,revenue\n"
    reg.write_text(head + "ML1,TJ01,SMT,L1,electricity,kWh,1,interval,start,15,Asia/Shanghai,false\n"
                          "ML2,TJ01,SMT,L2,electricity,kWh,1,interval,start,15,Asia/Shanghai,false\n"
                          "PV1,TJ01,roof,,pv,kWh,1,interval,start,15,Asia/Shanghai,false\n", encoding="utf-8")
    idx = pd.date_range("2025-01-06 00:00", "2025-01-07 23:45", freq="15min")
    stamps = idx.strftime("%Y-%m-%d %H:%M:%S")
    readings = pd.concat([pd.DataFrame({"meter": m, "timestamp": stamps, "value": v})
                          for m, v in (("ML1", 1.0), ("ML2", 2.0), ("PV1", 0.1))])
    rpath = tmp_path / "readings.csv"
    readings.to_csv(rpath, index=False)
    hour = idx.hour
    prod = tmp_path / "production.csv"
    pd.DataFrame({"timestamp": stamps, "L1": ((hour >= 8) & (hour < 16)) * 10,
                  "L2": ((hour >= 8) & (hour < 16)) * 5}).to_csv(prod, index=False)
    meters = meter_import.read_registry(reg)
    meter_import.import_file(tmp_path / "lake", ORG, meters, rpath)
    return {"lake": tmp_path / "lake", "meters": meters, "production": prod, "registry": reg}


WORKSHOP = am.Boundary("workshop", "TJ01", "SMT-1", ("L1",), ("PV1",))


def test_every_known_computed_metric_has_a_provider_in_the_index_unit():
    from zerocarbon.core.assessment.index import KNOWN_METRICS

    got = am.providers()
    for key, unit in KNOWN_METRICS.items():
        if key.startswith(("targets.", "claim.")):
            continue
        assert key in got, key
        assert got[key].unit == unit, key


def test_site_electricity_metrics_by_hand(stored):
    ctx = _ctx(stored)
    re = _v(ctx, "energy.renewable_electricity_share")
    # (18 000 PV self-consumed + 30 000 certificate kWh) / (100 000 grid + 18 000 PV)
    assert re.value == pytest.approx(48_000 / 118_000)
    assert re.lineage["instruments"] == ["GEC-1"] and re.lineage["batches"]
    kwh = _v(ctx, "energy.kwh_per_unit")
    assert kwh.value == pytest.approx(118_000 / UNITS) and kwh.lineage["units"] == UNITS


def test_site_energy_in_kgce_by_hand(stored):
    ctx = _ctx(stored)
    total = GAS_KGCE + ELEC_KGCE  # 13 283.4 + 14 502.2 kgce
    assert _v(ctx, "energy.kgce_per_unit").value == pytest.approx(total / UNITS, rel=1e-9)
    assert _v(ctx, "energy.electrification_share").value == pytest.approx(ELEC_KGCE / total)
    assert _v(ctx, "energy.non_fossil_share").value == pytest.approx(48_000 * 0.1229 / total)
    lineage = _v(ctx, "energy.kgce_per_unit").lineage
    assert lineage["gbt2589"]["electricity_equivalent"]["status"] == "sourced"
    assert any(h.startswith("GBT32151.natural_gas.NCV") for h in lineage["heating_values"])


def test_site_emission_metrics_match_the_stored_ledger(stored):
    ctx = _ctx(stored)
    site = next(t for t in accounting.site_totals(stored, ORG, YEAR) if t.site == "TJ01")
    # Natural gas: 389.31 GJ x 55.539 tCO2/TJ (GB/T 32151: 15.3 tC/TJ x 44/12 x 0.99) = 21.622 t; refrigerants
    # (AR5 GWP): HFC-134a 100 kg x 2 % x 1300 = 2.6 t; R-410A (20 - 17) + 6 - 0.5 - 1 = 7.5 kg x 1923.5 = 14.43 t
    assert site.scope1 == pytest.approx(0.38931 * 55.539 + 2.6 + 7.5 * 1.9235, rel=1e-3)
    s12 = site.scope1 + site.scope2_location
    assert _v(ctx, "ghg.scope12_kg_per_unit").value == pytest.approx(s12 * 1000 / UNITS)
    assert _v(ctx, "ghg.tco2_per_tce").value == pytest.approx(s12 / ((GAS_KGCE + ELEC_KGCE) / 1000))


def test_records_metrics_by_hand(stored):
    ctx = _ctx(stored)
    leak = _v(ctx, "ghg.refrigerant_leak_rate")
    assert leak.value == pytest.approx(0.02) and leak.lineage["rows_without_charge"] == 1
    assert _v(ctx, "recycling.waste_recycling_rate").value == pytest.approx(10 / 15)
    # recycled content: 10 000 x 0.8 kg x 0.5 + 2 000 x 1.5 kg x 0.8 over 8 000 + 500 + 3 000 kg
    assert _v(ctx, "packaging.recycled_share").value == pytest.approx((4000 + 2400) / 11_500)
    assert _v(ctx, "ghg.traceability_share").value == pytest.approx(1.0)
    comp = _v(ctx, "ghg.inventory_completeness")
    # Scope 1, Scope 2, factor ids and Scope 3 (category 5, the waste rows) are met; no base year, no verification
    assert comp.value == 4.0 and comp.unit == "count"
    assert comp.lineage["items"][am.COMPLETENESS_ITEMS[3]] is False


def test_missing_data_is_none_with_a_reason_never_zero(stored, sessions):
    ctx = _ctx(stored)
    for key in ("supply.pcf_share", "ghg.scope12_change_vs_base", "energy.idle_share", "energy.metered_share",
                "energy.auto_acquisition_share", "mv.verified_savings_share", "supply.compliance_share"):
        v = _v(ctx, key)
        assert v.value is None and v.note.startswith("not available:"), (key, v)
    other = am.MetricContext(stored, ORG, 2024, am.Boundary("site", "TJ01"))
    for key in ("energy.kwh_per_unit", "energy.renewable_electricity_share", "ghg.scope12_kg_per_unit"):
        v = _v(other, key)
        assert v.value is None and "2024" in v.note, (key, v)
    base = _ctx(stored, base_year=2024)
    assert "no stored inventory" in _v(base, "ghg.scope12_change_vs_base").note


def test_change_against_base_year(stored, tmp_path):
    for kind in ("electricity", "fuel", "refrigerant"):
        _import(stored, tmp_path, kind, FILES[kind].replace("2025-", "2024-").replace("100000", "125000"), 2024)
    accounting.compute(stored, ORG, 2024, "CN-2025.1", actor="test")
    now = next(t for t in accounting.site_totals(stored, ORG, YEAR) if t.site == "TJ01")
    was = next(t for t in accounting.site_totals(stored, ORG, 2024) if t.site == "TJ01")
    v = _v(_ctx(stored, base_year=2024), "ghg.scope12_change_vs_base")
    expected = (now.scope1 + now.scope2_location) / (was.scope1 + was.scope2_location) - 1
    # 25 % more grid electricity in 2024, the same fuel and refrigerants: 2025 is lower
    assert v.value == pytest.approx(expected) and v.value < 0 and v.lineage["base_year"] == 2024


def test_workshop_metrics_from_the_lake_by_hand(stored, lake):
    ctx = _ctx(stored, boundary=WORKSHOP, **lake)
    kwh = _v(ctx, "energy.kwh_per_unit")
    assert kwh.value == pytest.approx(192 / 640)  # 192 kWh over 2 days / 2 x 32 intervals x 10 units
    re = _v(ctx, "energy.renewable_electricity_share")
    # PV 19.2 kWh + the site's certificate cover (30 000 / 100 000) of the 172.8 grid kWh, over 192 kWh
    assert re.value == pytest.approx((19.2 + 0.3 * 172.8) / 192)
    auto = _v(ctx, "energy.auto_acquisition_share")
    assert auto.value == pytest.approx(2 * 192 / (2 * 365 * 96))
    site = next(t for t in accounting.site_totals(stored, ORG, YEAR) if t.site == "TJ01")
    ghg = _v(ctx, "ghg.scope12_kg_per_unit")
    assert ghg.value == pytest.approx(172.8 * site.scope2_location / 100_000 * 1000 / 640)
    idle = _v(ctx, "energy.idle_share")
    assert idle.value is not None and 0 < idle.value < 1 and idle.lineage["lines"] == ["L1"]
    assert _v(ctx, "energy.electrification_share").value is None
    leak = _v(ctx, "ghg.refrigerant_leak_rate")
    assert leak.value == pytest.approx(0.02) and leak.lineage["attributed_from"] == "site"


def test_site_metered_share_from_sub_meters(stored, lake):
    v = _v(_ctx(stored, **lake), "energy.metered_share")
    # ML1 192 + ML2 384 kWh sub-metered over the site's 118 000 kWh
    assert v.value == pytest.approx(576 / 118_000)
    auto = _v(_ctx(stored, **lake), "energy.auto_acquisition_share")
    # ML1, ML2, PV1 each 192 of 35 040 intervals; TJ01-M1 of the inventory rows delivers no interval data
    assert auto.value == pytest.approx(3 * 192 / 35_040 / 4)
    assert auto.lineage["meters_without_interval_data"] == ["TJ01-M1"]


def test_unknown_workshop_line_is_refused(stored, lake):
    from zerocarbon.errors import InputError

    with pytest.raises(InputError) as e:
        am.boundary_meters(lake["meters"], am.Boundary("workshop", "TJ01", "X", ("L9",), ()))
    assert e.value.problems[0].column == "lines" and "L1" in e.value.problems[0].reason


def test_other_services_register_providers():
    from zerocarbon.core.assessment.scoring import MetricValue

    spec = am.MetricSpec("targets.defined", "bool", "target stored", "1 if a target is stored", "targets",
                         lambda ctx: MetricValue(1.0, "bool", "computed"))
    before = am.providers().get("targets.defined")
    try:
        am.register(spec)
        assert am.compute(None, ["targets.defined"])["targets.defined"].value == 1.0
    finally:
        if before is None:
            am._REGISTRY.pop("targets.defined", None)
        else:
            am.register(before)
