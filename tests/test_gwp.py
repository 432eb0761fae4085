import pytest

from zerocarbon.core.ghg.gases import canonical_gas, gwp_for
from zerocarbon.errors import FactorNotFoundError


def test_blend_gwp_matches_published(cn):
    # EPA Hub 2025 Table 12 publishes R-410A = 1924 (AR5). Sum over its composition (50 % HFC-32,
    # 50 % HFC-125) with AR5 component GWPs 677 and 3170 gives 1923.5.
    published = gwp_for(cn, "R-410A", "AR5").value
    components = 0.5 * gwp_for(cn, "HFC-32", "AR5").value + 0.5 * gwp_for(cn, "HFC-125", "AR5").value
    assert published == 1924 and components == pytest.approx(1923.5)
    assert round(components) == published


@pytest.mark.parametrize("gas,ar4,ar5,ar6", [
    ("SF6", 22800, 23500, 25200), ("NF3", 17200, 16100, 17400), ("CF4", 7390, 6630, 7380),
    ("C2F6", 12200, 11100, 12400), ("CHF3", 14800, 12400, 14600), ("c-C4F8", 10300, 9540, 10200),
    ("C3F8", 8830, 8900, 9290), ("HFC-32", 675, 677, 771),
])
def test_electronics_fgases_in_all_sets(cn, gas, ar4, ar5, ar6):
    # GHG Protocol GWP table (AR4, AR5) and IPCC AR6 WGI Table 7.SM.7, via openclimatedata (CC0)
    assert [gwp_for(cn, gas, s).value for s in ("AR4", "AR5", "AR6")] == [ar4, ar5, ar6]


def test_aliases():
    assert canonical_gas("CH2F2") == "HFC-32" and canonical_gas("HFC-23") == "CHF3"
    assert canonical_gas("R-22") == "HCFC-22"


def test_ar6_methane_by_origin(cn):
    assert gwp_for(cn, "CH4", "AR6", fossil=True).value == 29.8
    assert gwp_for(cn, "CH4", "AR6", fossil=False).value == 27.0
    assert gwp_for(cn, "CH4", "AR5").value == 28


def test_missing_gwp_is_an_error_not_a_guess(cn):
    # c-C5F8 has no value in the shipped sets
    with pytest.raises(FactorNotFoundError, match="C5F8"):
        gwp_for(cn, "C5F8", "AR5")
    with pytest.raises(FactorNotFoundError, match="unknown"):
        gwp_for(cn, "SF6", "AR3")
