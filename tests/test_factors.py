import csv
from pathlib import Path

import pytest

from tests.helpers import data, elec
from zerocarbon.core import factors as factors_mod
from zerocarbon.core.factors import (all_factors, available_factor_sets, build_factor_set, load_factor_set,
                                     parse_factor_csv)
from zerocarbon.core.ghg.inventory import compute_inventory
from zerocarbon.core.model import Organisation, Site
from zerocarbon.errors import FactorNotFoundError, InputError
from zerocarbon.units import scale

PROVENANCE = ("issuer", "document", "edition", "licence", "confidence", "source_key")
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
# Scope 3 files are extracted straight from the publication (tools/extract_desnz_scope3.py,
# tools/extract_epa_supply_chain.py), not from the reference pack.
DIRECT = ("desnz2024-flat:", "usepa-sc-v1.3:")
SETS = Path(__file__).resolve().parents[1] / "src" / "zerocarbon" / "data" / "factor_sets"
TIANJIN = Site("TJ01", "Tianjin", country="CN", province="天津", grid_region="north")


def test_every_factor_has_provenance_and_a_known_unit():
    for f in all_factors():
        for field in PROVENANCE:
            assert getattr(f, field), f"{f.factor_id} lacks {field}"
        num, den = f.unit.split("/", 1)
        scale(num, num), scale(den, den)  # pint must know both


def test_every_factor_traces_to_a_reference_row():
    keys = set()
    for path in REFERENCE.glob("*.csv"):
        with path.open(encoding="utf-8") as fh:
            keys |= {r["key"] for r in csv.DictReader(fh)}
    for f in all_factors():
        if f.source_key.startswith("ocd:"):  # read from the CC0 dataset itself, documented in the factor file
            continue
        if f.source_key.startswith(DIRECT):  # extracted from the publication by tools/extract_*.py (row/cell in notes)
            continue
        for k in f.source_key.split(";"):
            assert k in keys, f"{f.factor_id}: {k} not in the reference pack"


def test_the_package_ships_no_reference_build_inputs():
    """Defect: the reference CSVs were installed with the package although only the build tool reads them."""
    packaged = Path(factors_mod.__file__).resolve().parents[1] / "data" / "reference"
    assert not list(packaged.glob("*.csv")), "build inputs belong in the top-level data/reference/"


def test_fingerprints_are_stable_across_loads_and_change_with_one_byte():
    """Defect: the old test never compared two loads, so it could not fail."""
    first = {sid: load_factor_set(sid).fingerprint for sid in available_factor_sets()}
    load_factor_set.cache_clear()
    factors_mod._read_factor_file.cache_clear()
    again = {sid: load_factor_set(sid).fingerprint for sid in available_factor_sets()}
    assert first == again and all(len(v) == 64 for v in first.values())
    text = (SETS / "CN-2025.1.yaml").read_text(encoding="utf-8")
    assert build_factor_set("CN-2025.1", text).fingerprint == first["CN-2025.1"]
    assert build_factor_set("CN-2025.1", text.replace("China", "Chino", 1)).fingerprint != first["CN-2025.1"]
    own = _user_csv()
    a = build_factor_set("mine", _user_rules(), [("mine.csv", own)]).fingerprint
    b = build_factor_set("mine", _user_rules(), [("mine.csv", own.replace("0.41", "0.42"))]).fingerprint
    assert a != b


def test_a_set_is_named_never_a_path():
    """Defect: `--factors ../factor_sets/CN-2025.1` (a relative path) loaded a file by path."""
    for bad in ("../factor_sets/CN-2025.1", "CN-2025.1/../CN-2025.1", "/etc/passwd", "..", ".hidden", ""):
        with pytest.raises(FactorNotFoundError):
            load_factor_set(bad)


# -- grid selection ---------------------------------------------------------------------------------
def test_grid_selection_exact_year_and_province(cn):
    sel = cn.grid_factor("location", 2022, TIANJIN)
    assert sel.factor.factor_id == "CN_MEE_NBS.grid.location.CN-天津.2022" and sel.warning is None


def test_grid_selection_falls_back_with_a_warning(cn):
    # 2023 has region factors but no provincial ones: the set prefers the newer year.
    sel = cn.grid_factor("location", 2023, TIANJIN)
    assert sel.factor.value == pytest.approx(0.6361) and "grid_region" in sel.warning
    sel = cn.grid_factor("location", 2025, TIANJIN)
    assert sel.factor.year == 2023 and "not published" in sel.warning


def test_residual_series_is_national(cn):
    # MEE/NBS 2022: 全国电力平均二氧化碳排放因子(不包括市场化交易的非化石能源电量) = 0.5856 kgCO2/kWh
    assert cn.grid_factor("residual", 2022, TIANJIN).factor.value == pytest.approx(0.5856)


def test_no_factor_before_first_published_year(cn):
    with pytest.raises(FactorNotFoundError):
        cn.grid_factor("location", 2019, TIANJIN)


def test_published_grid_values():
    """MEE & NBS announcements: national average 0.5568 (2021), 0.5366 (2022), 0.5306 (2023) kgCO2/kWh."""
    fs = load_factor_set("CN-2025.1")
    got = {y: fs.grid_factor("location", y, Site("CN0", "national", country="CN")).factor.value
           for y in (2021, 2022, 2023)}
    assert got == {2021: 0.5568, 2022: 0.5366, 2023: 0.5306}


def test_a_site_outside_the_sets_countries_is_an_error_not_the_china_factor(cn):
    """Defect: a German site silently got the China national grid factor."""
    berlin = Site("BER1", "Berlin", country="DE", timezone="Europe/Berlin")
    with pytest.raises(FactorNotFoundError, match="BER1.*CN-2025.1"):
        cn.grid_factor("location", 2023, berlin)
    org = Organisation("O", "o", (berlin,))
    with pytest.raises(FactorNotFoundError, match="BER1"):
        compute_inventory(org, data(electricity=[elec("BER1", 1_000)]), cn, 2023)


def test_uk_is_not_an_iso_country_code():
    with pytest.raises(FactorNotFoundError, match="GB"):
        load_factor_set("UK-DESNZ-2025.1").grid_factor("location", 2024, Site("L1", "London", country="UK"))


def _with_fallback(rule: str):
    text = (SETS / "CN-2025.1.yaml").read_text(encoding="utf-8").replace(
        "fallback: latest_year_first", f"fallback: {rule}")
    return build_factor_set("CN-test", text)


def test_fallback_rule_is_read_from_the_set():
    """Defect: `fallback:` was never read. Tianjin 2023 has a 2023 region factor and a 2022 provincial one:
    latest_year_first takes 华北 2023 (0.6361), most_specific_first takes 天津 2022."""
    newest = _with_fallback("latest_year_first").grid_factor("location", 2023, TIANJIN)
    specific = _with_fallback("most_specific_first").grid_factor("location", 2023, TIANJIN)
    assert newest.factor.factor_id == "CN_MEE_NBS.grid.location.CN-grid-north.2023"
    assert specific.factor.factor_id == "CN_MEE_NBS.grid.location.CN-天津.2022"
    assert "not published" in specific.warning and "province level" in specific.warning
    with pytest.raises(InputError, match="grid.fallback"):
        _with_fallback("closest_guess")


def test_egrid_subregion_by_grid_region():
    """EPA Hub 2025 Table 6 (eGRID2023, Jan 2025): CAMX (WECC California) CO2 436.655 lb/MWh; US 771.523."""
    us = load_factor_set("US-EGRID-2025.1")
    sf = Site("SF1", "San Jose", country="US", grid_region="CAMX", timezone="America/Los_Angeles")
    sel = us.grid_factor("location", 2023, sf)
    assert (sel.factor.value, sel.factor.unit, sel.factor.gas) == (436.655, "lb/MWh", "CO2")
    assert sel.warning is None
    inv = compute_inventory(Organisation("O", "o", (sf,)), data(electricity=[elec("SF1", 1_000_000)]), us, 2023)
    # 1,000 MWh x 436.655 lb/MWh x 0.45359237 kg/lb = 198,063.4 kg
    assert inv.totals()["scope2_location_t"] == pytest.approx(198.0634, rel=1e-6)
    assert any("market-based proxy" in w for w in inv.warnings)
    unknown = Site("X1", "x", country="US", grid_region="NOPE")
    with pytest.raises(FactorNotFoundError, match="'NOPE' is not one of the 27 grid regions of US"):
        us.grid_factor("location", 2023, unknown)  # a typo no longer falls back to the US average silently
    assert us.grid_factor("location", 2023, Site("X2", "x", country="US")).factor.value == 771.523


def test_uk_grid_factor_desnz_2024():
    """DESNZ/Defra 2024 flat file v1.1, Scope 2, Electricity: UK: 0.20705 kg CO2e/kWh (CO2 part 0.20493)."""
    uk = load_factor_set("UK-DESNZ-2025.1")
    ldn = Site("LDN", "London", country="GB", timezone="Europe/London")
    sel = uk.grid_factor("location", 2024, ldn)
    assert (sel.factor.value, sel.factor.unit, sel.factor.gas) == (0.20705, "kgCO2e/kWh", "CO2e")
    assert uk.get("DESNZ2024.grid.location.GB.CO2").value == 0.20493
    inv = compute_inventory(Organisation("O", "o", (ldn,)), data(electricity=[elec("LDN", 1_000_000)]), uk, 2024)
    assert inv.totals()["scope2_location_t"] == pytest.approx(207.05)
    assert set(inv.ledger["gas"].astype(str)) == {"CO2e"}


def test_global_set_residual_mix_then_grid_average():
    """AIB European Residual Mixes 2024 v1.1, Table 2, Italy: 441.20 g CO2/kWh; Germany has no shipped
    residual mix, so the Ember grid intensity is the disclosed proxy."""
    g = load_factor_set("GLOBAL-EMBER-2025.1")
    assert g.grid_factor("residual", 2024, Site("MI", "Milan", country="IT")).factor.value == 441.20
    de = g.grid_factor("residual", 2024, Site("BE", "Berlin", country="DE"))
    assert de.factor.subject == "lifecycle" and "market-based proxy" in de.warning
    assert "life-cycle" in g.grid_factor("location", 2024, Site("BE", "Berlin", country="DE")).warning


def test_epa_hub_2025_non_road_and_steam_values():
    """EPA Hub 2025 Table 5, Industrial/Commercial Equipment, Diesel: 0.43 g CH4 and 0.62 g N2O per gallon;
    Table 7 Steam and Heat: 66.33 kg CO2, 1.25 g CH4, 0.125 g N2O per mmBtu."""
    by_id = {f.factor_id: f for f in all_factors()}
    assert by_id["EPA2025.distillate_fuel_oil_no2.CH4.nonroad.industrial_commercial_equipment"].value == 0.43
    assert by_id["EPA2025.distillate_fuel_oil_no2.N2O.nonroad.industrial_commercial_equipment"].value == 0.62
    assert [by_id[f"EPA2025.steam_and_heat.{g}"].value for g in ("CO2", "CH4", "N2O")] == [66.33, 1.25, 0.125]


# -- user factor files ------------------------------------------------------------------------------
HEADER = ",".join(factors_mod.COLUMNS)


def _user_csv() -> str:
    return (HEADER + "\n"
            "ACME.grid.location.VN.2024,grid_electricity,location,,CO2,0.41,kg/kWh,,VN,2024,"
            "Utility X,Annual disclosure 2024 p.3,2024,CC BY 4.0,supplier,acme:1,\n")


def _user_rules() -> str:
    return ("title: ACME Vietnam\nfiles: [gwp.csv]\n"
            "grid: {location_series: location, residual_series: location, resolution: [national],"
            " fallback: most_specific_first}\n"
            "combustion: {priority: [], missing_non_co2: error}\n")


def test_user_set_selects_its_own_factor():
    fs = build_factor_set("acme-vn", _user_rules(), [("mine.csv", _user_csv())], origin="stored")
    assert fs.grid_factor("location", 2024, Site("HN", "Hanoi", country="VN")).factor.value == 0.41
    assert fs.gwp("CH4", "AR5").value == 28


@pytest.mark.parametrize("edit, column, reason", [
    (lambda t: t.replace("Utility X", ""), "issuer", "empty"),
    (lambda t: t.replace(",CC BY 4.0,", ",,"), "licence", "empty"),
    (lambda t: t.replace(",0.41,", ",nan,"), "value", "finite"),
    (lambda t: t.replace(",0.41,", ",-0.41,"), "value", "positive"),
    (lambda t: t.replace(",0.41,", ",0,"), "value", "positive"),
    (lambda t: t.replace(",kg/kWh,", ",kg/kWhr,"), "unit", "unknown unit"),
    (lambda t: t.replace(",kg/kWh,", ",kg,"), "unit", "not a ratio"),
    (lambda t: t.replace(",2024,Utility", ",20x4,Utility"), "year", "not a year"),
])
def test_user_factor_file_problems_name_row_and_column(edit, column, reason):
    with pytest.raises(InputError) as exc:
        parse_factor_csv(edit(_user_csv()), "mine.csv")
    p = exc.value.problems[0]
    assert (p.source, p.row, p.column) == ("mine.csv", 2, column) and reason in p.reason


def test_user_factor_file_needs_every_column():
    with pytest.raises(InputError, match="source_key"):
        parse_factor_csv(_user_csv().replace(",source_key", ""), "mine.csv")
