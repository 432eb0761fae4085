"""The demo's zero-carbon factory assessments: the Hefei site HF01 for 2025 against the shipped zero-carbon factory
system, and its metered line group as a zero-carbon workshop, with manual values, their evidence and review.

Why HF01: it is the demo site with interval meter data (its line group's meters in the lake, with production
counts), so the meter-based metrics (idle running, sub-metered share, automatic acquisition, the workshop's kWh per
unit) are computed from data; TJ01 has inventory rows only and would show those metrics as "not available".

The manual values are the demo's own, fictitious statements; each is entered with a short evidence note saying so,
by the demo energy manager's login, and reviewed by the demo auditor's (services/demo_users.py): one value is
returned with a comment to show the review, the others accepted. The demo runs after the inventory is computed and
the meter data imported (services/demo.py), reading them where the demo put them: ``out/meters/lake``,
``out/meters/meters.csv`` and ``out/meters/production_<year>.csv``.
"""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from zerocarbon.core.access import Role
from zerocarbon.services import assessment
from zerocarbon.services.demo_factory import YEAR
from zerocarbon.services.demo_users import demo_email

SYSTEM = "zero_carbon_factory"
SITE = "HF01"
WORKSHOP = "HF01 line group"
# The workshop's non-line meters: its utilities (HVAC, compressed air) and the roof PV it is given
# (services/demo_meters.py); its incomer MAIN is the grid supply of the same loads and is left out, so no kWh is
# counted twice.
WORKSHOP_METERS = ("HVAC", "AIR", "PV")
# (metric, value, evidence note, accept?) -- statements of the fictitious demo company.
SITE_ENTRIES = (
    ("manual.compliance_3y", 1, "Demo statement: no major safety, quality or environmental incident 2023-2025; "
                                "discharge permit valid (fictitious company).", True),
    ("manual.boundary_inventory", 1, "Demo statement: physical boundary of HF01 drawn; 2025 inventory computed by "
                                     "zerocarbon to GB/T 32150 (see the inventory report).", True),
    ("manual.zero_carbon_management", 1, "Demo statement: energy and carbon committee set up, plan approved by the "
                                         "plant director (fictitious minutes).", True),
    ("manual.energy_quota_advanced", 1, "Demo statement: no 能耗限额 standard covers laptop assembly.", True),
    ("manual.building_measures", 3, "Demo checklist: LED lighting with controls; chillers with VSD and group "
                                    "control; yearly compressed-air leak survey.", True),
    ("manual.neutrality_plan_items", 4, "Demo checklist: base year, interim targets, reduction measures, KPIs.",
     True),
    ("manual.energy_carbon_centre_functions", 9, "Demo self-check of the energy-carbon centre functions.", False),
)
WORKSHOP_ENTRIES = SITE_ENTRIES[:4] + (
    ("manual.efficient_equipment_share", 0.55, "Demo asset list: 55 % of the line group's motor capacity at IE3 "
                                               "or better (fictitious).", True),
)


def _enter(sessions, org: str, aid: int, entries, out: Path, enterer: str, reviewer: str) -> None:
    notes = out / "evidence"
    notes.mkdir(parents=True, exist_ok=True)
    for metric, value, note, accept in entries:
        path = notes / f"assessment_{aid}_{metric.removeprefix('manual.')}.txt"
        path.write_text(f"zerocarbon demo evidence note (fictitious company)\n{metric} = {value}\n{note}\n",
                        encoding="utf-8")
        assessment.enter(sessions, org, aid, metric, value, evidence_name=path.name, evidence=path.read_bytes(),
                         note=note, actor=enterer)
        assessment.review(sessions, org, aid, metric, accept,
                          "" if accept else "attach the self-check sheet with the functions listed", actor=reviewer)


def run(sessions: sessionmaker, org_code: str, out: Path, *, actor: str = "demo") -> dict[str, Path]:
    """Assess HF01 and its line group for the demo year; write their JSON and radar/gap charts into
    ``out/assessment``. ``actor`` runs the assessments; the demo energy manager enters the manual values and the
    demo auditor reviews them."""
    from zerocarbon.services.meter_import import read_registry

    meters_dir = Path(out) / "meters"
    energy = assessment.EnergyData(meters_dir / "lake", meters_dir / "meters.csv",
                                   meters_dir / f"production_{YEAR}.csv")
    folder = Path(out) / "assessment"
    folder.mkdir(parents=True, exist_ok=True)
    enterer, reviewer = f"user:{demo_email(Role.energy_manager)}", f"user:{demo_email(Role.auditor)}"
    lines = sorted({m.line for m in read_registry(energy.meters).values() if m.site == SITE and m.line})
    # The site's change metrics compare with the base year of the group's targets (the demo's 2023 inventory); the
    # workshop's M&V baseline is fitted on its meter data, which start in the demo year.
    site = assessment.create(sessions, org_code, SYSTEM, YEAR, SITE, energy=energy, actor=actor)
    _enter(sessions, org_code, site["id"], SITE_ENTRIES, folder, enterer, reviewer)
    shop = assessment.create(sessions, org_code, SYSTEM, YEAR, SITE, workshop=WORKSHOP, lines=lines,
                             meters=list(WORKSHOP_METERS), base_year=YEAR - 1, energy=energy, actor=actor)
    _enter(sessions, org_code, shop["id"], WORKSHOP_ENTRIES, folder, enterer, reviewer)
    files: dict[str, Path] = {}
    for name, aid in (("site", site["id"]), ("workshop", shop["id"])):
        got = assessment.get(sessions, org_code, aid)
        path = folder / f"assessment_{name}.json"
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        files[f"assessment_{name}"] = path
        for kind, chart in assessment.write_charts(sessions, org_code, aid, folder).items():
            files[f"assessment_{name}_{kind}"] = chart
    return files


__all__ = ["run", "SITE", "SYSTEM", "WORKSHOP"]
