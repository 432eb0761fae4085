import pytest

from tests.helpers import data
from zerocarbon.core.ghg.inventory import compute_inventory
from zerocarbon.errors import InputError

YEAR = {"period_start": "2025-01-01", "period_end": "2025-12-31"}


def test_refrigerant_mass_balance(org, cn):
    # (200 - 170) + 60 - 5 - 10 = 75 kg R-410A x 1924 (AR5, EPA Hub Table 12) = 144.3 t CO2e
    d = data(refrigerant=[dict(site="TJ01", gas="R-410A", method="mass_balance", unit="kg", inventory_start=200,
                               inventory_end=170, purchased=60, recovered_or_sold=5, capacity_change=10,
                               parameter_source="log", **YEAR)])
    inv = compute_inventory(org, d, cn, 2025)
    assert inv.ledger["gas_kg"].sum() == pytest.approx(75)
    assert inv.totals()["scope1_t"] == pytest.approx(75 * 1924 / 1000)


def test_refrigerant_screening_prorates_by_days(org, cn):
    # 1,800 kg HFC-134a x 2 %/yr over half a year (181 days of 2025) x 1300 (AR5)
    d = data(refrigerant=[dict(site="TJ01", gas="HFC-134a", method="screening", unit="kg", charge=1800,
                               annual_leak_rate=0.02, parameter_source="x", period_start="2025-01-01",
                               period_end="2025-06-30")])
    inv = compute_inventory(org, d, cn, 2025)
    assert inv.ledger["gas_kg"].iloc[0] == pytest.approx(1800 * 0.02 * 181 / 365)


def test_hcfc_is_a_memo_item(org, cn):
    d = data(refrigerant=[dict(site="TJ01", gas="R-22", method="screening", unit="kg", charge=100,
                               annual_leak_rate=0.1, parameter_source="x", **YEAR)])
    t = compute_inventory(org, d, cn, 2025).totals()
    assert t["scope1_t"] == 0 and t["non_kyoto_memo_t"] == pytest.approx(10 * 1760 / 1000)


def test_process_gas_tier2a_with_byproduct(org, cn):
    # IPCC 2006 Vol.3 ch.6 Tier 2a: 100 kg NF3, h=0.1, U=0.8, a=0.9, d=0.95, B_CF4=0.02
    row = dict(site="TJ01", gas="NF3", consumed=100, unit="kg", heel=0.1, utilisation=0.8, abatement_fraction=0.9,
               destruction_efficiency=0.95, byproduct_cf4_rate=0.02, byproduct_c2f6_rate=0.0,
               parameter_source="test", **YEAR)
    inv = compute_inventory(org, data(process_gas=[row]), cn, 2025, gwp_set="AR5")
    by = inv.ledger.set_index("gas")["gas_kg"]
    factor = 100 * 0.9 * (1 - 0.9 * 0.95)
    assert by["NF3"] == pytest.approx(factor * 0.2)
    assert by["CF4"] == pytest.approx(factor * 0.02)
    assert inv.totals()["scope1_t"] == pytest.approx((factor * 0.2 * 16100 + factor * 0.02 * 6630) / 1000)


def test_biogenic_co2_outside_scopes(org, cn):
    d = data(fuel=[dict(site="TJ01", fuel="gas_diesel_oil", use="stationary", quantity=1, unit="TJ", basis="NCV",
                        biogenic=True, **YEAR)])
    t = compute_inventory(org, d, cn, 2025).totals()
    assert t["biogenic_co2_t"] == pytest.approx(74.1)
    # CH4 3 kg x 28 + N2O 0.6 kg x 265 stay in Scope 1
    assert t["scope1_t"] == pytest.approx((3 * 28 + 0.6 * 265) / 1000)


def test_negative_mass_balance_is_refused_not_booked(org, cn):
    """Defect: (120 - 180) + 50 = -10 kg of R-410A became -19.24 tCO2e without a word."""
    d = data(refrigerant=[dict(site="TJ01", gas="R-410A", method="mass_balance", unit="kg", inventory_start=120,
                               inventory_end=180, purchased=50, recovered_or_sold=0, capacity_change=0,
                               parameter_source="log", **YEAR)])
    with pytest.raises(InputError) as exc:
        compute_inventory(org, d, cn, 2025)
    [p] = exc.value.problems
    assert (p.source, p.row, p.column) == ("refrigerant.csv", 2, "inventory_end") and "= -10 kg is negative" in p.reason
