"""Aggregation invariants, checked on random inventories (hypothesis)."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import data, elec, gec
from zerocarbon.core.ghg.inventory import compute_inventory
from zerocarbon.core.model import Boundary

qty = st.floats(min_value=0, max_value=1e7, allow_nan=False)
site = st.sampled_from(["TJ01", "HF01"])
fuel_row = st.builds(lambda s, q, f: dict(site=s, fuel=f, use="stationary", quantity=q, unit="t", basis="",
                                          biogenic=False, period_start="2025-01-01", period_end="2025-01-31"),
                     site, qty, st.sampled_from(["gas_diesel_oil", "motor_gasoline", "lpg"]))
elec_row = st.builds(lambda s, q, m: elec(s, q, m), site, qty, st.integers(1, 12))
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(st.lists(fuel_row, max_size=8), st.lists(elec_row, min_size=1, max_size=8), st.floats(0, 5e4))
def test_parts_sum_to_total_and_methods_differ_only_in_scope2(org, cn, fuels, elecs, mwh):
    d = data(fuel=fuels, electricity=elecs, instrument=[gec("G", "TJ01", mwh, "2023", year=2023)] if mwh else [])
    inv = compute_inventory(org, d, cn, 2023)
    t = inv.totals()
    for method, total in (("location", t["total_location_t"]), ("market", t["total_market_t"])):
        assert inv.by("site", method=method)["co2e_t"].sum() == pytest.approx(total, rel=1e-9, abs=1e-9)
        assert inv.by("scope", "category", "gas", method=method)["co2e_t"].sum() == pytest.approx(total, rel=1e-9, abs=1e-9)
    assert t["total_location_t"] - t["scope2_location_t"] == pytest.approx(t["total_market_t"] - t["scope2_market_t"])
    # Certificates can only lower the market-based figure below "all consumption at the residual factor"
    # (2023 national factor excluding market-traded non-fossil power: 0.6096 kg/kWh).
    all_residual_t = sum(r["quantity"] for r in elecs) * 0.6096 / 1000
    assert t["scope2_market_t"] <= all_residual_t * (1 + 1e-9) + 1e-9
    assert 0 <= t["renewable_share"] <= 1


@SETTINGS
@given(st.lists(elec_row, min_size=1, max_size=6))
def test_equity_share_scales_each_site(org, cn, elecs):
    d = data(electricity=elecs)
    full = compute_inventory(org, d, cn, 2023, boundary=Boundary.OPERATIONAL_CONTROL).by("site")
    eq = compute_inventory(org, d, cn, 2023, boundary=Boundary.EQUITY_SHARE).by("site")
    fin = compute_inventory(org, d, cn, 2023, boundary=Boundary.FINANCIAL_CONTROL).by("site")
    for s, share_eq, share_fin in (("TJ01", 1.0, 1.0), ("HF01", 0.51, 0.0)):
        f = full.loc[full.site == s, "co2e_t"].sum()
        assert eq.loc[eq.site == s, "co2e_t"].sum() == pytest.approx(f * share_eq)
        assert fin.loc[fin.site == s, "co2e_t"].sum() == pytest.approx(f * share_fin)


def test_every_ledger_row_has_lineage(org, cn):
    d = data(fuel=[dict(site="TJ01", fuel="lpg", use="stationary", quantity=3, unit="t", basis="", biogenic=False,
                        period_start="2023-01-01", period_end="2023-01-31")],
             electricity=[elec("TJ01", 1000)])
    led = compute_inventory(org, d, cn, 2023).ledger
    assert led["activity_id"].str.match(r".+\.csv:\d+$").all()
    assert (led["factor_ids"].astype(str).str.len() > 0).all() and (led["gwp_factor_id"].astype(str) != "").all()


def test_a_biogenic_fuel_row_beside_a_fossil_one_is_computed(org):
    """Their CH4 and N2O share one GWP factor across origins (AR5): the ledger's GWP ids must still be one each."""
    from zerocarbon.core.factors import load_factor_set

    row = dict(site="TJ01", fuel="natural_gas", use="stationary", quantity=1000.0, unit="mmBtu", basis="HHV",
               period_start="2025-01-01", period_end="2025-01-31")
    inv = compute_inventory(org, data(fuel=[dict(row, biogenic=True), dict(row, biogenic=False)]),
                            load_factor_set("EPA-2025.1"), 2025)
    led = inv.ledger
    assert set(led.loc[led["memo"] == "biogenic_co2", "gas"]) == {"CO2"}
    ch4 = led[led["gas"] == "CH4"]
    assert len(ch4) == 2 and set(ch4["gwp"]) == {28.0} and ch4["gwp_factor_id"].nunique() == 1
    # the fossil row in Scope 1 (53.06 + 0.001 x 28 + 0.0001 x 265 kg/mmBtu), the biogenic one's CH4 and N2O too
    assert inv.totals()["scope1_t"] == pytest.approx(53.1145 + 0.0545, rel=1e-12)
    assert inv.totals()["biogenic_co2_t"] == pytest.approx(53.06, rel=1e-12)
