"""Assessment charts: the radar and the gap bars are drawn, in Chinese without missing glyphs when a CJK font is
installed, and in English when none is."""
from __future__ import annotations

import warnings

import pytest

from zerocarbon.core.assessment.index import shipped_index_systems
from zerocarbon.core.assessment.scoring import MetricValue, score
from zerocarbon.io import assessment_charts as charts

PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def result():
    s = shipped_index_systems()["zero_carbon_factory"]
    return score(s, {"energy.renewable_electricity_share": MetricValue(0.45, "fraction", "computed"),
                     "energy.metered_share": MetricValue(0.9, "fraction", "computed"),
                     "ghg.inventory_completeness": MetricValue(0, "count", "computed")})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_charts_are_drawn_without_missing_glyphs(result, tmp_path, lang):
    if lang == "zh" and not charts.cjk_font():
        pytest.skip("no CJK font installed")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        radar = charts.radar_chart(result, tmp_path / "radar.png", lang)
        gaps = charts.gap_chart(result, tmp_path / "gaps.png", lang)
    assert not [w for w in seen if "Glyph" in str(w.message)]
    assert radar.read_bytes()[:4] == PNG and gaps.read_bytes()[:4] == PNG
    assert result.zeroed  # the gap chart draws the withheld points of a zeroed dimension too


def test_chinese_falls_back_to_english_without_a_cjk_font(monkeypatch, result, tmp_path):
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    assert charts.chart_language("zh_CN") == "en"
    assert charts.radar_chart(result, tmp_path / "r.png", "zh").exists()


def test_gap_chart_without_gaps(tmp_path):
    s = shipped_index_systems()["green_factory_gbt36132"]
    first = score(s, {})
    full = {g.indicator.metric: MetricValue(g.needed, g.indicator.unit, "computed") for g in first.gaps}
    assert charts.gap_chart(score(s, full), tmp_path / "g.png", "en").read_bytes()[:4] == PNG
