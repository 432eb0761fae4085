"""The demo's disclosure after the demo's own steps: 2024 published, then corrected, and the 2025 reports in every
format comparing with 2024 as it stands now, the corrected figures marked restated with the correction's reason,
and every reported number recomputed from its lineage."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

FORMATS = {"hkex": ("xlsx", "html", "pdf"), "issb_s2": ("xlsx", "html", "pdf"),
           "esrs_e1": ("xlsx", "html", "pdf", "xhtml"), "ghgp": ("xlsx", "html", "pdf"),
           "gri": ("xlsx", "html", "pdf"), "cdp": ("xlsx", "html", "pdf"), "cn_exchange": ("xlsx", "html", "pdf")}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from zerocarbon.services.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    return out, run_demo(out, schedule_seconds=0)


def test_every_framework_in_every_format(demo):
    out, run = demo
    folder = out / "disclosure"
    names = {p.name for p in folder.iterdir()}
    for framework, exts in FORMATS.items():
        for ext in exts:
            found = [n for n in names if n.startswith(f"{framework}_2025") and n.endswith("." + ext)]
            assert found, f"no {ext} for {framework} in {sorted(names)}"
            for n in found:
                assert (folder / n).stat().st_size > 0
    assert {r["framework"] for r in run.disclosure["reports"]} == set(FORMATS)


def test_the_corrected_prior_year_shows_as_restated_with_its_reason(demo):
    from zerocarbon.services import disclosure
    from zerocarbon.services.demo_disclosure import CORRECTION_REASON
    from zerocarbon.services.database import open_sessions

    _, run = demo
    sessions = open_sessions(run.db_url, create=False)
    hkex = next(r for r in disclosure.build(sessions, "DEMO-LAPTOP", 2025, ["hkex"]))
    restated = [line for line in hkex.lines if line.restated]
    assert restated, "the 2024 correction changed Scope 2 and energy: some HKEX lines must be restated"
    assert all(CORRECTION_REASON in line.restatement for line in restated)
    assert all(line.prior != line.published_prior for line in restated)
    summary = run.disclosure
    assert next(r for r in summary["reports"] if r["framework"] == "hkex")["restated"]


def test_every_reported_number_recomputes_from_its_lineage(demo):
    _, run = demo
    assert run.disclosure["verified"] > 0
    assert run.disclosure["differences"] == []


def test_reported_totals_are_the_stored_inventory(demo):
    from zerocarbon.services import accounting, disclosure
    from zerocarbon.services.database import open_sessions

    _, run = demo
    sessions = open_sessions(run.db_url, create=False)
    totals = accounting.inventory_meta(sessions, "DEMO-LAPTOP", 2025)["totals"]
    report = disclosure.build(sessions, "DEMO-LAPTOP", 2025, ["ghgp"])[0]
    by_fact = {line.point.fact: line.value for line in report.lines if line.status == "reported"}
    assert by_fact["ghg.scope1"] == pytest.approx(totals["scope1_t"], rel=1e-12)
    assert by_fact["ghg.scope2_location"] == pytest.approx(totals["scope2_location_t"], rel=1e-12)
    assert by_fact["ghg.scope2_market"] == pytest.approx(totals["scope2_market_t"], rel=1e-12)


def test_summary_json_is_written(demo):
    out, _ = demo
    summary = json.loads((out / "disclosure" / "disclosure_summary.json").read_text(encoding="utf-8"))
    assert summary["year"] == 2025 and summary["prior_year"] == 2024
