"""Freight legs per ISO 14083:2023 / GLEC Framework: t.km x (TTW + WTT) intensity, great-circle distance,
fuel-based and carrier-reported legs, modal shift."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zerocarbon.core.factors import DATA, build_factor_set, load_factor_set
from zerocarbon.core.supply.logistics import great_circle_km, leg_emissions
from zerocarbon.errors import FactorNotFoundError


@pytest.fixture(scope="module")
def fs():
    return load_factor_set("CN-2025.1")


def legs(**cols) -> pd.DataFrame:
    base = {"mode": ["road"], "vehicle": [""], "mass_t": [12.5], "distance_km": [1210.0], "origin_lat": [np.nan],
            "origin_lon": [np.nan], "destination_lat": [np.nan], "destination_lon": [np.nan]}
    return pd.DataFrame(base | cols)


def test_road_leg_tkm_times_ttw_and_wtt_intensity(fs):
    """12.5 t over 1,210 km by an average laden HGV (all diesel). DESNZ 2024 freighting goods: TTW 0.09752 and WTT
    0.02359 kg CO2e per t.km. Transport activity 12.5 x 1,210 = 15,125 t.km; TTW 1,474.99 kg, WTT 356.80 kg,
    well-to-wheel 1,831.78 kg; intensity 121.11 g CO2e/t.km."""
    out = leg_emissions(legs(), fs).iloc[0]
    assert out["tkm"] == pytest.approx(15_125.0)
    assert out["ttw_kg"] == pytest.approx(15_125 * 0.09752)
    assert out["wtt_kg"] == pytest.approx(15_125 * 0.02359)
    assert out["co2e_kg"] == pytest.approx(1831.7875)
    assert out["intensity_g_per_tkm"] == pytest.approx(121.11)
    assert (out["method"], out["distance_source"], out["vehicle"]) == ("distance_based", "given", "hgv_average_laden")
    assert "DESNZ2024.freight.road.hgv_average_laden" in out["factor_ids"]


def test_great_circle_distance_by_haversine():
    # One degree of latitude on the IUGG mean sphere: 2 x pi x 6371.0088 / 360 = 111.195 km.
    assert great_circle_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(111.195, abs=1e-3)
    # Tianjin (39.0851 N, 117.1994 E) to Shanghai (31.2304 N, 121.4737 E): about 960 km.
    assert great_circle_km(39.0851, 117.1994, 31.2304, 121.4737) == pytest.approx(960, abs=5)


def test_coordinates_only_leg_needs_the_modes_distance_adjustment(fs):
    coords = dict(distance_km=[np.nan], origin_lat=[39.0851], origin_lon=[117.1994], destination_lat=[31.2304],
                  destination_lon=[121.4737])
    with pytest.raises(FactorNotFoundError, match="distance adjustment factor"):
        leg_emissions(legs(**coords), fs)
    # A set with a DAF row (here a user's own file; the value is the user's, stated with its source).
    own = ("factor_id,kind,subject,use,gas,value,unit,basis,region,year,issuer,document,edition,licence,confidence,"
           "source_key,notes\nOWN.daf.road,distance_adjustment,road,,,1.05,km/km,,,2024,Own,own route study,1,own,"
           "own,own:daf,test\n")
    text = (DATA / "factor_sets" / "CN-2025.1.yaml").read_text(encoding="utf-8")
    with_daf = build_factor_set("CN-own", text.replace("id: CN-2025.1", "id: CN-own"), [("own.csv", own)], "stored")
    out = leg_emissions(legs(**coords), with_daf).iloc[0]
    gc = great_circle_km(39.0851, 117.1994, 31.2304, 121.4737)
    assert out["distance_km"] == pytest.approx(gc * 1.05) and out["distance_source"] == "great_circle"
    assert "OWN.daf.road" in out["factor_ids"]


def test_fuel_based_and_carrier_reported_legs(fs):
    """Fuel-based: 0.26 t of gas/diesel oil. TTW: IPCC 2006 NCV 43.0 GJ/t x 74.1 kg CO2/GJ = 3,186.3 kg CO2 per t
    (the set has no CH4/N2O for it: disclosed in the formula); WTT: DESNZ 2024 743.83524 kg CO2e per t."""
    out = leg_emissions(legs(fuel=["gas_diesel_oil"], fuel_quantity=[0.26], fuel_unit=["t"],
                             carrier_co2e_kg=[np.nan]), fs).iloc[0]
    assert out["method"] == "fuel_based"
    assert out["ttw_kg"] == pytest.approx(0.26 * 3186.3)
    assert out["wtt_kg"] == pytest.approx(0.26 * 743.83524)
    assert "not estimated" in out["formula"]
    rep = leg_emissions(legs(carrier_co2e_kg=[1050.0], carrier=["Tianjin Haul"]), fs).iloc[0]
    assert (rep["method"], rep["co2e_kg"]) == ("carrier_reported", 1050.0)
    assert np.isnan(rep["ttw_kg"]) and rep["intensity_g_per_tkm"] == pytest.approx(1050_000 / 15_125)


def test_modal_shift_recomputes_each_leg_for_another_mode(fs):
    base = legs(mode=["road", "road"], vehicle=["", ""], mass_t=[12.5, 20.0], distance_km=[1210.0, 300.0],
                origin_lat=[np.nan] * 2, origin_lon=[np.nan] * 2, destination_lat=[np.nan] * 2,
                destination_lon=[np.nan] * 2, carrier_co2e_kg=[np.nan, 400.0])
    rail = leg_emissions(base, fs, mode="rail")
    # DESNZ 2024 freight train: TTW 0.02779 kg CO2e/t.km (+ its WTT); the carrier's road figure is set aside.
    assert (rail["method"] == "distance_based").all() and (rail["vehicle"] == "freight_train").all()
    assert rail["ttw_kg"].tolist() == pytest.approx([15_125 * 0.02779, 6000 * 0.02779])
    road = leg_emissions(base, fs)
    assert rail["co2e_kg"].iloc[0] < road["co2e_kg"].iloc[0]
    with pytest.raises(FactorNotFoundError, match="unknown transport mode"):
        leg_emissions(base, fs, mode="pipeline")
