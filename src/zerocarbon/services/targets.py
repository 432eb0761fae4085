"""Reduction targets of an organisation: set, list, delete; progress over the years with stored inventories; the
science-based check; the output figures intensity targets divide by; what the assessment and the pathway
optimiser read of them.

Values come from the stored inventories (operational control): Scope 1 + Scope 2 by the target's method, Scope 3
beside them, the renewable share of electricity (on-site PV used, green-power contracts and certificates over
electricity consumed). A base-year change recorded with ``zerocarbon baseyear record`` moves the base value of an
organisation-wide Scope 1+2 target when the recalculation policy (GHG Protocol ch.5, 5 % threshold) says so; the
progress shows both values and why.
"""
from __future__ import annotations

import math
from dataclasses import asdict
from datetime import date
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from zerocarbon.core import targets as core
from zerocarbon.core.model import Boundary
from zerocarbon.errors import InputError, NotFoundError, Problem
from zerocarbon.services import accounting
from zerocarbon.store import repos
from zerocarbon.store import targets as store

BOUNDARY = Boundary.OPERATIONAL_CONTROL
METRICS = ("units", "revenue")
OUTPUT_COLUMNS = ("site", "year", "metric", "value", "unit", "source")
FIRST_YEAR, LAST_YEAR = accounting.FIRST_YEAR, accounting.LAST_YEAR


# --- values of a year -------------------------------------------------------------------------------------------

def _emissions(totals: dict, scopes: str, method: str) -> float:
    s12 = totals["scope1_t"] + totals[f"scope2_{method}_t"]
    return {"s1s2": s12, "s3": totals.get("scope3_t", 0.0), "s1s2s3": s12 + totals.get("scope3_t", 0.0)}[scopes]


def _site_emissions(sessions, org: str, year: int, site: str, method: str) -> float:
    for st in accounting.site_totals(sessions, org, year, BOUNDARY):
        if st.site == site:
            return st.scope1 + (st.scope2_market if method == "market" else st.scope2_location)
    return 0.0


def _output(outputs: list, year: int, metric: str, site: str) -> tuple[float, str] | None:
    """The output figure of (year, metric) for ``site`` (``org``: the organisation's own row, else its sites'
    sum); None when missing."""
    rows = [o for o in outputs if o.year == year and o.metric == metric]
    if site != core.ORG:
        rows = [o for o in rows if o.site == site]
    elif any(o.site == "" for o in rows):
        rows = [o for o in rows if o.site == ""]
    if not rows:
        return None
    units = {o.unit for o in rows}
    if len(units) > 1:
        raise InputError([Problem("outputs", None, "unit", f"{metric} of {year} is stored in several units "
                                                           f"({', '.join(sorted(units))}); store one")])
    return sum(o.value for o in rows), units.pop()


class _Values:
    """The stored inventories and output figures of one organisation, read once."""

    def __init__(self, sessions: sessionmaker, org: str):
        self.sessions, self.org = sessions, org
        with sessions.begin() as s:
            org_id, self.organisation = repos.load_organisation(s, org)
            self.years = store.inventory_years(s, org_id, BOUNDARY.value)
            self.outputs = store.outputs(s, org_id)
            self.rows = store.targets(s, org_id)

    def emissions(self, year: int, scopes: str, method: str, site: str) -> float | None:
        if year not in self.years:
            return None
        if site == core.ORG:
            return _emissions(self.years[year], scopes, method)
        return _site_emissions(self.sessions, self.org, year, site, method)

    def value(self, kind: str, year: int, scopes: str, method: str, site: str,
              denominator: str | None = None) -> float | None:
        """The target's metric in ``year``: tCO2e, tCO2e per output unit, or the renewable share; None when the
        year has no inventory (or no output figure)."""
        if year not in self.years:
            return None
        if kind == "renewable_electricity":
            return float(self.years[year].get("renewable_share", 0.0))
        e = self.emissions(year, scopes, method, site)
        if kind != "intensity":
            return e
        out = _output(self.outputs, year, denominator, site)
        return e / out[0] if out and out[0] > 0 else None


# --- setting targets -------------------------------------------------------------------------------------------

def _problems(field: str, reason: str) -> InputError:
    return InputError([Problem("target", None, field, reason)])


def _coverage(values: _Values, scopes: str, method: str, site: str, base_year: int) -> float:
    """Share of the organisation's emissions of ``scopes`` inside a site boundary in the base year."""
    if site == core.ORG:
        return 1.0
    whole = values.emissions(base_year, scopes, method, core.ORG)
    part = values.emissions(base_year, scopes, method, site)
    return part / whole if whole else 0.0


def _as_target(row, values: _Values) -> core.Target:
    base_output = None
    if row.kind == "intensity":
        found = _output(values.outputs, row.base_year, row.denominator, row.boundary)
        base_output = found[0] if found else None
    coverage = _coverage(values, row.scopes, row.scope2_method, row.boundary, row.base_year) \
        if row.base_year in values.years and row.scopes != "s3" else 1.0
    return core.Target(row.code, row.kind, row.scopes, row.base_year, row.base_value, row.target_year,
                       scope2_method=row.scope2_method, boundary=row.boundary, reduction=row.reduction,
                       re_share=row.re_share, denominator=row.denominator, denominator_unit=row.denominator_unit,
                       base_output=base_output, projected_output=row.projected_output, coverage=coverage,
                       submitted=row.submitted, note=row.note or "")


def _intensity_problems(values: _Values, org: str, base_year: int, boundary: str, denominator: str | None,
                        refuse) -> None:
    """An intensity target divides by an output figure of the base year: the metric must be named and stored."""
    store_it = (f"store it first: `zerocarbon targets output set --org {org} --year {base_year} --metric "
                f"{denominator if denominator in METRICS else 'units'} --value ... --unit ...`")
    if denominator not in METRICS:
        stored = sorted({m for m in METRICS if _output(values.outputs, base_year, m, boundary)})
        refuse("denominator", f"an intensity target divides by an output figure: name it, units or revenue (not "
                              f"'{denominator or ''}'); figures of {base_year} for {boundary}: "
                              f"{', '.join(stored) or 'none'}" + ("" if stored else f"; {store_it}"))
    elif base_year in values.years and _output(values.outputs, base_year, denominator, boundary) is None:
        refuse("denominator", f"no {denominator} figure of {base_year} for {boundary}; {store_it}")


def set_target(sessions: sessionmaker, org: str, *, kind: str, scopes: str, base_year: int, target_year: int,
               reduction: float | None = None, re_share: float | None = None, scope2_method: str = "market",
               boundary: str = core.ORG, denominator: str | None = None, projected_output: float | None = None,
               submitted: date | None = None, code: str | None = None, note: str = "", actor: str) -> dict:
    """Store a target; its base value is read from the stored inventory of the base year.

    Refused (InputError, nothing written) when it cannot be met or measured: target year not after the base
    year, reduction outside (0, 1], no stored inventory for the base year, an unknown site, Scope 3 or renewable
    electricity at a site boundary, an intensity target without an output figure for the base year.
    """
    values = _Values(sessions, org)
    problems: list[Problem] = []

    def refuse(field: str, reason: str) -> None:
        problems.append(Problem("target", None, field, reason))

    for name, x in (("reduction", reduction), ("re_share", re_share), ("projected_output", projected_output)):
        if x is not None and not math.isfinite(x):
            refuse(name, f"'{x}' is not a finite number")
    if not FIRST_YEAR <= base_year <= LAST_YEAR or not FIRST_YEAR <= target_year <= LAST_YEAR:
        refuse("base_year", f"years must lie in {FIRST_YEAR}..{LAST_YEAR}")
    sites = {s.code for s in values.organisation.sites}
    if boundary != core.ORG and boundary not in sites:
        refuse("boundary", f"'{boundary}' is neither 'org' nor a site of {org} ({', '.join(sorted(sites))})")
    if boundary != core.ORG and (scopes != "s1s2" or kind == "renewable_electricity"):
        refuse("boundary", "a site target covers Scope 1+2 emissions only (Scope 3 and the renewable share are "
                           "stored for the organisation)")
    if base_year not in values.years:
        have = ", ".join(map(str, sorted(values.years))) or "none"
        refuse("base_year", f"no stored inventory of {base_year} for {org} (stored: {have}); import and compute "
                            f"it first: `zerocarbon inventory compute --org {org} --year {base_year}`")
    if kind == "intensity":
        _intensity_problems(values, org, base_year, boundary, denominator, refuse)
    # The timeframe rule counts from submission; a target set without a date is taken as submitted today.
    submitted = submitted or date.today()
    code = code or _next_code(values.rows)
    if any(r.code == code for r in values.rows):
        refuse("id", f"target '{code}' exists; delete it first or choose another id")
    if problems:
        raise InputError(problems)
    base_value = values.value(kind, base_year, scopes, scope2_method, boundary, denominator)
    found = _output(values.outputs, base_year, denominator, boundary) if kind == "intensity" else None
    unit = found[1] if found else None
    target = core.Target(code, kind, scopes, base_year, base_value or 0.0, target_year, scope2_method=scope2_method,
                         boundary=boundary, reduction=reduction, re_share=re_share, denominator=denominator,
                         denominator_unit=unit, projected_output=projected_output, submitted=submitted, note=note,
                         coverage=_coverage(values, scopes, scope2_method, boundary, base_year) or 1.0)
    bad = core.problems(target)
    if bad:
        raise InputError([Problem("target", None, f, r) for f, r in bad])
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        store.add_target(s, org_id, code=code, kind=kind, scopes=scopes, scope2_method=scope2_method,
                         boundary=boundary, base_year=base_year, base_value=target.base_value,
                         target_year=target_year, reduction=reduction, re_share=re_share, denominator=denominator,
                         denominator_unit=unit, projected_output=projected_output, submitted=submitted, note=note,
                         created_by=actor, created_at=repos.now())
        repos.audit(s, actor, "target.set", f"{org}:target:{code}", org_id=org_id, kind=kind, scopes=scopes,
                    base_year=base_year, base_value=target.base_value, target_year=target_year,
                    reduction=reduction, re_share=re_share, boundary=boundary, scope2_method=scope2_method)
    return describe(target)


def _next_code(rows) -> str:
    n = 1
    taken = {r.code for r in rows}
    while f"T{n}" in taken:
        n += 1
    return f"T{n}"


def describe(t: core.Target) -> dict:
    d = asdict(t)
    d.update(unit=t.unit, target_value=t.target_value, submitted=t.submitted.isoformat() if t.submitted else None)
    return d


def list_targets(sessions: sessionmaker, org: str) -> list[dict]:
    values = _Values(sessions, org)
    return [describe(_as_target(r, values)) for r in values.rows]


def delete_target(sessions: sessionmaker, org: str, code: str, *, actor: str) -> None:
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        row = store.target(s, org_id, code)
        if row is None:
            raise NotFoundError(f"no target '{code}' for {org}")
        repos.audit(s, actor, "target.delete", f"{org}:target:{code}", org_id=org_id, kind=row.kind,
                    base_year=row.base_year, target_year=row.target_year)
        store.delete_target(s, org_id, code)


# --- progress --------------------------------------------------------------------------------------------------

def _rebase(sessions, org: str, t: core.Target, values: _Values) -> tuple[core.Target, dict]:
    """The target on the base the recalculation policy gives, and what was decided (shown with the progress)."""
    decision = accounting.assess_base_year(sessions, org, t.base_year)
    info = {"stored_base": t.base_value, "recalculate": decision.recalculate,
            "relative_change": decision.relative_change, "threshold": decision.threshold,
            "reasons": list(decision.reasons), "applied": False}
    if not decision.reasons:
        return t, info
    if not decision.recalculate:
        info["note"] = (f"recorded base-year changes ({decision.relative_change:.1%}) stay within the "
                        f"{decision.threshold:.0%} threshold: base year kept")
        return t, info
    if t.boundary != core.ORG or t.kind == "renewable_electricity" or t.scopes == "s3":
        info["note"] = ("recorded base-year changes are organisation-wide Scope 1+2 tCO2e; they are not applied "
                        "to this target's boundary or metric")
        return t, info
    delta = decision.recalculated_base_t - _emissions(values.years[t.base_year], "s1s2", "market")
    base_e = values.emissions(t.base_year, t.scopes, t.scope2_method, t.boundary) + delta
    new = base_e
    if t.kind == "intensity":
        new = base_e / t.base_output
    info.update(applied=True, note=f"base year recalculated ({decision.relative_change:.1%} > "
                                   f"{decision.threshold:.0%}): {'; '.join(decision.reasons)}")
    return core.rebased(t, new, info["note"]), info


def _progress_of(sessions, org: str, row, values: _Values) -> dict:
    t = _as_target(row, values)
    current = values.value(t.kind, t.base_year, t.scopes, t.scope2_method, t.boundary, t.denominator)
    if current is not None and abs(current - t.base_value) > 1e-9 * max(1.0, abs(t.base_value)):
        t = core.rebased(t, current, "base year inventory recomputed since the target was set")
    t, recalculation = _rebase(sessions, org, t, values)
    points = []
    for year in sorted(values.years):
        if year < t.base_year:
            continue
        actual = values.value(t.kind, year, t.scopes, t.scope2_method, t.boundary, t.denominator)
        if actual is None:
            continue
        p = core.progress(t, year, actual)
        points.append(asdict(p))
    line = [{"year": y, "value": core.trajectory(t, y)} for y in range(t.base_year, t.target_year + 1)]
    return {"target": describe(t), "recalculation": recalculation, "stored_base_value": row.base_value,
            "points": points, "trajectory": line, "latest": points[-1] if points else None}


def progress(sessions: sessionmaker, org: str, code: str | None = None) -> list[dict]:
    """Per target: the base value used (recalculated when the policy says so), the trajectory base..target year,
    and actual vs expected in every year with a stored inventory (on track, annual rate still needed)."""
    values = _Values(sessions, org)
    rows = [r for r in values.rows if code is None or r.code == code]
    if code is not None and not rows:
        raise NotFoundError(f"no target '{code}' for {org}")
    return [_progress_of(sessions, org, r, values) for r in rows]


def check(sessions: sessionmaker, org: str, code: str, today: date | None = None) -> dict:
    """The science-based check of one target, with the Scope 3 materiality finding of the latest inventory
    (met by a stored near-term Scope 3 target); ``failing`` names every rule that fails, and ``passed`` is true
    only when the ambition is aligned and none fails."""
    values = _Values(sessions, org)
    row = next((r for r in values.rows if r.code == code), None)
    if row is None:
        raise NotFoundError(f"no target '{code}' for {org}")
    result = core.check_science_based(_as_target(row, values), today)
    out = asdict(result)
    findings = list(result.findings)
    if values.years:  # materiality is judged on the latest inventory: is a Scope 3 target needed now?
        latest = max(values.years)
        totals = values.years[latest]
        s12 = _emissions(totals, "s1s2", row.scope2_method)
        scope3 = [r.code for r in values.rows if r.scopes in ("s3", "s1s2s3") and r.kind in ("absolute", "intensity")]
        material = core.scope3_target_required(s12, totals.get("scope3_t", 0.0), latest, scope3)
        out["scope3_materiality"] = asdict(material)
        findings.append(material)
    # "passed" speaks for every rule listed, the organisation's Scope 3 requirement included
    out["failing"] = [f.rule for f in findings if f.passed is False]
    out["passed"] = result.passed and not out["failing"]
    return out


# --- output figures --------------------------------------------------------------------------------------------

def _output_problems(source: str, row: int | None, site: str, year, metric: str, value, unit: str,
                     sites: set[str]) -> list[Problem]:
    out = []
    if site and site not in sites:
        out.append(Problem(source, row, "site", f"'{site}' is not a site ({', '.join(sorted(sites))}); leave it "
                                                "empty for the whole organisation"))
    if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        out.append(Problem(source, row, "year", f"'{year}' is not a year in {FIRST_YEAR}..{LAST_YEAR}"))
    if metric not in METRICS:
        out.append(Problem(source, row, "metric", f"'{metric}' is not one of {', '.join(METRICS)}"))
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        out.append(Problem(source, row, "value", f"'{value}' is not a positive number"))
    if not unit or not str(unit).strip():
        out.append(Problem(source, row, "unit", "give the unit (e.g. unit, laptop, CNY, 万元)"))
    return out


def set_output(sessions: sessionmaker, org: str, *, year: int, metric: str, value: float, unit: str,
               site: str = "", source: str = "", actor: str) -> dict:
    """Create or replace one output figure (production units or revenue of a site, or of the organisation)."""
    with sessions.begin() as s:
        org_id, organisation = repos.load_organisation(s, org)
        problems = _output_problems("output", None, site, year, metric, value, unit,
                                    {x.code for x in organisation.sites})
        if problems:
            raise InputError(problems)
        store.put_output(s, org_id, site, year, metric, value=float(value), unit=unit.strip(), source=source,
                         recorded_by=actor, recorded_at=repos.now())
        repos.audit(s, actor, "target.output", f"{org}:output:{site or 'org'}:{year}:{metric}", org_id=org_id,
                    value=value, unit=unit, source=source)
    return {"site": site, "year": year, "metric": metric, "value": float(value), "unit": unit, "source": source}


def import_outputs(sessions: sessionmaker, org: str, path: str | Path, *, name: str | None = None,
                   actor: str) -> list[dict]:
    """Store every row of a CSV/XLSX file (columns site, year, metric, value, unit, source), all or nothing."""
    from zerocarbon.io.tables import read_table

    source = name or Path(path).name
    frame = read_table(path)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in OUTPUT_COLUMNS if c not in frame.columns and c not in ("site", "source")]
    if missing:
        raise InputError([Problem(source, None, c, "column missing") for c in missing])
    with sessions.begin() as s:
        org_id, organisation = repos.load_organisation(s, org)
        sites = {x.code for x in organisation.sites}
        rows, problems = [], []
        for i, rec in enumerate(frame.to_dict("records"), start=2):
            site = _text(rec.get("site"))
            year, value = _int(rec.get("year")), _float(rec.get("value"))
            metric, unit = _text(rec.get("metric")), _text(rec.get("unit"))
            problems += _output_problems(source, i, site, year, metric, value, unit, sites)
            rows.append((site, year, metric, value, unit, _text(rec.get("source")) or source))
        if problems:
            raise InputError(problems)
        for site, year, metric, value, unit, note in rows:
            store.put_output(s, org_id, site, year, metric, value=value, unit=unit, source=note, recorded_by=actor,
                             recorded_at=repos.now())
        repos.audit(s, actor, "target.outputs_import", f"{org}:outputs", org_id=org_id, file=source,
                    rows=len(rows))
    return [dict(zip(OUTPUT_COLUMNS, r)) for r in rows]


def _text(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()


def _int(v):
    try:
        f = float(v)
        return int(f) if f.is_integer() else v
    except (TypeError, ValueError):
        return v


def _float(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def list_outputs(sessions: sessionmaker, org: str) -> list[dict]:
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        return [{"site": o.site, "year": o.year, "metric": o.metric, "value": o.value, "unit": o.unit,
                 "source": o.source} for o in store.outputs(s, org_id)]


# --- for the assessment and the pathway optimiser ---------------------------------------------------------------

def _metric(value, unit: str, lineage: dict, note: str) -> dict:
    return {"value": value, "unit": unit, "lineage": lineage, "note": note}


def assessment_metrics(sessions: sessionmaker, org: str, year: int, site: str | None = None) -> dict[str, dict]:
    """``targets.defined`` (1 when a Scope 1+2 reduction target covers the organisation or ``site``) and
    ``targets.scope12_on_track`` (1 when every such target is on or below its trajectory in ``year``; None
    without an inventory of ``year``)."""
    values = _Values(sessions, org)
    scope12 = [r for r in values.rows if r.kind in ("absolute", "intensity", "net_zero") and r.scopes != "s3"
               and r.boundary in (core.ORG, site or core.ORG)]
    ids = [r.code for r in scope12]
    defined = _metric(1.0 if scope12 else 0.0, "bool", {"targets": ids},
                      f"{len(ids)} Scope 1+2 target(s)" if ids else "no Scope 1+2 reduction target stored")
    states = []
    for r in scope12:
        p = _progress_of(sessions, org, r, values)
        point = next((x for x in p["points"] if x["year"] == year), None)
        if point is not None:
            states.append((r.code, point["on_track"], point["actual"], point["expected"]))
    if not states:
        on_track = _metric(None, "bool", {"targets": ids, "year": year},
                           f"no Scope 1+2 target with an inventory of {year}")
    else:
        ok = all(s[1] for s in states)
        on_track = _metric(1.0 if ok else 0.0, "bool",
                           {"targets": {c: {"on_track": o, "actual": a, "expected": e} for c, o, a, e in states},
                            "year": year, "inventory": f"{org}:{year}"},
                           "every Scope 1+2 target on its trajectory" if ok else
                           "off track: " + ", ".join(c for c, o, _, _ in states if not o))
    return {"targets.defined": defined, "targets.scope12_on_track": on_track}


def pathway_targets(sessions: sessionmaker, org: str) -> list[dict]:
    """Per year from the latest inventory year to the last target year: the most Scope 1+2 tCO2e the
    organisation-wide targets allow (market- or location-based as each target says), and the least renewable
    share; ``milestone`` marks a target year."""
    values = _Values(sessions, org)
    ts = [_as_target(r, values) for r in values.rows if r.boundary == core.ORG and r.scopes == "s1s2"
          and r.kind in ("absolute", "net_zero", "renewable_electricity")]
    if not ts:
        return []
    start = max(values.years) if values.years else min(t.base_year for t in ts)
    out = []
    for year in range(start, max(t.target_year for t in ts) + 1):
        caps = [(core.trajectory(t, year), t) for t in ts if t.kind != "renewable_electricity"]
        shares = [core.trajectory(t, year) for t in ts if t.kind == "renewable_electricity"]
        cap = min(caps, key=lambda c: c[0]) if caps else None
        out.append({"year": year, "max_tco2e_scope12": cap[0] if cap else None,
                    "scope2_method": cap[1].scope2_method if cap else None,
                    "min_re_share": max(shares) if shares else None,
                    "milestone": any(t.target_year == year for t in ts),
                    "targets": [t.id for t in ts if t.base_year <= year]})
    return out


def write_progress_chart(items: list[dict], path: str | Path) -> Path:
    """The progress of ``items`` (from :func:`progress`) drawn to a PNG file."""
    from zerocarbon.io.target_charts import progress_chart

    return progress_chart(items, Path(path))
