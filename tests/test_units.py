import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zerocarbon.errors import UnitError
from zerocarbon.units import Q_, quantity, require, scale

finite = st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False)


def test_energy_units():
    assert scale("MWh", "kWh") == 1000
    assert scale("kWh", "MJ") == pytest.approx(3.6)
    assert scale("TJ", "GJ") == pytest.approx(1000)
    assert scale("mmBtu", "GJ") == pytest.approx(1.055056)  # 1 Btu(IT) = 1055.056 J


def test_gas_volumes_carry_reference_conditions():
    # Ideal gas: volumes at the same pressure scale with absolute temperature.
    assert scale("Sm3", "Nm3") == pytest.approx(273.15 / 288.15)
    assert scale("万Nm3", "Nm3") == 10000
    # An uncorrected geometric m3 is a volume, not an amount of gas: refusing the conversion is the point.
    with pytest.raises(UnitError):
        scale("m**3", "Nm3")


def test_co2e_is_its_own_dimension():
    assert scale("tCO2e", "kgCO2e") == 1000
    with pytest.raises(UnitError, match="different dimensions"):
        scale("t", "tCO2e")


def test_currency_never_converts_silently():
    with pytest.raises(UnitError):
        scale("CNY", "USD")


def test_unknown_and_missing_units():
    with pytest.raises(UnitError, match="unknown unit 'kWhh'"):
        quantity(1, "kWhh")
    with pytest.raises(UnitError, match="required"):
        quantity(1, "")
    with pytest.raises(UnitError, match="not a mass"):
        require(Q_(1, "kWh"), "[mass]", "refrigerant")


@given(finite)
def test_energy_round_trip(x):
    assert math.isclose(x * scale("kWh", "GJ") * scale("GJ", "MWh") * scale("MWh", "kWh"), x, rel_tol=1e-12)


@given(finite, finite)
def test_conversion_is_linear(a, b):
    k = scale("MWh", "kWh")
    assert math.isclose((a + b) * k, a * k + b * k, rel_tol=1e-12)
