import pytest

from tests.helpers import data, elec, gec
from zerocarbon.core.ghg.inventory import compute_inventory
from zerocarbon.errors import DoubleClaimError, InputError


def test_location_based_uses_region_factor(org, cn):
    # 1,000 MWh in Tianjin, 2023: 华北 region factor 0.6361 kgCO2/kWh (MEE/NBS 2023) -> 636.1 t
    inv = compute_inventory(org, data(electricity=[elec("TJ01", 1_000_000)]), cn, 2023)
    assert inv.totals()["scope2_location_t"] == pytest.approx(636.1)


def test_market_based_with_certificates_and_residual(org, cn):
    d = data(electricity=[elec("TJ01", 600_000, 1), elec("TJ01", 400_000, 2)],
             instrument=[gec("G1", "TJ01", 700, "2023", year=2023)])
    inv = compute_inventory(org, d, cn, 2023)
    # 700 of 1,000 MWh covered at 0; 300 MWh x 0.6096 (national excl. market non-fossil, 2023) = 182.88 t
    assert inv.totals()["scope2_market_t"] == pytest.approx(182.88)
    assert inv.renewable_share() == pytest.approx(0.7)
    assert inv.claims["TJ01"].instrument_ids == ("G1",)


def test_instruments_never_cover_more_than_consumed(org, cn):
    d = data(electricity=[elec("TJ01", 100_000)], instrument=[gec("G1", "TJ01", 500, "2023", year=2023)])
    inv = compute_inventory(org, d, cn, 2023)
    assert inv.totals()["scope2_market_t"] == 0 and inv.renewable_share() == 1.0
    assert any("exceed" in w for w in inv.warnings)


def test_quality_criteria_vintage_and_market(org, cn):
    d = data(electricity=[elec("TJ01", 100_000)],
             instrument=[gec("OLD", "TJ01", 50, "2021", year=2023), gec("FOREIGN", "TJ01", 50, "2023", market="VN", year=2023)])
    inv = compute_inventory(org, d, cn, 2023)
    assert inv.claims["TJ01"].covered_kwh == 0
    assert any("vintage" in w for w in inv.warnings) and any("market VN" in w for w in inv.warnings)


def test_certificate_claimed_twice_is_an_error(org, cn):
    d = data(electricity=[elec("TJ01", 100_000), elec("HF01", 100_000)],
             instrument=[gec("G1", "TJ01", 50, "2023", serial=(1, 50), year=2023),
                         gec("G2", "HF01", 50, "2023", serial=(40, 89), year=2023)])
    with pytest.raises(DoubleClaimError, match="overlaps"):
        compute_inventory(org, d, cn, 2023)
    d = data(electricity=[elec("TJ01", 100_000)],
             instrument=[gec("G1", "TJ01", 50, "2023", year=2023), gec("G1", "TJ01", 50, "2023", year=2023)])
    with pytest.raises(DoubleClaimError, match="claimed twice"):
        compute_inventory(org, d, cn, 2023)


def test_pv_self_consumption_counts_as_renewable(org, cn):
    d = data(electricity=[elec("TJ01", 900_000)],
             generation=[{"site": "TJ01", "period_start": "2023-01-01", "period_end": "2023-12-31", "technology": "pv",
                          "generated": 120, "exported": 20, "unit": "MWh"}])
    inv = compute_inventory(org, d, cn, 2023)
    assert inv.renewable_share() == pytest.approx(100 / 1000)


def test_renewable_share_counts_only_renewable_zero_factor_instruments(org, cn):
    """Defect: every instrument counted as renewable, a gas-fired contract at 0.4 kg/kWh included."""
    d = data(electricity=[elec("TJ01", 1_000_000)],
             instrument=[gec("SOLAR", "TJ01", 200, "2023", year=2023, technology="solar"),
                         gec("GAS", "TJ01", 300, "2023", year=2023, technology="gas", ef=0.4),
                         gec("NUCLEAR", "TJ01", 100, "2023", year=2023, technology="nuclear"),
                         gec("BIOMASS-EF", "TJ01", 100, "2023", year=2023, technology="biomass", ef=0.1)])
    inv = compute_inventory(org, d, cn, 2023)
    # 700 of 1,000 MWh covered; only the 200 MWh of zero-factor solar is renewable electricity.
    assert inv.claims["TJ01"].covered_kwh == 700_000
    assert inv.renewable_share() == pytest.approx(0.2)
    assert inv.renewable.set_index("site").at["TJ01", "renewable_covered_kwh"] == pytest.approx(200_000)
    # market-based: 300 MWh residual x 0.6096 + 300 MWh x 0.4 + 100 MWh x 0.1 [kg/kWh]
    assert inv.totals()["scope2_market_t"] == pytest.approx(300 * 0.6096 + 300 * 0.4 + 100 * 0.1)
    assert sum("not counted as renewable" in w for w in inv.warnings) == 3


def test_renewable_cover_is_pro_rata_when_instruments_exceed_consumption(org, cn):
    d = data(electricity=[elec("TJ01", 100_000)],
             instrument=[gec("WIND", "TJ01", 150, "2023", year=2023, technology="wind"),
                         gec("COAL", "TJ01", 50, "2023", year=2023, technology="coal", ef=0.9)])
    inv = compute_inventory(org, d, cn, 2023)
    assert inv.renewable_share() == pytest.approx(0.75)


def test_core_refuses_an_instrument_without_a_factor(org, cn):
    d = data(electricity=[elec("TJ01", 100_000)], instrument=[gec("G1", "TJ01", 50, "2023", year=2023, ef=None)])
    with pytest.raises(InputError, match="emission factor nan is missing") as exc:
        compute_inventory(org, d, cn, 2023)
    assert exc.value.problems[0].column == "emission_factor_kg_per_kwh"
