import csv
from importlib import resources

import pytest

from zerocarbon.core.factors import all_factors, available_factor_sets, load_factor_set
from zerocarbon.errors import FactorNotFoundError
from zerocarbon.units import scale

PROVENANCE = ("issuer", "document", "edition", "licence", "confidence", "source_key")


def test_every_factor_has_provenance_and_a_known_unit():
    for f in all_factors():
        for field in PROVENANCE:
            assert getattr(f, field), f"{f.factor_id} lacks {field}"
        num, den = f.unit.split("/", 1)
        scale(num, num), scale(den, den)  # pint must know both


def test_every_factor_traces_to_a_reference_row():
    ref = resources.files("zerocarbon") / "data" / "reference"
    keys = set()
    for name in ("grid_china.csv", "fuels_ipcc2006.csv", "fuels_epa.csv", "gwp.csv"):
        with (ref / name).open(encoding="utf-8") as fh:
            keys |= {r["key"] for r in csv.DictReader(fh)}
    for f in all_factors():
        if f.source_key.startswith("ocd:"):  # read from the CC0 dataset itself, documented in the factor file
            continue
        for k in f.source_key.split(";"):
            assert k in keys, f"{f.factor_id}: {k} not in the reference pack"


def test_factor_sets_load_with_stable_fingerprints():
    for sid in available_factor_sets():
        a = load_factor_set(sid)
        assert len(a.fingerprint) == 64 and a.factors


def test_grid_selection_exact_year_and_province(cn):
    sel = cn.grid_factor("location", 2022, "天津", "north")
    assert sel.factor.factor_id == "CN_MEE_NBS.grid.location.CN-天津.2022" and sel.warning is None


def test_grid_selection_falls_back_with_a_warning(cn):
    # 2023 has region factors but no provincial ones: the set prefers the newer year.
    sel = cn.grid_factor("location", 2023, "天津", "north")
    assert sel.factor.value == pytest.approx(0.6361) and "grid_region" in sel.warning
    sel = cn.grid_factor("location", 2025, "天津", "north")
    assert sel.factor.year == 2023 and "not published" in sel.warning


def test_residual_series_is_national(cn):
    # MEE/NBS 2022: 全国电力平均二氧化碳排放因子(不包括市场化交易的非化石能源电量) = 0.5856 kgCO2/kWh
    assert cn.grid_factor("residual", 2022, "天津", "north").factor.value == pytest.approx(0.5856)


def test_no_factor_before_first_published_year(cn):
    with pytest.raises(FactorNotFoundError):
        cn.grid_factor("location", 2019, "天津", "north")


def test_published_grid_values():
    """MEE & NBS announcements: national average 0.5568 (2021), 0.5366 (2022), 0.5306 (2023) kgCO2/kWh."""
    fs = load_factor_set("CN-2025.1")
    got = {y: fs.grid_factor("location", y, None, None).factor.value for y in (2021, 2022, 2023)}
    assert got == {2021: 0.5568, 2022: 0.5366, 2023: 0.5306}
