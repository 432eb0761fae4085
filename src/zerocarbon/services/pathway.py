"""Abatement pathways: the measure catalogue (shipped, or an organisation's own file), the MACC of a scenario
year, the least-cost pathway to a scenario's targets (stored with its scenario, catalogue and base), scenarios
side by side, and the stored runs of an organisation.

The base comes from the organisation's stored inventory of the year (``services.pathway_base``: Scope 1+2 of the
stored ledger, electricity by end use through the scenario's meter mapping, renewable electricity bought and
on-site PV); the scenario's own base values are used only when its base says ``source: scenario``. The result
says which in ``base.source`` (``inventory``, with the lineage: year, factor set, ledger row counts, totals).
Targets are the scenario's, or the organisation's stored targets (``services.targets.pathway_targets``) when the
scenario gives none or ``targets="stored"``; ``scenario.targets_source`` says which. A ``reduction_vs_base``
target resolves against the stored inventory of its base year when there is one. The measure ``energy_aware_scheduling`` takes its saving from the organisation's latest stored
schedule run (annual grid MWh saved against the conventional plan), named in its lineage; without one it keeps
the catalogue's default, marked as such.

A stored ``result`` holds: ``scenario`` (name, SHA-256, targets, settings, notes), ``base`` (the streams and
where they came from), ``years`` and ``bau`` (per year: measures in service, sizes, electricity, renewable MWh,
Scope 1, 2 market- and location-based, Scope 1+2, renewable share, costs, the target), ``plan`` (starts and sizes
added), ``npc``, ``greedy`` (its plan's cost, whether it meets the targets, its order, what it misses), ``macc``
(the first year's curve), ``measures`` (name, kind, scope, illustrative figures, lineage), ``dropped``,
``illustrative`` (every illustrative figure used), ``offset_memo`` (residual Scope 1+2 of the last year x the
catalogue's CCER price: what compensation would cost; offsets never count toward a target).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from zerocarbon.core.pathway.macc import greedy, macc
from zerocarbon.core.pathway.measures import Catalogue, Figure, Measure, parse_catalogue, shipped_catalogue
from zerocarbon.core.pathway.model import PlanResult, Problem, YearResult, build_problem
from zerocarbon.core.pathway.scenario import INVENTORY, Scenario, Target, base_request, parse_scenario
from zerocarbon.errors import InputError, NotFoundError, Problem as Issue
from zerocarbon.store import pathways as store
from zerocarbon.store import repos
from zerocarbon.store.pathways import PathwayRunRow
from zerocarbon.core import safe_yaml

SHIPPED = "shipped"
SCHEDULING = "energy_aware_scheduling"
MAX_FILE_BYTES = 1_000_000
MIN_TIME_LIMIT, MAX_TIME_LIMIT = 0.5, 600.0  # [s] a solve may ask for
TARGET_SOURCES = ("auto", "stored", "scenario")
PHASES = ("read", "macc", "greedy", "solve", "store")
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class PathwayRunInfo:
    id: int
    organisation: str
    name: str
    scenario_file: str
    scenario_sha256: str
    catalogue: str
    catalogue_sha256: str
    base_year: int
    solver_status: str
    solve_seconds: float
    created_by: str
    created_at: datetime
    summary: dict
    result: dict | None = None
    scenario_yaml: str | None = None


# --- catalogue ------------------------------------------------------------------------------------------------

def _text(data: bytes | str, origin: str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_FILE_BYTES:
        raise InputError([Issue(origin, None, None, f"larger than {MAX_FILE_BYTES:,} bytes")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([Issue(origin, None, None, "not UTF-8 text")]) from exc


def catalogue(own: bytes | str | None = None, origin: str = "catalogue.yaml") -> Catalogue:
    """The shipped catalogue, or an organisation's own file (same format, checked field by field)."""
    return shipped_catalogue() if own is None else parse_catalogue(_text(own, origin), origin)


def _figure(f: Figure | None) -> dict | None:
    return f.as_dict() if f is not None else None


def measure_dict(m: Measure, cat: Catalogue) -> dict:
    figs = {k: _figure(v) for k, v in m.figures().items()}
    for f in figs.values():
        if f and f["source"]:
            f["source_detail"] = cat.sources.get(f["source"])
    return {"id": m.id, "name": {"en": m.name.en, "zh": m.name.zh}, "scope": m.scope, "kind": m.kind,
            "acts_on": {"kind": m.acts_on, "targets": list(m.targets), "electricity_end_use": m.electricity_end_use},
            "figures": figs, "exclusive": m.exclusive, "max_driver": m.max_driver,
            "illustrative": list(m.illustrative), "lineage": dict(m.lineage)}


def list_measures(own: bytes | str | None = None, origin: str = "catalogue.yaml") -> dict:
    """The catalogue as data: every measure with its figures, their status, sources and licences."""
    cat = catalogue(own, origin)
    return {"version": cat.version, "currency": cat.currency, "price_year": cat.price_year,
            "origin": cat.origin, "sha256": cat.sha256, "sources": cat.sources,
            "reference_prices": {k: v.as_dict() for k, v in cat.reference_prices.items()},
            "measures": [measure_dict(m, cat) for m in cat.measures]}


# --- scheduling savings ---------------------------------------------------------------------------------------

def latest_schedule_saving(sessions: sessionmaker, org_code: str) -> dict | None:
    """The organisation's latest stored schedule run's annual saving against the conventional plan, or None."""
    from zerocarbon.services import schedule_runs

    page = schedule_runs.list_runs(sessions, org_code, limit=1)
    if not page.runs:
        return None
    run = page.runs[0]
    saved = (run.summary or {}).get("savings") or {}
    mwh = saved.get("grid_mwh_per_year")
    if mwh is None:
        return None
    return {"schedule_run": run.id, "created_at": run.created_at.isoformat(), "grid_mwh_per_year": float(mwh),
            "tco2e_per_year": saved.get("tco2e_per_year"), "problem": (run.summary or {}).get("problem")}


def with_scheduling(cat: Catalogue, scenario: Scenario, saving: dict | None) -> Catalogue:
    """The catalogue with ``energy_aware_scheduling``'s fraction from a schedule run's saving (MWh a year over the
    base MWh of the end uses it acts on), or its default marked as the catalogue's."""
    try:
        m = cat.get(SCHEDULING)
    except KeyError:
        return cat
    if saving is None:
        new = replace(m, lineage={"source": "catalogue default", "reason": "no stored schedule run"})
    else:
        base = sum(scenario.base.electricity_mwh.get(t, 0.0) for t in m.targets)
        if base <= 0:
            return cat
        share = min(0.9, max(0.0, saving["grid_mwh_per_year"] / base))
        fraction = Figure(share, "fraction", "sourced", f"schedule_run:{saving['schedule_run']}", "",
                          f"{saving['grid_mwh_per_year']:,.1f} MWh a year saved against the conventional plan / "
                          f"{base:,.1f} MWh of {', '.join(m.targets)}")
        new = replace(m, fraction=fraction, lineage=dict(saving, source="schedule run"))
    sources = dict(cat.sources)
    if saving is not None:
        sources[f"schedule_run:{saving['schedule_run']}"] = {
            "title": f"stored schedule run {saving['schedule_run']} ({saving.get('problem')})",
            "licence": "the organisation's own data"}
    return replace(cat, measures=tuple(new if x.id == SCHEDULING else x for x in cat.measures), sources=sources)


# --- solving --------------------------------------------------------------------------------------------------

def read_scenario(data: bytes | str, origin: str, targets: list[dict] | None = None) -> Scenario:
    """A scenario with its own base values (``source: scenario``), without an organisation."""
    return parse_scenario(_text(data, origin), origin, targets=targets)


@dataclass(frozen=True)
class Prepared:
    """A scenario ready to solve and where its base and targets come from."""

    scenario: Scenario
    base: dict = field(default_factory=dict)  # lineage of a stored-inventory base
    targets: dict = field(default_factory=dict)  # source (scenario | stored) and resolutions


def _stored_target_objects(sessions: sessionmaker, org_code: str) -> dict:
    from dataclasses import fields

    from zerocarbon.core.targets import Target as Stored
    from zerocarbon.services import targets as target_service

    names = {f.name for f in fields(Stored)}
    return {t["id"]: Stored(**{k: v for k, v in t.items() if k in names})
            for t in target_service.list_targets(sessions, org_code)}


def _stored_targets(sessions: sessionmaker, org_code: str, sc_raw: dict, base_year: int) -> tuple[list[dict], dict]:
    """The stored targets as pathway targets: at their target years, and (unless the scenario says ``trajectory:
    target_years_only``) the Scope 1+2 caps of the years between on the targets' linear trajectory, which is what
    ``targets progress`` judges against."""
    from zerocarbon.core.targets import trajectory
    from zerocarbon.services import targets as target_service

    linear = sc_raw.get("trajectory", "linear") != "target_years_only"
    stored = _stored_target_objects(sessions, org_code)
    kinds = {k: t.kind for k, t in stored.items()}
    rows = [r for r in target_service.pathway_targets(sessions, org_code) if r["year"] > base_year
            and (r["milestone"] or (linear and r["max_tco2e_scope12"] is not None))]
    end = sc_raw.get("end_year") if isinstance(sc_raw.get("end_year"), int) else None
    beyond = [r["year"] for r in rows if r["milestone"] and end is not None and r["year"] > end]
    rows = [r for r in rows if end is None or r["year"] <= end]
    if not any(r["milestone"] for r in rows):
        raise InputError([Issue("targets", None, "targets", f"{org_code} has no stored Scope 1+2 or renewable "
                                                            f"electricity target after {base_year}"
                                                            + (f" up to {end}" if end else "")
                                                            + ": set one with `zerocarbon targets set`, or give "
                                                              "targets in the scenario")])
    out, binding = [], []
    for r in rows:
        caps = [i for i in r["targets"] if kinds.get(i) != "renewable_electricity" and r["max_tco2e_scope12"] is not None
                and abs(trajectory(stored[i], r["year"]) - r["max_tco2e_scope12"]) <= 1e-6]  # the tightest binds
        shares = [i for i in r["targets"] if kinds.get(i) == "renewable_electricity"]
        share = r["min_re_share"] if r["milestone"] else None
        out.append({"year": r["year"], "max_scope12_t": r["max_tco2e_scope12"], "min_re_share": share})
        by = []
        if r["max_tco2e_scope12"] is not None:
            by.append({"what": "scope12_cap", "value": r["max_tco2e_scope12"], "targets": caps,
                       "how": "target_year" if r["milestone"] else "trajectory"})
        if share is not None:
            by.append({"what": "re_share", "value": share, "targets": shares, "how": "target_year"})
        binding.append({"year": r["year"], "by": by})
    note = ("caps of the stored targets at their target years and on their linear trajectory in the years between"
            if linear else "caps of the stored targets at their target years only (trajectory: target_years_only)")
    if any(r["scope2_method"] == "location" for r in rows):
        note += "; a location-based target's cap is applied to market-based Scope 1+2"
    return out, {"source": "stored", "rows": rows, "beyond_end_year": beyond, "trajectory":
                 "linear" if linear else "target_years_only", "binding": binding, "note": note}


def _stored_total(sessions: sessionmaker, org_code: str, year: int) -> float | None:
    from zerocarbon.errors import NotFoundError as Missing
    from zerocarbon.services import accounting

    try:
        return float(accounting.inventory_meta(sessions, org_code, year)["totals"]["total_market_t"])
    except Missing:
        return None


def _resolve_reductions(sessions: sessionmaker | None, org_code: str | None, sc: Scenario) -> tuple[Scenario, list]:
    """``reduction_vs_base`` targets as caps on the stored inventory of their base year (market-based), when there
    is one; a named base year without a stored inventory is refused."""
    out, notes = [], []
    for t in sc.targets:
        year = t.base_year or sc.base.year
        named = t.base_year not in (None, sc.base.year)
        total = _stored_total(sessions, org_code, year) if t.reduction_vs_base is not None and sessions is not None \
            and org_code and (named or sc.base_source == INVENTORY) else None
        if t.reduction_vs_base is not None and named and total is None:
            from zerocarbon.services.pathway_base import missing_inventory

            raise missing_inventory(org_code or "the organisation", year)
        if total is None:
            out.append(t)
            continue
        cap = (1 - t.reduction_vs_base) * total
        notes.append({"year": t.year, "reduction_vs_base": t.reduction_vs_base, "base_year": year,
                      "base_total_market_t": total, "cap_t": cap, "source": f"stored inventory {year}"})
        out.append(Target(t.year, cap, None, t.min_re_share, None))
    return replace(sc, targets=tuple(out)), notes


def _other_problems(text: str, origin: str, base) -> list[Issue]:
    """The file's problems other than its targets, so that all are shown at once."""
    try:
        parse_scenario(text, origin, base=base)
    except InputError as exc:
        return [p for p in exc.problems if p.column != "targets"]
    return []


def prepare(data: bytes | str, origin: str, *, sessions: sessionmaker | None = None, org_code: str | None = None,
            year: int | None = None, targets: str = "auto") -> Prepared:
    """The scenario of ``data`` on the organisation's stored inventory (or its own base when it says ``source:
    scenario``) and targets (its own, or the stored ones when it has none or ``targets="stored"``)."""
    if targets not in TARGET_SOURCES:
        raise InputError([Issue("targets", None, "targets", f"must be one of {', '.join(TARGET_SOURCES)}")])
    text = _text(data, origin)
    request = base_request(text, origin)
    raw = safe_yaml.load(text)
    base, lineage = None, {}
    if request.source == INVENTORY:
        if sessions is None or not org_code:
            raise InputError([Issue(origin, None, "base.source", "the base comes from an organisation's stored "
                                                                 "inventory: name the organisation, or state "
                                                                 "`source: scenario` in base to use the file's values")])
        from zerocarbon.services.pathway_base import inventory_base

        base, lineage = inventory_base(sessions, org_code, request, year)
    elif year is not None and request.year != year:
        raise InputError([Issue(origin, None, "base.year", f"the scenario's base year is {request.year}, "
                                                           f"not {year}")])
    use_stored = targets == "stored" or (targets == "auto" and not raw.get("targets"))
    stored, provenance = None, {"source": "scenario"}
    if use_stored:
        if sessions is None or not org_code:
            raise InputError([Issue(origin, None, "targets", "the scenario has no targets: give them, or name the "
                                                             "organisation to use its stored targets")])
        base_year = base.year if base is not None else request.year
        try:
            stored, provenance = _stored_targets(sessions, org_code, raw, base_year)
        except InputError as exc:
            raise InputError(exc.problems + _other_problems(text, origin, base)) from exc
    sc = parse_scenario(text, origin, targets=stored, base=base)
    sc, resolved = _resolve_reductions(sessions, org_code, sc)
    if resolved:
        provenance = dict(provenance, resolved=resolved)
    return Prepared(sc, lineage, provenance)


def _problem(sessions: sessionmaker | None, org_code: str | None, scenario: Scenario,
             own_catalogue: bytes | str | None, catalogue_name: str) -> Problem:
    cat = catalogue(own_catalogue, catalogue_name)
    saving = latest_schedule_saving(sessions, org_code) if sessions is not None and org_code else None
    return build_problem(with_scheduling(cat, scenario, saving), scenario)


def _year(y: YearResult) -> dict:
    return {"year": y.year, "active": list(y.active), "sizes": y.sizes, "electricity_mwh": y.electricity_mwh,
            "onsite_re_mwh": y.onsite_re_mwh, "purchased_re_mwh": y.purchased_re_mwh, "grid_mwh": y.grid_mwh,
            "fuel_mwh": y.fuel_mwh, "scope1_t": y.scope1_t, "scope2_market_t": y.scope2_market_t,
            "scope2_location_t": y.scope2_location_t, "scope12_t": y.scope12_t, "scope3_t": y.scope3_t,
            "re_share": y.re_share, "energy_cost": y.energy_cost, "measure_cost": y.measure_cost,
            "carbon_cost": y.carbon_cost, "cost": y.cost, "target_cap_t": y.target_cap_t,
            "target_re_share": y.target_re_share}


def _abatement(problem: Problem, result: PlanResult) -> list[dict]:
    """Per year, the tonnes below business as usual attributed to each measure in service, by its share of the
    standalone tonnes of that year's portfolio (the stacked bars of the pathway chart); continuous measures by
    their MWh x grid factor."""
    out = []
    for y, b in zip(result.years, result.bau):
        total = b.scope12_t - y.scope12_t
        ef = problem.scenario.grid(y.year)
        parts = {}
        for mid in y.active:
            m = problem.measure(mid)
            if m.scope == 3:
                continue
            single = m.fraction.value * problem.size(m) * problem.scenario.growth_factor(y.year)
            parts[mid] = single * (ef if m.acts_on == "end_use" else (
                problem.streams[m.streams[0]].ef if m.acts_on == "fuel" else 1.0))
        for mid, size in y.sizes.items():
            m = problem.measure(mid)
            parts[mid] = size * (m.yield_.value if m.kind == "onsite_re" else 1.0) * ef
        scale = total / sum(parts.values()) if parts and sum(parts.values()) > 0 else 0.0
        out.append({"year": y.year, "bau_t": b.scope12_t, "plan_t": y.scope12_t,
                    "by_measure": {k: v * scale for k, v in parts.items()}})
    return out


def _dropped(problem: Problem) -> list[dict]:
    """Measures left out, with the reason in English and as a code and argument a page translates: ``excluded``,
    ``no_asset`` (the base.assets key), ``no_stream`` (the streams it acts on)."""
    out = []
    for mid, why in problem.dropped:
        m = problem.catalogue.get(mid)
        code, arg = (("excluded", "") if mid in problem.scenario.exclude else
                     ("no_asset", m.max_driver or "") if m.kind == "onsite_re" and not m.binary
                     else ("no_stream", ", ".join(m.targets)))
        out.append({"measure": mid, "reason": why, "code": code, "arg": arg})
    return out


def _illustrative(problem: Problem) -> list[dict]:
    return [{"measure": m.id, "field": k, "reason": f.reason} for m in problem.measures
            for k, f in m.figures().items() if f.illustrative]


SIZE_UNITS = {"onsite_re": "kW", "re_purchase": "MWh"}


def size_unit(kind: str | None) -> str:
    """Unit of a continuous measure's size: kW of on-site generation, MWh bought."""
    return SIZE_UNITS.get(kind or "", "")


def in_service(year: dict) -> list[str]:
    """Every measure in service in a result year: whole measures and continuous ones with a size."""
    return list(year["active"]) + [k for k in year["sizes"] if k not in year["active"]]


def constraint_lines(result: dict) -> list[str]:
    """The constrained years in words, consecutive years bound alike in one line (English, for the CLI)."""
    groups: list[list] = []
    for c in result.get("constraints", []):
        for b in c["by"]:
            key = (b["what"], b["how"], tuple(b["targets"]))
            if groups and groups[-1][0] == key and groups[-1][1][-1][0] == c["year"] - 1:
                groups[-1][1].append((c["year"], b["value"]))
            else:
                groups.append([key, [(c["year"], b["value"])]])
    groups.sort(key=lambda g: (g[1][0][0], g[0][0]))
    out = []
    for (what, how, ids), years in groups:
        span = str(years[0][0]) if len(years) == 1 else f"{years[0][0]}-{years[-1][0]}"
        vals = ", ".join(f"{v:,.0f} t" if what == "scope12_cap" else f"{100 * v:.1f} %" for _, v in years)
        kind = "Scope 1+2 <=" if what == "scope12_cap" else "renewable share >="
        src = {"trajectory": "on the linear trajectory of", "target_year": "target year of",
               "scenario": "the scenario's target"}[how]
        out.append(f"constrained {span}: {kind} {vals} ({src}{' ' + ', '.join(ids) if ids else ''})")
    return out


def _constraints(problem: Problem, prepared: Prepared) -> list[dict]:
    """Each constrained year with what binds it: a Scope 1+2 cap and/or a renewable share, and where it comes from
    (a stored target at its target year or on its linear trajectory, or the scenario file)."""
    stored = {b["year"]: b["by"] for b in prepared.targets.get("binding", [])}
    out = []
    for t in problem.scenario.targets:
        by = stored.get(t.year)
        if by is None:
            by = []
            if problem.cap(t) is not None:
                by.append({"what": "scope12_cap", "value": problem.cap(t), "targets": [], "how": "scenario"})
            if t.min_re_share is not None:
                by.append({"what": "re_share", "value": t.min_re_share, "targets": [], "how": "scenario"})
        else:  # a stored reduction resolved to a cap keeps the cap the model applies
            by = [dict(b, value=problem.cap(t)) if b["what"] == "scope12_cap" else b for b in by]
        out.append({"year": t.year, "by": by})
    return out


def bau_step(problem: Problem, bau: tuple[YearResult, ...]) -> dict:
    """Why business as usual steps up after the base year: the base year's certificates and contracts cover that
    year only, so from the next year their MWh are grid electricity at the grid factor."""
    b = problem.scenario.base
    first = bau[0]
    ef = problem.scenario.grid(first.year)
    return {"base_year": b.year, "year": first.year, "base_t": problem.base_scope12(), "bau_t": first.scope12_t,
            "instruments_mwh": b.re_purchased_mwh, "grid_factor": ef, "instruments_t": b.re_purchased_mwh * ef,
            "growth": problem.scenario.growth}


def _result(problem: Problem, solution, greedy_result, curve, catalogue_name: str,
            prepared: Prepared | None = None) -> dict:
    sc = problem.scenario
    prepared = prepared or Prepared(sc)
    cat = problem.catalogue
    last = solution.result.years[-1]
    ccer = cat.reference_prices.get("ccer")
    return {
        "scenario": {"name": sc.name, "sha256": sc.sha256, "currency": sc.currency, "growth": sc.growth,
                     "discount_rate": sc.discount_rate, "carbon_price": sc.carbon_price,
                     "electricity_price": sc.electricity_price, "fuel_prices": sc.fuel_prices,
                     "grid_factor": {str(k): v for k, v in sc.grid_factor.items()}, "reinvest": sc.reinvest,
                     "targets": [{"year": t.year, "max_scope12_t": t.max_scope12_t,
                                  "reduction_vs_base": t.reduction_vs_base, "min_re_share": t.min_re_share,
                                  "cap_t": problem.cap(t)} for t in sc.targets],
                     "targets_source": prepared.targets.get("source", "scenario"), "targets_lineage": prepared.targets,
                     "notes": sc.notes},
        "catalogue": {"name": catalogue_name, "sha256": cat.sha256, "version": cat.version},
        "base": {"source": sc.base_source, "lineage": prepared.base,
                 "note": sc.base.note or "the base inventory is a value of the scenario file",
                 "year": sc.base.year, "electricity_mwh": sc.base.electricity_mwh,
                 "onsite_re_mwh": sc.base.onsite_re_mwh, "re_purchased_mwh": sc.base.re_purchased_mwh,
                 "fuels": {k: vars(f) for k, f in sc.base.fuels.items()},
                 "refrigerant_tco2e": sc.base.refrigerant_tco2e, "scope3_tco2e": sc.base.scope3_tco2e,
                 "assets": sc.base.assets, "scope12_t": problem.base_scope12(),
                 **_inventory_scope12(prepared.base)},
        "constraints": _constraints(problem, prepared),
        "bau_step": bau_step(problem, solution.result.bau),
        "years": [_year(y) for y in solution.result.years],
        "bau": [_year(y) for y in solution.result.bau],
        "abatement": _abatement(problem, solution.result),
        "plan": {"starts": {k: list(v) for k, v in solution.plan.starts.items()},
                 "added": {k: {str(y): v for y, v in a.items()} for k, a in solution.plan.added.items()}},
        "npc": solution.result.npc, "status": solution.status, "seconds": solution.seconds,
        "model": {"variables": solution.variables, "binaries": solution.binaries,
                  "constraints": solution.constraints},
        "greedy": {"npc": greedy_result.result.npc, "meets_targets": greedy_result.meets_targets,
                   "order": list(greedy_result.order), "violations": list(greedy_result.result.violations),
                   "starts": {k: list(v) for k, v in greedy_result.plan.starts.items()}},
        "macc": [e.as_dict() for e in curve],
        "measures": {m.id: measure_dict(m, cat) for m in problem.measures},
        "dropped": _dropped(problem),
        "illustrative": _illustrative(problem),
        "offset_memo": {"residual_t": last.scope12_t, "year": last.year,
                        "ccer_price": ccer.value if ccer else None,
                        "cost": last.scope12_t * ccer.value if ccer else None,
                        "source": cat.sources.get(ccer.source) if ccer and ccer.source else None},
    }


def _inventory_scope12(lineage: dict) -> dict:
    """The stored inventory's Scope 1+2 beside the model's. They are equal in the base year (Scope 1 streams carry
    the ledger's tonnes, the base-year grid factor is the one the inventory implies) except for purchased heat and
    steam, which the pathway does not model (``lineage.not_modelled``)."""
    if not lineage:
        return {}
    t = lineage["totals"]
    return {"inventory_scope12_market_t": t["scope1_t"] + t["scope2_market_t"],
            "inventory_scope12_location_t": t["scope1_t"] + t["scope2_location_t"]}


def _summary(result: dict) -> dict:
    last = result["years"][-1]
    return {"scenario": result["scenario"]["name"], "npc": result["npc"], "status": result["status"],
            "last_year": last["year"], "scope12_t": last["scope12_t"], "re_share": last["re_share"],
            "base_scope12_t": result["base"]["scope12_t"], "greedy_npc": result["greedy"]["npc"],
            "greedy_meets_targets": result["greedy"]["meets_targets"],
            "measures": sorted(set(result["plan"]["starts"]) | set(result["plan"]["added"])),
            "illustrative_figures": len(result["illustrative"]), "currency": result["scenario"]["currency"],
            "base_source": result["base"]["source"], "base_year": result["base"]["year"],
            "targets_source": result["scenario"]["targets_source"]}


def check_time_limit(time_limit: float | None) -> None:
    if time_limit is not None and not MIN_TIME_LIMIT <= time_limit <= MAX_TIME_LIMIT:
        raise InputError([Issue("settings", None, "time_limit", f"{time_limit:g} s is outside "
                                                                 f"{MIN_TIME_LIMIT:g}..{MAX_TIME_LIMIT:g} s")])


def solve_scenario(scenario: Scenario | Prepared, *, sessions: sessionmaker | None = None,
                   org_code: str | None = None, own_catalogue: bytes | str | None = None,
                   catalogue_name: str = SHIPPED, time_limit: float | None = None,
                   progress: Progress | None = None) -> dict:
    """The least-cost pathway of ``scenario`` as the stored result (see the module), without storing it.
    InfeasibleError names the target that cannot be met."""
    from zerocarbon.solvers.pathway import solve

    check_time_limit(time_limit)
    prepared = scenario if isinstance(scenario, Prepared) else Prepared(scenario)
    scenario = prepared.scenario
    report = progress or (lambda done, total, message: None)
    total = len(PHASES)
    problem = _problem(sessions, org_code, scenario, own_catalogue, catalogue_name)
    report(1, total, "macc")
    curve = macc(problem)
    report(2, total, "greedy")
    g = greedy(problem, curve=curve)
    report(3, total, "solve")
    solution = solve(problem, time_limit=time_limit, progress=lambda message: report(3, total, f"solve: {message}"))
    return _result(problem, solution, g, curve, catalogue_name, prepared)


def macc_for(scenario: Scenario | Prepared, year: int | None = None, *, sessions: sessionmaker | None = None,
             org_code: str | None = None, own_catalogue: bytes | str | None = None,
             catalogue_name: str = SHIPPED) -> dict:
    """The MACC of a scenario year (default: the first after the base): cheapest tonne first, with every measure's
    illustrative figures and lineage."""
    prepared = scenario if isinstance(scenario, Prepared) else Prepared(scenario)
    scenario = prepared.scenario
    problem = _problem(sessions, org_code, scenario, own_catalogue, catalogue_name)
    year = year or problem.years[0]
    if year <= scenario.base.year:
        raise InputError([Issue(scenario.name, None, "year", f"{year} is not after the base year "
                                                              f"{scenario.base.year}")])
    return {"year": year, "scenario": scenario.name, "currency": scenario.currency,
            "base_source": scenario.base_source, "base_lineage": prepared.base,
            "entries": [e.as_dict() for e in macc(problem, year)],
            "dropped": _dropped(problem),
            "illustrative": _illustrative(problem)}


def _info(row: PathwayRunRow, org_code: str, full: bool) -> PathwayRunInfo:
    return PathwayRunInfo(row.id, org_code, row.name, row.scenario_file, row.scenario_sha256, row.catalogue,
                          row.catalogue_sha256, row.base_year, row.solver_status, row.solve_seconds, row.created_by,
                          row.created_at, row.summary, row.result if full else None,
                          row.scenario_yaml if full else None)


def optimise(sessions: sessionmaker, org_code: str, scenario_data: bytes | str, scenario_file: str, *, actor: str,
             own_catalogue: bytes | str | None = None, catalogue_name: str = SHIPPED,
             targets: str = "auto", year: int | None = None, time_limit: float | None = None,
             name: str | None = None, progress: Progress | None = None) -> PathwayRunInfo:
    """Solve a scenario file for the organisation, store the run (scenario text and SHA-256, catalogue, base,
    result, solver status) and audit it. The base is the stored inventory of ``year`` (see :func:`prepare`);
    ``targets``: auto | stored | scenario. ``progress(done, total, message)`` hears each phase. Bad input raises InputError before
    anything is solved; an infeasible scenario raises InfeasibleError and nothing is stored."""
    report = progress or (lambda done, total, message: None)
    report(0, len(PHASES), "read")
    text = _text(scenario_data, scenario_file)
    with sessions.begin() as s:
        repos.load_organisation(s, org_code)  # an unknown organisation fails before the solve
    prepared = prepare(text, scenario_file, sessions=sessions, org_code=org_code, year=year, targets=targets)
    scenario = prepared.scenario
    result = solve_scenario(prepared, sessions=sessions, org_code=org_code, own_catalogue=own_catalogue,
                            catalogue_name=catalogue_name, time_limit=time_limit, progress=report)
    report(4, len(PHASES), "store")
    summary = _summary(result)
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        row = store.add(s, PathwayRunRow(
            organisation_id=org_id, name=(name or scenario.name)[:256], scenario_file=scenario_file[:512],
            scenario_yaml=text, scenario_sha256=hashlib.sha256(text.encode()).hexdigest(),
            catalogue=catalogue_name[:512], catalogue_sha256=result["catalogue"]["sha256"],
            base_year=scenario.base.year, base=result["base"], solver_status=result["status"],
            solve_seconds=result["seconds"], summary=summary, result=result, created_by=actor,
            created_at=repos.now()))
        repos.audit(s, actor, "pathway.run", f"pathway:{row.id}", org_id=org_id, scenario=scenario_file,
                    scenario_sha256=row.scenario_sha256, catalogue=catalogue_name,
                    catalogue_sha256=row.catalogue_sha256, base_year=row.base_year, solver_status=row.solver_status,
                    npc=summary["npc"], scope12_t=summary["scope12_t"], re_share=summary["re_share"],
                    base_source=scenario.base_source, targets_source=summary["targets_source"])
        info = _info(row, org_code, True)
    report(len(PHASES), len(PHASES), "done")
    return info


def compare(scenarios: list[tuple[bytes | str, str]], *, sessions: sessionmaker | None = None,
            org_code: str | None = None, own_catalogue: bytes | str | None = None, catalogue_name: str = SHIPPED,
            time_limit: float | None = None, progress: Progress | None = None, year: int | None = None,
            targets: str = "auto") -> list[dict]:
    """Several scenario files solved on the same catalogue, side by side (nothing stored). An infeasible one is
    reported with its reason instead of a plan."""
    from zerocarbon.errors import InfeasibleError

    parsed = [prepare(data, origin, sessions=sessions, org_code=org_code, year=year, targets=targets)
              for data, origin in scenarios]  # every file checked before solving
    out = []
    for i, prepared in enumerate(parsed):
        sc = prepared.scenario
        if progress:
            progress(i, len(parsed), sc.name)
        try:
            result = solve_scenario(prepared, sessions=sessions, org_code=org_code, own_catalogue=own_catalogue,
                                    catalogue_name=catalogue_name, time_limit=time_limit)
            out.append({"scenario": sc.name, "file": scenarios[i][1], "feasible": True, "summary": _summary(result),
                        "result": result})
        except InfeasibleError as exc:
            out.append({"scenario": sc.name, "file": scenarios[i][1], "feasible": False, "reason": str(exc)})
    if progress:
        progress(len(parsed), len(parsed), "done")
    return out


def list_runs(sessions: sessionmaker, org_code: str, limit: int = 50, offset: int = 0) -> dict:
    """The organisation's runs, newest first, without their results."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        total, rows = store.page(s, org_id, limit, offset)
        return {"total": total, "limit": limit, "offset": offset, "runs": [_info(r, org_code, False) for r in rows]}


def get_run(sessions: sessionmaker, org_code: str, run_id: int) -> PathwayRunInfo:
    """One run with its result and scenario text; a run of another organisation is not found."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        row = store.get(s, org_id, run_id)
        if row is None:
            raise NotFoundError(f"no pathway run {run_id} in {org_code}")
        return _info(row, org_code, True)


def shipped_scenarios() -> dict[str, str]:
    """The scenario files shipped as examples: name -> YAML text."""
    from importlib.resources import files

    root = files("zerocarbon").joinpath("data/measures/scenarios")
    return {Path(p.name).stem: p.read_text(encoding="utf-8") for p in sorted(root.iterdir(), key=lambda p: p.name)
            if p.name.endswith(".yaml")}


def latest_scenario(sessions: sessionmaker, org_code: str) -> tuple[str, str] | None:
    """(file name, YAML text) of the organisation's latest stored run's scenario, or None."""
    page = list_runs(sessions, org_code, limit=1)
    if not page["runs"]:
        return None
    info = get_run(sessions, org_code, page["runs"][0].id)
    return info.scenario_file, info.scenario_yaml


def macc_for_org(sessions: sessionmaker, org_code: str, year: int | None = None, *,
                 scenario: tuple[str, bytes | str] | None = None, own_catalogue: bytes | str | None = None,
                 catalogue_name: str = SHIPPED, base_year: int | None = None) -> dict:
    """The MACC of an organisation: on ``scenario`` (file name, content) or else the scenario of its latest
    stored pathway run, on the stored inventory of ``base_year`` unless the scenario's base says ``source:
    scenario``; with its latest schedule run's savings."""
    with sessions.begin() as s:
        repos.load_organisation(s, org_code)
    if scenario is None:
        scenario = latest_scenario(sessions, org_code)
        if scenario is None:
            raise InputError([Issue("scenario", None, "scenario", f"{org_code} has no stored pathway run: give a "
                                                                  "scenario file (base inventory, prices, targets)")])
    sc = prepare(scenario[1], scenario[0], sessions=sessions, org_code=org_code, year=base_year)
    return macc_for(sc, year, sessions=sessions, org_code=org_code, own_catalogue=own_catalogue,
                    catalogue_name=catalogue_name)


def write_macc_chart(curve: dict, path: Path) -> Path:
    """The MACC as a PNG at ``path`` (a name the caller chose)."""
    from zerocarbon.io.pathway_charts import macc_chart

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return macc_chart(curve["entries"], Path(path), curve["currency"], f"MACC {curve['year']} ({curve['scenario']})")


def write_charts(result: dict, directory: Path, stem: str) -> list[Path]:
    """The MACC and the pathway of a result as PNGs in ``directory``: ``<stem>_macc.png``, ``<stem>.png``."""
    from zerocarbon.io.pathway_charts import macc_chart, pathway_chart

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cur = result["scenario"]["currency"]
    return [macc_chart(result["macc"], directory / f"{stem}_macc.png", cur,
                       f"MACC {result['years'][0]['year']} ({result['scenario']['name']})"),
            pathway_chart(result, directory / f"{stem}.png", f"{result['scenario']['name']}: least-cost pathway")]
