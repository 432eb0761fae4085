"""The demo group's targets: its 2023 base year (the plants before their measures, ``demo_factory.generate_prior``)
imported and computed, the output figures of both years, the group's targets set, and their progress and
science-based checks written as JSON with a PNG chart.

The targets are the demo group's choices, not advice: -50 % Scope 1+2 (market-based) by 2030 against 2023,
90 % renewable electricity by 2030, and a net-zero target of -90 % by 2050. The net-zero target covers Scope 1+2
only: the demo holds purchases (Scope 3 category 1) for 2025 alone, so a 2023 Scope 3 base would compare
different categories; the science-based check says what that leaves out. For the same reason no Scope 3
intensity target is set.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from zerocarbon.services import accounting, targets
from zerocarbon.services.demo_factory import PRIOR_SITES, PRIOR_YEAR, SITES, YEAR, generate_prior

IMPORT_ORDER = ("electricity", "generation", "fuel", "refrigerant")
SUBMITTED = date(2024, 5, 15)  # when the demo group set its targets (a demo parameter)
TARGETS = (
    dict(code="S12-2030", kind="absolute", scopes="s1s2", scope2_method="market", base_year=PRIOR_YEAR,
         target_year=2030, reduction=0.50, note="-50 % Scope 1+2 market-based by 2030 vs 2023"),
    dict(code="RE-2030", kind="renewable_electricity", scopes="s1s2", base_year=PRIOR_YEAR, target_year=2030,
         re_share=0.90, note="90 % renewable electricity by 2030"),
    dict(code="NZ-2050", kind="net_zero", scopes="s1s2", scope2_method="market", base_year=PRIOR_YEAR,
         target_year=2050, reduction=0.90, note="net zero: -90 % by 2050, Scope 1+2 (see the Scope 3 note)"),
)
SCOPE3_NOTE = ("no Scope 3 target: the demo's 2023 base year holds Scope 3 category 3 only (upstream of fuels and "
               "electricity), while 2025 adds purchases (category 1); a Scope 3 base and progress would compare "
               "different categories")


def run(sessions: sessionmaker, org_code: str, out: Path, *, actor: str = "demo",
        factor_set: str = "CN-2025.1", gwp_set: str = "AR5") -> dict[str, Path]:
    """Import and compute the base year, store output figures, set the targets; write progress JSON and PNG."""
    out.mkdir(parents=True, exist_ok=True)
    files = generate_prior(out / "inputs_2023")
    for kind in IMPORT_ORDER:
        accounting.import_file(sessions, org_code, kind, files[kind], PRIOR_YEAR, factor_set, actor=actor)
    accounting.compute(sessions, org_code, PRIOR_YEAR, factor_set, gwp_set, actor=actor)
    for year, sites in ((PRIOR_YEAR, PRIOR_SITES), (YEAR, SITES)):
        for s in sites:
            targets.set_output(sessions, org_code, year=year, metric="units", value=s.units_per_year, unit="unit",
                               site=s.code, source="demo parameter (services/demo_factory.py), not data",
                               actor=actor)
    existing = {t["id"] for t in targets.list_targets(sessions, org_code)}
    for spec in TARGETS:
        if spec["code"] not in existing:
            targets.set_target(sessions, org_code, submitted=SUBMITTED, actor=actor, **spec)
    items = targets.progress(sessions, org_code)
    checks = {i["target"]["id"]: targets.check(sessions, org_code, i["target"]["id"], today=SUBMITTED)
              for i in items}
    report = {"organisation": org_code, "base_year": PRIOR_YEAR, "year": YEAR, "submitted": SUBMITTED.isoformat(),
              "assumptions": "the 2023 plants are generator parameters (services/demo_factory.py), not data",
              "scope3": SCOPE3_NOTE, "progress": items, "checks": checks,
              "assessment_metrics": targets.assessment_metrics(sessions, org_code, YEAR),
              "pathway_targets": targets.pathway_targets(sessions, org_code)}
    path = out / "targets_progress.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    chart = targets.write_progress_chart(items, out / "targets_progress.png")
    return {"targets_progress": path, "targets_chart": chart}
