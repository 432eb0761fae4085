"""Worked examples from published factor tables."""
import csv
from pathlib import Path

import pytest

from zerocarbon.core.ghg.calc import calc
from zerocarbon.core.ghg.combustion import fuel_route
from zerocarbon.errors import BasisMismatchError, FactorNotFoundError, UnitError


def _epa_reference():
    # The reference pack is a build input at the top of the repository, not installed with the package.
    ref = Path(__file__).resolve().parents[1] / "data" / "reference" / "fuels_epa.csv"
    with ref.open(encoding="utf-8") as fh:
        return {r["key"]: float(r["value"]) for r in csv.DictReader(fh) if r["key"].count(".") == 2}


EPA_FUELS = sorted({k.split(".")[1] for k in _epa_reference()})
PHYS = {"natural_gas": "scf", "propane_gas": "scf", "coal_bituminous": "short_ton", "coal_subbituminous": "short_ton",
        "coal_mixed_industrial": "short_ton"}


@pytest.mark.parametrize("fuel", EPA_FUELS)
def test_epa_hub_per_unit_factors_are_reproduced(epa, fuel):
    """US EPA GHG Emission Factors Hub 2025, Table 1: the per-unit CO2 factor equals heat content x
    per-mmBtu factor. Our per-energy route must give the published per-unit figure (to its rounding)."""
    ref = _epa_reference()
    unit = PHYS.get(fuel, "gallon")
    route = fuel_route(epa, fuel, "stationary", unit)
    co2 = next(g for g in route.gases if g.gas == "CO2")
    published = ref[f"EPA2025.{fuel}.CO2_per_unit"]
    assert co2.kg_per_activity_unit == pytest.approx(published, rel=6e-3)


def test_epa_natural_gas_1000_scf(epa):
    # EPA Hub 2025 Table 1: natural gas 0.05444 kg CO2/scf, 0.00103 g CH4/scf, 0.0001 g N2O/scf
    r = calc(epa, 1000, "scf", "natural_gas", "AR5")
    by = {x.gas: x for x in r.lines}
    assert by["CO2"].mass_kg == pytest.approx(54.44, rel=1e-3)
    assert by["CH4"].mass_kg == pytest.approx(1.03e-3, rel=1e-2)
    assert by["N2O"].mass_kg == pytest.approx(1.0e-4, rel=3e-2)
    # AR5 GWPs CH4 28, N2O 265 (EPA Hub Table 11)
    assert r.total_co2e_kg == pytest.approx(by["CO2"].mass_kg + 28 * by["CH4"].mass_kg + 265 * by["N2O"].mass_kg)


def test_ipcc_diesel_one_terajoule(cn):
    # 2006 IPCC GL Vol.2 ch.2 default for gas/diesel oil: 74,100 kg CO2/TJ (NCV)
    r = calc(cn, 1, "TJ", "gas_diesel_oil", "AR5", basis="NCV")
    by = {x.gas: x.mass_kg for x in r.lines}
    assert by["CO2"] == pytest.approx(74100)
    assert by["CH4"] == pytest.approx(3.0) and by["N2O"] == pytest.approx(0.6)


def test_ipcc_diesel_by_mass_uses_ncv(cn):
    # 1 t diesel x 43.0 GJ/t (IPCC NCV) x 74.1 kg/GJ = 3,186.3 kg CO2
    route = fuel_route(cn, "gas_diesel_oil", "stationary", "t")
    assert route.gases[0].kg_per_activity_unit == pytest.approx(3186.3)


def test_natural_gas_gbt_default(cn):
    # GB/T 32151 defaults (UNVERIFIED in the pack): 389.31 GJ/万Nm3 x 15.3 tC/TJ x 0.99 x 44/12
    route = fuel_route(cn, "natural_gas", "stationary", "万Nm3")
    expected_t = 389.31 / 1000 * 15.3 * 0.99 * 44 / 12
    assert route.gases[0].kg_per_activity_unit / 1000 == pytest.approx(expected_t, rel=1e-4)
    assert route.omitted == ("CH4", "N2O")  # no sourced default: disclosed, not guessed


def test_hhv_energy_against_ncv_factor_is_refused(cn, epa):
    with pytest.raises(BasisMismatchError, match="GCV"):
        fuel_route(cn, "gas_diesel_oil", "stationary", "GJ", "HHV")
    with pytest.raises(BasisMismatchError):
        fuel_route(epa, "natural_gas", "stationary", "GJ", "LHV")
    with pytest.raises(BasisMismatchError, match="without an energy basis"):
        fuel_route(epa, "natural_gas", "stationary", "GJ", "")


def test_wrong_dimension_and_unknown_fuel(cn):
    with pytest.raises(UnitError):
        fuel_route(cn, "natural_gas", "stationary", "km")
    with pytest.raises(FactorNotFoundError, match="known fuels"):
        fuel_route(cn, "unobtainium", "stationary", "t")


def test_geometric_cubic_metres_need_reference_conditions(cn):
    # m3 of natural gas without conditions is ambiguous (mass? Nm3? Sm3?): no route exists.
    with pytest.raises(FactorNotFoundError):
        fuel_route(cn, "natural_gas", "stationary", "m**3")


def test_calc_refrigerant_release(cn):
    # R-410A AR5 GWP published by EPA Hub Table 12: 1924
    r = calc(cn, 10, "kg", "R-410A", "AR5")
    assert r.total_co2e_kg == pytest.approx(19240)


def test_nonroad_equipment_gets_epa_table5_ch4_n2o():
    """EPA Hub 2025 Table 5: diesel in industrial/commercial equipment (forklifts) 0.43 g CH4 and 0.62 g N2O per
    gallon; before, `use` could only be stationary or mobile, so these shipped factors could not be reached."""
    from zerocarbon.core.factors import load_factor_set

    r = calc(load_factor_set("US-EGRID-2025.1"), 1000, "gallon", "distillate_fuel_oil_no2", "AR5",
             "nonroad.industrial_commercial_equipment", "")
    mass = {x.gas: x.mass_kg for x in r.lines}
    assert mass["CH4"] == pytest.approx(0.43) and mass["N2O"] == pytest.approx(0.62)
    assert mass["CO2"] == pytest.approx(1000 * 0.138 * 73.96)  # HHV 0.138 mmBtu/gal x 73.96 kg/mmBtu (Table 1)


def test_unknown_nonroad_category_is_refused_with_the_known_ones():
    from zerocarbon.core.factors import load_factor_set

    with pytest.raises(FactorNotFoundError, match="nonroad.industrial_commercial_equipment"):
        fuel_route(load_factor_set("US-EGRID-2025.1"), "distillate_fuel_oil_no2", "nonroad.spaceships", "gallon")
