"""`zerocarbon demo`: build the demo group, import its year, compute and write the inventory."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from zerocarbon.core.ghg.inventory import InventoryResult
from zerocarbon.services import accounting
from zerocarbon.services.demo_factory import YEAR, generate
from zerocarbon.store.db import make_engine, session_factory, upgrade
from zerocarbon.io.meter_files import read_registry
from zerocarbon.io.reports import write_outputs
from zerocarbon.services import demo_supply, green_supply
from zerocarbon.services import demo_meters, energy_baseline, energy_forecast, energy_report, meter_import
from zerocarbon.services import schedule_runs
from zerocarbon.io.schedule_files import plant_problem_from_dict
from zerocarbon.services.demo_plant import laptop_week
from zerocarbon.services.scheduling import Comparison, compare
from zerocarbon.services.scheduling import write_outputs as write_schedule_outputs

HEFEI = "HF01"  # the demo group's site that makes the laptop-plant week
IMPORT_ORDER = ("electricity", "generation", "fuel", "refrigerant", "instrument")
# The steps ``run_demo`` reports to its ``progress`` callback, in order.
STEPS = ("generate", "organisation", *(f"import {k}" for k in IMPORT_ORDER), "supply chain", "compute",
         "supplier programme", "write", "meters", "analytics", "schedule", "targets", "claims", "pathway",
         "assessment", "disclosure")


@dataclass
class DemoRun:
    result: InventoryResult
    outputs: dict[str, Path]
    org_name: str
    db_url: str
    schedule: Comparison | None = None
    energy: dict | None = None
    # The meter data a server shows on its energy page: lake folder, meter registry, production counts.
    meter_data: dict[str, Path] | None = None
    # Headline figures of the zero-carbon work: targets, claims, pathway, assessments (``zero_carbon_summary``).
    zero_carbon: dict | None = None
    # The disclosure reports of the demo year: per framework what is reported, missing and restated.
    disclosure: dict | None = None


def run_demo(out: Path, seed: int = 2025, factor_set: str = "CN-2025.1", gwp_set: str = "AR5",
             progress: Callable[[str], None] = lambda step: None, schedule_seconds: float = 20.0,
             search_progress=None) -> DemoRun:
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "zerocarbon.sqlite"
    if db_path.exists():
        db_path.unlink()  # the demo always starts from an empty database
    url = f"sqlite:///{db_path}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    progress("generate")
    files = generate(out / "inputs", seed=seed)
    progress("organisation")
    org = accounting.load_organisation_file(sessions, files["organisation"], actor="demo")
    for kind in IMPORT_ORDER:
        progress(f"import {kind}")
        accounting.import_file(sessions, org.code, kind, files[kind], YEAR, factor_set, actor="demo")
    progress("supply chain")
    supply_files = demo_supply.generate(out / "inputs" / "supply", seed=seed)
    demo_supply.load(sessions, org.code, supply_files, factor_set, actor="demo")
    progress("compute")
    result = accounting.compute(sessions, org.code, YEAR, factor_set, gwp_set, actor="demo")
    progress("supplier programme")
    demo_supply.programme(sessions, org.code, supply_files, seed=seed, actor="demo")
    progress("write")
    outputs = write_outputs(result, out, org.name)
    outputs.update(_supply_outputs(sessions, org.code, out / "supply_chain", factor_set))
    engine.dispose()
    progress("meters")
    mfiles = demo_meters.generate(out / "meters")
    meters = read_registry(mfiles["registry"])
    engine = make_engine(url)
    meter_import.register_meters(session_factory(engine), org.code, meters, actor="demo")
    engine.dispose()
    meter_import.import_file(out / "meters" / "lake", org.code, meters, mfiles["readings"])
    progress("analytics")
    energy = _energy(out / "meters", org.code, meters, mfiles["production"], factor_set)
    outputs.update({"_".join(["meters", *Path(f).relative_to(out / "meters").with_suffix("").parts]): Path(f)
                    for f in energy["files"]})
    cmp = None
    if schedule_seconds > 0:
        progress("schedule")
        problem = plant_problem_from_dict(laptop_week())
        (out / "schedule").mkdir(exist_ok=True)
        problem_file = out / "schedule" / "problem.json"
        problem_file.write_text(json.dumps(laptop_week(), indent=1, ensure_ascii=False), encoding="utf-8")
        cmp = compare(problem, time_limit=schedule_seconds, progress=search_progress)
        outputs.update({f"schedule_{k}": v for k, v in write_schedule_outputs(cmp, out / "schedule").items()})
        # The same comparison is stored as the organisation's first schedule run, so the dashboard's schedule
        # page shows its Gantt chart without planning the week again.
        engine = make_engine(url)
        schedule_runs.record_run(session_factory(engine), org.code, cmp, actor="demo", problem_file=problem_file.name,
                                 problem_sha256=hashlib.sha256(problem_file.read_bytes()).hexdigest(),
                                 time_limit=schedule_seconds, objective="cost", site=HEFEI)
        engine.dispose()
    zero = _zero_carbon(url, org.code, out, factor_set, gwp_set, progress)
    outputs.update(zero)
    progress("disclosure")
    disclosed = _disclosure(url, org.code, out / "disclosure", factor_set, gwp_set)
    outputs.update(disclosed)
    meter_data = {"lake": (out / "meters" / "lake").resolve(), "meters": Path(mfiles["registry"]).resolve(),
                  "production": Path(mfiles["production"]).resolve()}
    return DemoRun(result, outputs, org.name, url, cmp, energy, meter_data, zero_carbon_summary(zero),
                   json.loads(disclosed["disclosure_summary"].read_text(encoding="utf-8")))


def _disclosure(url: str, org: str, out: Path, factor_set: str, gwp_set: str) -> dict[str, Path]:
    """The prior year published and corrected, then the demo year's reports in every format (last: they read
    everything the steps before stored)."""
    from zerocarbon.services import demo_disclosure

    engine = make_engine(url)
    try:
        files = demo_disclosure.run(session_factory(engine), org, out, actor="demo", factor_set=factor_set,
                                    gwp_set=gwp_set)
    finally:
        engine.dispose()
    return {f"disclosure_{k}": v for k, v in files.items()}


def _zero_carbon(url: str, org: str, out: Path, factor_set: str, gwp_set: str,
                 progress: Callable[[str], None]) -> dict[str, Path]:
    """The zero-carbon factory work on the demo's data: a 2023 base year and the group's targets, carbon-credit
    claims, the least-cost pathway to 2030 (after the schedule, whose savings it counts) and the assessments of
    HF01 and its line group (last, as they read the targets, claims and meter data)."""
    from zerocarbon.services import demo_assessment, demo_claims, demo_pathway, demo_targets

    engine = make_engine(url)
    sessions = session_factory(engine)
    outputs: dict[str, Path] = {}
    try:
        progress("targets")
        outputs.update({f"targets_{k}": v for k, v in demo_targets.run(
            sessions, org, out / "targets", actor="demo", factor_set=factor_set, gwp_set=gwp_set).items()})
        progress("claims")
        outputs.update({f"claims_{k}": v for k, v in demo_claims.run(sessions, org, out / "claims").items()})
        progress("pathway")
        outputs.update({f"pathway_{k}": v for k, v in demo_pathway.run(sessions, org, out / "pathway").items()})
        progress("assessment")
        outputs.update({f"assessment_{k}": v for k, v in demo_assessment.run(sessions, org, out).items()})
    finally:
        engine.dispose()
    return outputs


def zero_carbon_summary(files: dict[str, Path]) -> dict:
    """The headline of each zero-carbon output, read back from the JSON files the steps wrote: each target's
    latest year, each claim's verdict, the pathway's last year and cost, each assessment's score and grade."""
    def load(key: str):
        return json.loads(Path(files[key]).read_text(encoding="utf-8")) if key in files else None

    out: dict = {}
    if (t := load("targets_targets_progress")) is not None:
        out["targets"] = [{"id": p["target"]["id"], "kind": p["target"]["kind"],
                           "target_year": p["target"]["target_year"], **p["points"][-1]}
                          for p in t["progress"] if p.get("points")]
    out["claims"] = [{"site": c["site"], "passed": c["passed"], "status": c["status"], "residual_t": c["residual_t"],
                      "credits_t": c["credits_t"],
                      "failed": [f["test"] for f in c["findings"] if not f["passed"]]}
                     for key in sorted(files) if key.startswith("claims_claim_") and (c := load(key))]
    if (p := load("pathway_pathway_json")) is not None:
        out["pathway"] = p["summary"]
    out["assessments"] = [{"boundary": a["boundary"], "total": a["total"], "max_total": a["max_total"],
                           "grade": (a["grade"] or {}).get("id") if isinstance(a["grade"], dict) else a["grade"]}
                          for key in ("assessment_assessment_site", "assessment_assessment_workshop")
                          if (a := load(key))]
    return out


def _supply_outputs(sessions, org: str, folder: Path, factor_set: str) -> dict[str, Path]:
    """The five-dimension picture of the demo year as JSON, and Scope 3 by category and method as a chart."""
    from zerocarbon.io.charts import scope3_chart

    folder.mkdir(parents=True, exist_ok=True)
    picture = green_supply.overview(sessions, org, YEAR, factor_set, base_year=YEAR - 1)
    path = folder / "five_dimensions.json"
    path.write_text(json.dumps(picture, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    chart = scope3_chart(picture["scope3"]["categories"], folder / "scope3_by_category.png", YEAR)
    return {"supply_chain_five_dimensions": path, "supply_chain_scope3_chart": chart}


def scope_note(meters) -> str:
    """What the demo's interval meters cover: one line group of HF01 behind its own incomer, not the site
    (whose 62 GWh a year are in the inventory), so the load figures of the energy report are the group's."""
    lines = sorted(m.line for m in meters.values() if m.line)
    incomers = sorted(m.id for m in meters.values() if m.revenue)
    others = sorted(m.id for m in meters.values() if not m.line and not m.revenue)
    return (f"the HF01 line group's meters (lines {', '.join(lines)}; {', '.join(others)}) behind its incomer "
            f"{', '.join(incomers)}, not the whole HF01 site")


def _energy(folder: Path, org: str, meters, production: Path, factor_set: str) -> dict:
    """The demo plant's energy findings: the report, an energy-vs-output baseline of the line group and a
    day-ahead forecast of the grid supply, summarised in ``energy_report.json``."""
    lake_dir = folder / "lake"
    grid = energy_report.grid_factor(factor_set, YEAR, "安徽", "east")
    rep = energy_report.report(lake_dir, org, meters, folder / "report", production=production, grid=grid)
    lines = [m.id for m in meters.values() if m.line]
    fit = energy_baseline.baseline(lake_dir, org, meters, f"{YEAR}-01-01", f"{YEAR}-12-31", meter_ids=lines,
                                   production=production, out=folder / "baseline")
    fc = energy_forecast.forecast(lake_dir, org, meters, "day", meter_ids=["MAIN"], backtest_days=7,
                                  out=folder / "forecast")
    f = fit.fit
    summary = {
        "scope_note": scope_note(meters),
        "idle": rep.idle, "idle_total_kwh": rep.idle_total_kwh, "idle_total_tco2": rep.idle_total_co2_kg / 1000,
        "kwh_per_unit": rep.kwh_per_unit, "site_load": rep.site_load.__dict__, "anomalies": rep.anomalies,
        "baseline_model": {"cv_rmse": f.cv_rmse if f else None, "nmbe": f.nmbe if f else None,
                           "r2": f.r2 if f else None, "passes": fit.passes, "reasons": fit.reasons},
        "forecast_day_ahead": {"model_cv_rmse": fc.model_cv_rmse, "naive_cv_rmse": fc.naive_cv_rmse,
                               "model_mape": fc.model_mape, "naive_mape": fc.naive_mape, "skill": fc.skill,
                               "origins": fc.backtest_days},
        "grid_factor": rep.grid_factor.__dict__,
    }
    path = folder / "energy_report.json"
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    summary["files"] = [str(path), *rep.files.values(), *fit.files.values(), *fc.files.values()]
    return summary
