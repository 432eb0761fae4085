"""The demo group's disclosure: the year before the demo year imported and published, then corrected, so that
the demo year's reports show a year-on-year comparison with a restatement and its reason.

The sequence is what a group's ESG team lives through:
1. 2024 (``MID_YEAR``) is imported, computed, its disclosure inputs entered and its reports published;
2. a metering error in 2024 is found afterwards: the 2024 electricity file is replaced by a corrected one with
   the reason, and 2024 is computed again;
3. the 2025 reports compare with 2024 as it stands now, mark the published 2024 figures that changed as
   restated, and give the correction's reason.

Every figure of the inputs files is a demo parameter (written in their ``source``), not data.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import yaml
from sqlalchemy.orm import sessionmaker

from zerocarbon.services import accounting, disclosure, targets
from zerocarbon.services.demo_factory import SITES, YEAR, DemoSite, generate

MID_YEAR = YEAR - 1
# The plants in the year between the base year and the demo year (generator parameters, not data).
MID_SITES = (replace(SITES[0], grid_mwh=19_900, pv_mwh=3_600, units_per_year=2_850_000),
             replace(SITES[1], grid_mwh=64_200, pv_mwh=2_100, units_per_year=19_200_000))
MID_SERIAL = 200_000_001  # its certificates' serial numbers, apart from the demo year's
IMPORT_ORDER = ("electricity", "generation", "fuel", "refrigerant", "instrument")
# The correction found after the 2024 reports were published: the HVAC meter of TJ01 was read with the wrong
# current-transformer ratio from June to August.
CORRECTED_METER = "TJ01-M-HVAC"
CORRECTED_MONTHS = (6, 7, 8)
CORRECTION = 1.25
CORRECTION_REASON = ("TJ01 HVAC meter read with a 400/5 instead of a 500/5 current-transformer ratio in June-August "
                     "2024; readings multiplied by 1.25 (metering audit, demo)")
DEMO = "demo parameter (services/demo_disclosure.py), not data"
REVENUE_CNY_PER_UNIT = 4_600.0  # demo parameter


def inputs(org: str, year: int, sites: tuple[DemoSite, ...]) -> dict:
    """The demo group's disclosure inputs of ``year``: measured figures and narratives no store holds."""
    units = sum(s.units_per_year for s in sites)
    m = units / 1e6
    figure = lambda key, value, unit: {"key": key, "value": round(value, 1), "unit": unit, "source": DEMO}  # noqa: E731
    text = lambda key, en, zh: {"key": key, "en": en, "zh": zh, "source": DEMO}  # noqa: E731
    return {"organisation": org, "year": year, "inputs": [
        figure("input.water.withdrawal", 9_800 * m, "m**3"),
        figure("input.water.consumption", 2_300 * m, "m**3"),
        figure("input.air.nox", 310 * m, "kg"),
        figure("input.air.sox", 12 * m, "kg"),
        figure("input.air.pm", 45 * m, "kg"),
        figure("input.finance.revenue", REVENUE_CNY_PER_UNIT * units, "CNY"),
        text("text.governance",
             "The board's ESG committee reviews climate risks and the decarbonisation plan twice a year; the "
             "operations director owns the energy and emission targets.",
             "董事会ESG委员会每年两次审阅气候风险与脱碳计划;运营总监负责能源与排放目标。"),
        text("text.targets_steps",
             "Targets: -50 % Scope 1+2 (market-based) by 2030 against 2023, 90 % renewable electricity by 2030. "
             "Steps: rooftop PV, green-power contracts, compressed-air leak repair, energy-aware scheduling.",
             "目标:2030年范围一和二(基于市场)较2023年下降50%,2030年可再生电力占比90%。措施:屋顶光伏、绿电交易、"
             "压缩空气泄漏治理、节能排产。"),
        text("text.waste_handling",
             "Scrap circuit boards go to licensed hazardous-waste handlers with transfer manifests; paper and "
             "plastics are sorted for recycling.",
             "废电路板交由持证危险废物处置单位并执行转移联单;纸类和塑料分类回收。"),
        text("text.energy_efficiency_steps",
             "Energy per laptop is tracked monthly per line; idle lines are switched off by the scheduler.",
             "按产线每月跟踪单台笔记本能耗;排产系统关闭空转产线。"),
    ]}


def _write_inputs(out: Path, org: str, year: int, sites: tuple[DemoSite, ...]) -> Path:
    path = out / f"disclosure_inputs_{year}.yaml"
    path.write_text(yaml.safe_dump(inputs(org, year, sites), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _corrected(electricity: Path, out: Path) -> Path:
    frame = pd.read_csv(electricity)
    months = pd.to_datetime(frame["period_start"]).dt.month
    hit = (frame["meter"] == CORRECTED_METER) & months.isin(CORRECTED_MONTHS)
    frame.loc[hit, "quantity"] = (frame.loc[hit, "quantity"] * CORRECTION).round(1)
    path = out / f"{electricity.stem}_corrected.csv"
    frame.to_csv(path, index=False)
    return path


def run(sessions: sessionmaker, org: str, out: Path, *, actor: str = "demo", factor_set: str = "CN-2025.1",
        gwp_set: str = "AR5", progress=None) -> dict[str, Path]:
    """Publish 2024, correct it, and build the 2025 reports in every format; write a summary JSON."""
    from zerocarbon.io.disclosure import write_reports

    out.mkdir(parents=True, exist_ok=True)
    files = generate(out / f"inputs_{MID_YEAR}", seed=MID_YEAR, year=MID_YEAR, sites=MID_SITES,
                     serial=MID_SERIAL)
    batches = {kind: accounting.import_file(sessions, org, kind, files[kind], MID_YEAR, factor_set, actor=actor)
               for kind in IMPORT_ORDER}
    accounting.compute(sessions, org, MID_YEAR, factor_set, gwp_set, actor=actor)
    for s in MID_SITES:
        targets.set_output(sessions, org, year=MID_YEAR, metric="units", value=s.units_per_year, unit="unit",
                           site=s.code, source=DEMO, actor=actor)
    for year, sites in ((MID_YEAR, MID_SITES), (YEAR, SITES)):
        disclosure.import_inputs(sessions, org, year, _write_inputs(out, org, year, sites), actor=actor)
    # What an exchange filing needs is published; a framework still missing a mandatory datum stays a draft.
    publishable = [r.framework.id for r in disclosure.build(sessions, org, MID_YEAR) if not r.errors]
    published = disclosure.publish(sessions, org, MID_YEAR, actor=actor, frameworks=publishable)
    accounting.replace_batch(sessions, org, batches["electricity"].batch_id,
                             _corrected(files["electricity"], out / f"inputs_{MID_YEAR}"), factor_set,
                             actor=actor, reason=CORRECTION_REASON)
    accounting.compute(sessions, org, MID_YEAR, factor_set, gwp_set, actor=actor)
    reports = disclosure.build(sessions, org, YEAR)
    paths = write_reports(reports, out)
    checks = disclosure.verify(sessions, org, YEAR, reports)
    summary = {
        "organisation": org, "year": YEAR, "prior_year": MID_YEAR,
        "published_prior": {"id": published.id, "frameworks": publishable, "fingerprint": published.fingerprint},
        "correction": CORRECTION_REASON,
        "reports": [{"framework": r.framework.id, "points": len(r.lines),
                     "reported": sum(1 for x in r.lines if x.status == "reported"),
                     "missing": sum(1 for x in r.lines if x.status == "missing"),
                     "restated": [x.point.id for x in r.lines if x.restated],
                     "errors": len(r.errors), "warnings": sum(1 for c in r.checks if c.level == "warning"),
                     "fingerprint": r.fingerprint} for r in reports],
        "verified": sum(1 for v in checks if v.ok), "differences": [v.__dict__ for v in checks if not v.ok],
        "files": [p.name for p in paths],
    }
    summary_path = out / "disclosure_summary.json"
    summary_path.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return {"summary": summary_path, **{p.stem + p.suffix.replace(".", "_"): p for p in paths}}
