"""The supplier reduction programme: supplier-reported projects, a double-counting guard, progress to a goal.

A project is claimed once. A new project is refused when

- its project id is already claimed (by the same or another supplier), or overlaps one: ids are compared after
  normalisation (case, spaces, dashes, dots and underscores ignored), so ``P-001`` and ``p 001`` are one project;
- its evidence file (by SHA-256) already backs another project, of the same or another supplier;
- the same id or evidence appears twice in the file itself;
- the reduction is impossible: negative, or larger than the project's baseline.

Progress: an accepted project reduces ``annual_reduction_t`` in each year from its start year on; the programme
counts the years from its own start year to the year asked, cumulatively, against the goal (a setting, e.g.
1,000,000 tCO2e). Achieved stops at the current year: later years are a projection, shown as such and never
counted in the achieved total or the progress. Projects under review are shown as a pipeline beside it, never in the total.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from zerocarbon.errors import Problem

STATUSES = ("submitted", "accepted", "returned")
TYPES = ("energy_efficiency", "renewable_electricity", "fuel_switch", "process", "logistics", "materials", "other")
_NOT_ID = re.compile(r"[\s\-_.]+")


def project_key(project_id: str) -> str:
    """What two ids must share to be one project: upper case, without spaces, dashes, dots and underscores."""
    return _NOT_ID.sub("", str(project_id or "")).upper()


@dataclass(frozen=True)
class Project:
    project_id: str
    supplier: str
    description: str
    type: str
    start_year: int
    annual_reduction_t: float
    baseline_t: float | None
    evidence: str | None = None
    evidence_sha256: str | None = None
    status: str = "submitted"


def guard(new: list[tuple[int, Project]], existing: list[Project], source: str) -> list[Problem]:
    """Problems of the ``(row number, project)`` rows of one file against each other and the stored projects."""
    problems: list[Problem] = []
    # A returned project may be submitted again, corrected: it no longer holds its id or evidence.
    live = [p for p in existing if p.status != "returned"]
    by_key = {project_key(p.project_id): p for p in live}
    by_sha = {p.evidence_sha256: p for p in live if p.evidence_sha256}
    seen_key: dict[str, int] = {}
    seen_sha: dict[str, int] = {}
    for row, p in new:
        key = project_key(p.project_id)
        if not key:
            problems.append(Problem(source, row, "project_id", "is empty"))
            continue
        old = by_key.get(key)
        if old is not None:
            if old.supplier == p.supplier:
                same = "" if old.project_id == p.project_id else f" (overlaps '{old.project_id}')"
                claim = f"is already claimed by this supplier{same}"
            else:  # another supplier's project is never named
                claim = "is already claimed by another supplier"
            problems.append(Problem(source, row, "project_id",
                                    f"project '{p.project_id}' {claim}; a project is counted once"))
        if key in seen_key:
            problems.append(Problem(source, row, "project_id",
                                    f"project '{p.project_id}' is claimed twice in this file (row {seen_key[key]})"))
        seen_key.setdefault(key, row)
        if p.evidence_sha256:
            old = by_sha.get(p.evidence_sha256)
            if old is not None:
                which = (f"project '{old.project_id}' of this supplier" if old.supplier == p.supplier
                         else "a project of another supplier")
                problems.append(Problem(source, row, "evidence_file",
                                        f"the evidence file already backs {which}; "
                                        "one piece of evidence supports one project"))
            if p.evidence_sha256 in seen_sha:
                problems.append(Problem(source, row, "evidence_file",
                                        f"the same evidence file backs row {seen_sha[p.evidence_sha256]} of this "
                                        "file"))
            seen_sha.setdefault(p.evidence_sha256, row)
        if p.annual_reduction_t < 0:
            problems.append(Problem(source, row, "annual_reduction_t",
                                    f"a negative reduction ({p.annual_reduction_t:g} tCO2e) is impossible"))
        if p.baseline_t is not None:
            if p.baseline_t < 0:
                problems.append(Problem(source, row, "baseline_t", f"a negative baseline ({p.baseline_t:g}) is "
                                                                   "impossible"))
            elif p.annual_reduction_t > p.baseline_t:
                problems.append(Problem(source, row, "annual_reduction_t",
                                        f"the reduction ({p.annual_reduction_t:g} tCO2e/a) exceeds the baseline "
                                        f"({p.baseline_t:g} tCO2e/a)"))
    return problems


def progress(projects: list[Project], goal_t: float, start_year: int, end_year: int,
             current_year: int | None = None) -> dict:
    """Cumulative accepted reductions per programme year against the goal, with the pipeline under review.

    Only the years up to ``current_year`` (the year of the evaluation day) are achieved; later programme years are
    a projection of the accepted projects (``projected`` rows, ``projected_t``), never in ``achieved_t`` or
    ``progress``. Without ``current_year`` every year up to ``end_year`` counts as past."""
    years = list(range(start_year, end_year + 1))
    last = end_year if current_year is None else min(end_year, current_year)
    rows, cumulative, pipeline_cum, achieved = [], 0.0, 0.0, 0.0
    for y in years:
        accepted = sum(p.annual_reduction_t for p in projects if p.status == "accepted" and p.start_year <= y)
        pending = sum(p.annual_reduction_t for p in projects if p.status == "submitted" and p.start_year <= y)
        cumulative += accepted
        pipeline_cum += pending
        projected = y > last
        if not projected:
            achieved = cumulative
        rows.append({"year": y, "projected": projected, "annual_t": accepted, "cumulative_t": cumulative,
                     "pipeline_annual_t": pending, "pipeline_cumulative_t": pipeline_cum,
                     "progress": None if projected or goal_t <= 0 else cumulative / goal_t})
    return {"goal_t": goal_t, "start_year": start_year, "end_year": end_year,
            "achieved_year": last if last >= start_year else None, "years": rows,
            "achieved_t": achieved, "progress": achieved / goal_t if goal_t > 0 else None,
            "projected_t": cumulative, "projected_progress": cumulative / goal_t if goal_t > 0 else None,
            "projects": {s: sum(1 for p in projects if p.status == s) for s in STATUSES}}


__all__ = ["Project", "STATUSES", "TYPES", "guard", "progress", "project_key"]
