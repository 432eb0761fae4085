"""The demo's assessments after the demo's own steps: HF01 and its line group scored from the demo's inventory and
meter data, manual values entered by the demo energy manager and reviewed by the demo auditor (one returned),
JSON and charts written."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_demo_assesses_hf01_and_its_line_group(tmp_path):
    from zerocarbon.services import demo_assessment
    from zerocarbon.services.demo import run_demo
    from zerocarbon.store.db import make_engine, session_factory

    out = tmp_path / "demo"
    run = run_demo(out, schedule_seconds=0)
    engine = make_engine(run.db_url)
    files = demo_assessment.run(session_factory(engine), "DEMO-LAPTOP", out)
    engine.dispose()
    assert all(p.is_file() and p.stat().st_size > 0 for p in files.values())
    site = json.loads(files["assessment_site"].read_text(encoding="utf-8"))
    shop = json.loads(files["assessment_workshop"].read_text(encoding="utf-8"))
    assert site["boundary"]["kind"] == "site" and shop["boundary"]["kind"] == "workshop"
    assert shop["boundary"]["lines"] == ["ASSY1", "ASSY2", "PACK1", "SMT1", "SMT2", "TEST1"]
    values = {i["metric"]: i for i in site["result"]["indicators"]}
    # HF01: 62 GWh grid, 3 GWh PV (3 % exported), 20 GWh of 2025 certificates (the 2024 batch is not counted)
    assert values["energy.renewable_electricity_share"]["value"] == pytest.approx(
        (20_000 + 3_000 * 0.97) / (62_000 + 3_000 * 0.97), rel=1e-3)
    assert values["energy.idle_share"]["value"] is not None
    entries = site["current_entries"]
    assert entries["manual.compliance_3y"]["reviewed_by"] == "user:auditor@demo.zerocarbon"
    assert entries["manual.compliance_3y"]["entered_by"] == "user:energy-manager@demo.zerocarbon"
    assert entries["manual.energy_carbon_centre_functions"]["review_state"] == "returned"
    assert all(g["passed"] for g in site["result"]["gates"])
    assert 0 < site["result"]["total"] < 100 and 0 < shop["result"]["total"] < 100
