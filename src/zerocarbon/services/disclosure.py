"""Disclosure: the frameworks' data points answered for a year, checked, published and verified.

- ``import_inputs``: the figures and narratives a person enters (water, air emissions, revenue, governance
  texts), from a YAML file, all or nothing; a key entered again supersedes the old value, which stays stored.
- ``build``: one draft :class:`~zerocarbon.core.disclosure.model.Report` per framework (nothing written), from the
  facts of the year and of the prior year as computed now and as published, with the reasons a prior-year figure
  may have been restated.
- ``publish``: refused while a report has an error check; stores the facts (value, unit, status), their
  fingerprint and the inventories they were read from.
- ``verify``: every reported number computed again from its lineage by a separate path and compared.

The facts come from :mod:`zerocarbon.services.disclosure_facts` and the data points from the catalogue
(:mod:`zerocarbon.core.disclosure.catalogue`).
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from zerocarbon.core.disclosure.checks import INTENSITIES, SCOPE2, SUMS
from zerocarbon.core.disclosure.keys import FACTS, is_input_key
from zerocarbon.core.disclosure.model import (BOOL, REPORTED, TEXT, YEAR, DataPoint, DisclosureInput, Fact,
                                              Framework, Report)
from zerocarbon.core.disclosure.report import build_report, converter, facts_fingerprint
from zerocarbon.core.model import Boundary
from zerocarbon.errors import InputError, NotFoundError, Problem
from zerocarbon.io.disclosure_inputs import read_inputs
from zerocarbon.store import disclosures as store
from zerocarbon.store import repos

FRAMEWORKS = ("hkex", "issb_s2", "ghgp", "gri", "cdp", "esrs_e1", "cn_exchange")
BOUNDARY = Boundary.OPERATIONAL_CONTROL
FIRST_YEAR, LAST_YEAR = 1990, 2100
META = "_meta"          # the key of a publication's facts that holds what they were read from
VERIFY_RELATIVE = 1e-9

Progress = Callable[[str, int, int], None]


def _catalogue():
    from zerocarbon.core.disclosure import catalogue

    return catalogue


def _facts():
    from zerocarbon.services import disclosure_facts

    return disclosure_facts


@dataclass(frozen=True)
class InputsImported:
    count: int
    keys: list[str]
    replaced: list[str]       # keys entered before for the year, now superseded (their old values kept)


@dataclass(frozen=True)
class InputRecord:
    """One value entered for a key, current or superseded."""

    input: DisclosureInput
    entered_at: datetime
    superseded_at: datetime | None


@dataclass(frozen=True)
class Publication:
    id: int
    year: int
    frameworks: list[str]
    fingerprint: str
    published_at: datetime
    published_by: str
    # True when the same frameworks were already published with the same figures: nothing new was stored
    unchanged: bool = False


@dataclass(frozen=True)
class Verification:
    """A reported number (in the data point's unit) and the same number computed again from its lineage."""

    framework: str
    point: str
    fact: str
    reported: float
    recomputed: float | None
    ok: bool


# --- frameworks and catalogue ----------------------------------------------------------------------------------

def _framework_ids(wanted: Sequence[str] | None) -> list[str]:
    if not wanted:
        return list(FRAMEWORKS)
    unknown = [f for f in wanted if f not in FRAMEWORKS]
    if unknown:
        raise NotFoundError(f"unknown framework {', '.join(repr(f) for f in unknown)}; choose from "
                            f"{', '.join(FRAMEWORKS)}", entity=unknown[0])
    return list(dict.fromkeys(wanted))


def frameworks() -> list[Framework]:
    """The frameworks of the catalogue, in the fixed order of :data:`FRAMEWORKS`."""
    loaded = _catalogue().load_frameworks()
    return [loaded[f] for f in FRAMEWORKS if f in loaded]


def catalogue(framework: str | None = None) -> list[DataPoint]:
    """Every data point of the catalogue, or those of one framework, in catalogue order."""
    if framework is None:
        return list(_catalogue().load_catalogue())
    _framework_ids([framework])
    return list(_catalogue().points_of(framework))


# --- inputs ----------------------------------------------------------------------------------------------------

def _row_fields(item: DisclosureInput) -> dict:
    if item.unit == TEXT:
        return dict(key=item.key, value_num=None, value_text=str(item.value), value_zh=item.value_zh or None,
                    unit=TEXT, source=item.source)
    value = float(int(item.value)) if item.unit in (BOOL, YEAR) else float(item.value)
    return dict(key=item.key, value_num=value, value_text=None, value_zh=None, unit=item.unit, source=item.source)


def _as_input(row) -> DisclosureInput:
    if row.unit == TEXT:
        value = row.value_text or ""
    elif row.unit == BOOL:
        value = bool(row.value_num)
    elif row.unit == YEAR:
        value = int(row.value_num)
    else:
        value = row.value_num
    return DisclosureInput(row.key, value, row.unit, row.source, value_zh=row.value_zh or "",
                           entered_by=row.entered_by)


def import_inputs(sessions: sessionmaker, org: str, year: int, path: str | Path, *, actor: str,
                  source: str | None = None) -> InputsImported:
    """Store the inputs of a YAML file for (org, year), all or nothing.

    InputError (nothing written) listing every problem with the file, the item's position in ``inputs`` (row)
    and the field (column); NotFoundError for an unknown organisation. ``source``: the file name to show and
    record (an upload's own name rather than its temporary path).
    """
    path = Path(path)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InputError([Problem(source or path.name, None, "year", f"{year} is not a reporting year "
                                                                     f"({FIRST_YEAR}..{LAST_YEAR})")])
    with sessions.begin() as s:
        repos.load_organisation(s, org)   # an unknown organisation is named before the file is read
    parsed = read_inputs(path, organisation=org, year=year, source=source)
    problems = _against_catalogue(parsed.inputs, parsed.source)
    if problems:
        raise InputError(problems)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        replaced = store.put_inputs(s, org_id, year, [_row_fields(i) for i in parsed.inputs], entered_by=actor,
                                    entered_at=repos.now())
        keys = [i.key for i in parsed.inputs]
        repos.audit(s, actor, "disclosure.inputs", f"{org}:disclosure:{year}", org_id=org_id, file=parsed.source,
                    sha256=digest, count=len(keys), keys=keys, replaced=replaced)
    return InputsImported(len(keys), keys, replaced)


# Inputs the fact builder reads besides those the catalogue's points name (grid mix for fossil and nuclear energy,
# revenue for the intensities), with the unit each is entered in.
FACT_INPUTS = {"input.grid.fossil_share": "fraction", "input.grid.nuclear_share": "fraction",
               "input.finance.revenue": "CNY"}


def _against_catalogue(inputs: Sequence[DisclosureInput], source: str) -> list[Problem]:
    """An input no data point reads (a misspelt key), a figure in a unit that cannot become the data point's, or a
    negative figure: refused, so that a typo is not stored to surface later as a missing line."""
    import difflib

    known = {**FACT_INPUTS}
    for p in _catalogue().load_catalogue():
        if is_input_key(p.fact):
            known.setdefault(p.fact, p.unit)
    problems = []
    for row, item in enumerate(inputs, start=1):
        want = known.get(item.key)
        if want is None:
            near = difflib.get_close_matches(item.key, list(known), n=1)
            hint = f"; did you mean {near[0]}?" if near else " (`zerocarbon disclose catalogue` lists the keys)"
            problems.append(Problem(source, row, "key", f"no data point reads '{item.key}'{hint}"))
            continue
        if item.unit == TEXT or want == TEXT:
            if (item.unit == TEXT) != (want == TEXT):
                problems.append(Problem(source, row, "value", f"{item.key} is " + (
                    "a narrative: give it as en/zh text" if want == TEXT else f"a figure in {want}, not a text")))
            continue
        if isinstance(item.value, (int, float)) and item.value < 0:
            problems.append(Problem(source, row, "value", f"{item.value} is negative; {item.key} cannot be"))
        factor, why, _ = converter(item.unit, want)
        if factor is None:
            problems.append(Problem(source, row, "unit", why))
    return problems


def list_inputs(sessions: sessionmaker, org: str, year: int) -> list[DisclosureInput]:
    """The inputs in force for the year (superseded values left out), by key."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        return [_as_input(r) for r in store.current_inputs(s, org_id, year)]


def input_history(sessions: sessionmaker, org: str, year: int, key: str | None = None) -> list[InputRecord]:
    """Every value entered for the year (or one key), superseded ones included, oldest first per key."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        return [InputRecord(_as_input(r), r.entered_at, r.superseded_at)
                for r in store.input_history(s, org_id, year, key)]


# --- build -----------------------------------------------------------------------------------------------------

def _keys(points: Sequence[DataPoint]) -> list[str]:
    """The fact keys the points answer with, and those their checks relate them to."""
    keys = {p.fact for p in points}
    for total, parts in SUMS.items():
        if keys & {total, *parts}:
            keys |= {total, *parts}
    for intensity, (numerator, denominator) in INTENSITIES.items():
        if intensity in keys:
            keys |= {numerator, denominator}
    if any(k.startswith(("ghg.scope2", "ghg.scope12", "ghg.total")) for k in keys):
        keys |= set(SCOPE2)
    keys |= {k.split(".by_")[0] for k in keys if ".by_" in k}
    keys |= {"ghg.base_year", "meta.period", "meta.consolidation_approach"}
    return sorted(k for k in keys if k in FACTS or is_input_key(k))


def _inventory(s, org_id: int, year: int) -> dict | None:
    row = repos.get_inventory(s, org_id, year, BOUNDARY.value)
    if row is None:
        return None
    return {"year": year, "boundary": row.boundary, "factor_set": row.factor_set,
            "fingerprint": row.factor_set_fingerprint, "gwp_set": row.gwp_set, "status": row.status,
            "computed_at": row.computed_at.isoformat() if row.computed_at else None}


@dataclass
class _Context:
    org_id: int
    org_name: str
    inputs: dict[str, DisclosureInput]
    prior_inputs: dict[str, DisclosureInput]
    inventory: dict | None
    prior_inventory: dict | None
    publication: object | None      # the latest publication of the prior year


def _context(sessions: sessionmaker, org: str, year: int) -> _Context:
    with sessions.begin() as s:
        org_id, organisation = repos.load_organisation(s, org)
        return _Context(
            org_id, organisation.name,
            {r.key: _as_input(r) for r in store.current_inputs(s, org_id, year)},
            {r.key: _as_input(r) for r in store.current_inputs(s, org_id, year - 1)},
            _inventory(s, org_id, year), _inventory(s, org_id, year - 1),
            store.latest_publication(s, org_id, year - 1))


def _when(at: datetime | None) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%d") if at else "an unknown date"


def _after(at: datetime | None, then: datetime) -> bool:
    return at is not None and at > then


def restatement_reasons(sessions: sessionmaker, org: str, prior_year: int, publication=None,
                        lang: str = "en") -> list[str]:
    """Why the figures of ``prior_year`` may now differ from those published for it: base-year changes recorded
    since, the year's batches replaced, withdrawn or added since, and its inventory computed under another
    factor set or GWP set than the one published. Empty when nothing of the year was published. ``lang``: en or zh
    (a reason the user gave is quoted as given)."""
    zh = lang == "zh"
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        publication = publication or store.latest_publication(s, org_id, prior_year)
        if publication is None:
            return []
        then = publication.published_at
        published = dict(publication.facts or {})
        reasons: list[str] = []
        base_years = {prior_year}
        base = published.get("ghg.base_year")
        if isinstance(base, Mapping) and base.get("status") == REPORTED and isinstance(base.get("value"), int):
            base_years.add(base["value"])
        none = "未说明原因" if zh else "no reason given"
        for base_year in sorted(base_years):
            for change in repos.base_year_changes(s, org_id, base_year):
                if _after(change.recorded_at, then):
                    reasons.append(
                        f"{_when(change.recorded_at)}记录了{base_year}年基准年调整({change.kind},"
                        f"{change.delta_t:+,.1f} tCO2e):{change.reason}" if zh else
                        f"base-year change of {base_year} recorded on {_when(change.recorded_at)} "
                        f"({change.kind}, {change.delta_t:+,.1f} tCO2e): {change.reason}")
        for batch in repos.list_batches(s, org_id, year=prior_year):
            label = (f"批次{batch.id}({batch.source},SHA-256 {batch.sha256[:12]})" if zh else
                     f"batch {batch.id} ({batch.source}, SHA-256 {batch.sha256[:12]})")
            when = _when(batch.status_changed_at) if batch.status_changed_at else ""
            if batch.status == repos.SUPERSEDED and _after(batch.status_changed_at, then):
                reasons.append(f"{label}于{when}被批次{batch.superseded_by}替换:{batch.status_reason or none}"
                               if zh else f"{label} replaced by batch {batch.superseded_by} on {when}: "
                                          f"{batch.status_reason or none}")
            elif batch.status == repos.WITHDRAWN and _after(batch.status_changed_at, then):
                reasons.append(f"{label}于{when}撤回:{batch.status_reason or none}" if zh else
                               f"{label} withdrawn on {when}: {batch.status_reason or none}")
            elif batch.status == repos.ACTIVE and batch.replaces is None and _after(batch.imported_at, then):
                reasons.append(f"{label}({batch.kind}数据)于{_when(batch.imported_at)}在披露后导入" if zh else
                               f"{label} of {batch.kind} data imported on {_when(batch.imported_at)}, after the "
                               "publication")
        was = ((published.get(META) or {}).get("inventories") or {}).get(str(prior_year))
        now = _inventory(s, org_id, prior_year)
        if was and now:
            if was.get("fingerprint") != now["fingerprint"]:
                reasons.append(
                    f"{prior_year}年清单现按排放因子集{now['factor_set']}({now['fingerprint'][:12]})计算;披露时为"
                    f"{was.get('factor_set')}({str(was.get('fingerprint'))[:12]})" if zh else
                    f"the {prior_year} inventory is now computed under factor set {now['factor_set']} "
                    f"({now['fingerprint'][:12]}); it was published under {was.get('factor_set')} "
                    f"({str(was.get('fingerprint'))[:12]})")
            if was.get("gwp_set") != now["gwp_set"]:
                reasons.append(f"{prior_year}年清单现采用GWP值{now['gwp_set']};披露时为{was.get('gwp_set')}" if zh else
                               f"the {prior_year} inventory now uses GWP set {now['gwp_set']}; it was published "
                               f"with {was.get('gwp_set')}")
        elif was and not now:
            reasons.append(f"已披露的{prior_year}年清单已不再存储" if zh else
                           f"the {prior_year} inventory published is no longer stored")
    return reasons


def _published_facts(publication) -> dict[str, object]:
    if publication is None:
        return {}
    return {k: v for k, v in (publication.facts or {}).items() if k != META}


def _meta(ctx: _Context, facts: Mapping[str, Fact], year: int) -> dict:
    inv = ctx.inventory or {}

    def text(key: str, default):
        f = facts.get(key)
        return f.value if f is not None and f.reported else default

    return {"organisation": ctx.org_name,
            "consolidation_approach": text("meta.consolidation_approach", BOUNDARY.value),
            "factor_set": inv.get("factor_set"), "factor_set_fingerprint": inv.get("fingerprint"),
            "gwp_set": inv.get("gwp_set"), "inventory_status": inv.get("status"),
            "period": text("meta.period", f"{year}-01-01 to {year}-12-31"),
            "base_year": text("ghg.base_year", None),
            "prior_published": ctx.publication.published_at.isoformat() if ctx.publication else None,
            "prior_publication_fingerprint": ctx.publication.fingerprint if ctx.publication else None}


@dataclass
class _Built:
    reports: list[Report]
    facts: dict[str, Fact]
    context: _Context


def _build(sessions: sessionmaker, org: str, year: int, ids: list[str], progress: Progress | None) -> _Built:
    step = progress or (lambda *_: None)
    ctx = _context(sessions, org, year)
    loaded = _catalogue().load_frameworks()
    missing = [f for f in ids if f not in loaded]
    if missing:
        raise NotFoundError(f"framework {', '.join(missing)} is not in the catalogue", entity=missing[0])
    points = {f: list(_catalogue().points_of(f)) for f in ids}
    keys = _keys([p for ps in points.values() for p in ps])
    facts_module = _facts()
    facts = dict(facts_module.build_facts(sessions, org, year, inputs=ctx.inputs, keys=keys, boundary=BOUNDARY))
    prior = dict(facts_module.build_facts(sessions, org, year - 1, inputs=ctx.prior_inputs, keys=keys,
                                          boundary=BOUNDARY))
    restatements = restatement_reasons(sessions, org, year - 1, ctx.publication) if ctx.publication else []
    restatements_zh = (restatement_reasons(sessions, org, year - 1, ctx.publication, lang="zh")
                       if ctx.publication else [])
    published = _published_facts(ctx.publication)
    meta = _meta(ctx, facts, year)
    generated_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    reports = []
    for i, fid in enumerate(ids):
        step(fid, i, len(ids))
        reports.append(build_report(loaded[fid], points[fid], facts, org=org, org_name=ctx.org_name, year=year,
                                    prior=prior, published_prior=published, restatements=restatements,
                                    restatements_zh=restatements_zh, meta=dict(meta), generated_at=generated_at))
    step("", len(ids), len(ids))
    return _Built(reports, facts, ctx)


def build(sessions: sessionmaker, org: str, year: int, frameworks: Sequence[str] | None = None, *,
          progress: Progress | None = None) -> list[Report]:
    """Draft reports of ``frameworks`` (default: all seven) for (org, year); nothing is written.

    The prior year (year - 1) is shown as computed now and, when it was published, as published; a difference
    is a restatement, with the reasons :func:`restatement_reasons` finds. ``progress(framework, done, total)``
    is called before each framework and once at the end with ``("", total, total)``.
    NotFoundError for an unknown organisation or framework.
    """
    return _build(sessions, org, year, _framework_ids(frameworks), progress).reports


# --- publish ---------------------------------------------------------------------------------------------------

def _stored_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _publication(row) -> Publication:
    return Publication(row.id, row.year, list(row.frameworks), row.fingerprint, row.published_at, row.published_by)


def publish(sessions: sessionmaker, org: str, year: int, *, actor: str,
            frameworks: Sequence[str] | None = None) -> Publication:
    """Publish the reports of ``frameworks`` (default: all) for (org, year).

    Refused (InputError listing every error check, per framework and data point; nothing written) while any
    report has an error. Stores every fact the reports were built from (value, unit, status), their
    fingerprint (:func:`facts_fingerprint`), and the inventories of the year and the prior year (factor set and
    its fingerprint, GWP set) so that a later restatement can say what changed.
    """
    ids = _framework_ids(frameworks)
    built = _build(sessions, org, year, ids, None)
    problems = [Problem(f"{r.framework.id} {year}", None, c.point or None, c.message)
                for r in built.reports for c in r.errors]
    if problems:
        raise InputError(problems)
    stored = {k: {"value": _stored_value(f.value), "unit": f.unit, "status": f.status}
              for k, f in sorted(built.facts.items())}
    fingerprint = facts_fingerprint(built.facts)
    stored[META] = {"inventories": {str(year): built.context.inventory, str(year - 1): built.context.prior_inventory},
                    "reports": {r.framework.id: r.fingerprint for r in built.reports}}
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        last = store.latest_publication(s, org_id, year)
        if last is not None and last.fingerprint == fingerprint and sorted(last.frameworks) == sorted(ids) \
                and (last.facts or {}).get(META, {}).get("inventories") == stored[META]["inventories"]:
            return replace(_publication(last), unchanged=True)
        row = store.add_publication(s, org_id, year=year, frameworks=ids, facts=stored, fingerprint=fingerprint,
                                    published_by=actor, published_at=repos.now())
        warnings = sum(1 for r in built.reports for c in r.checks if c.level == "warning")
        repos.audit(s, actor, "disclosure.publish", f"{org}:disclosure:{year}", org_id=org_id, publication=row.id,
                    frameworks=ids, fingerprint=fingerprint, facts=len(built.facts), warnings=warnings,
                    reports={r.framework.id: r.fingerprint for r in built.reports})
        return _publication(row)


def publications(sessions: sessionmaker, org: str) -> list[Publication]:
    """The organisation's publications, oldest first."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        return [_publication(r) for r in store.publications(s, org_id)]


def published_facts(sessions: sessionmaker, org: str, publication_id: int) -> dict[str, dict]:
    """The facts {key: {value, unit, status}} a publication stored, with ``_meta``."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        for row in store.publications(s, org_id):
            if row.id == publication_id:
                return dict(row.facts)
    raise NotFoundError(f"no publication {publication_id} for {org}; see `zerocarbon disclose publications`")


# --- verify ----------------------------------------------------------------------------------------------------

def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fact_of(line) -> Fact:
    """The fact a report line was answered with, back in the fact's own unit (for a report built elsewhere)."""
    key = line.point.fact
    unit = FACTS[key].unit if key in FACTS else line.lineage.get("unit", line.point.unit)
    k, _, _ = converter(unit, line.point.unit)
    value = line.value / k if k else line.value
    return Fact(key, value, unit, breakdown=(), lineage=dict(line.lineage))


def verify(sessions: sessionmaker, org: str, year: int,
           reports: Sequence[Report] | None = None) -> list[Verification]:
    """Every reported number of ``reports`` (default: drafts of all frameworks) computed again from its lineage
    by a path separate from the fact builder, converted into the point's unit and compared (relative 1e-9).

    Inputs are compared with the stored input in force; every other fact is recomputed by
    :func:`zerocarbon.services.disclosure_facts.recompute`.
    """
    facts: Mapping[str, Fact] = {}
    if reports is None:
        built = _build(sessions, org, year, list(FRAMEWORKS), None)
        reports, facts = built.reports, built.facts
    inputs = {i.key: i for i in list_inputs(sessions, org, year)}
    recompute = _facts().recompute
    done: dict[str, tuple[float | None, str]] = {}
    out: list[Verification] = []
    for report in reports:
        for line in report.lines:
            if line.status != REPORTED or not _number(line.value):
                continue
            key = line.point.fact
            if key not in done:
                derived = (facts.get(key) or _fact_of(line)).lineage.get("source") == "derived"
                if is_input_key(key) and not derived:  # an entered figure; a per-unit one may be derived
                    found = inputs.get(key)
                    done[key] = (float(found.value), found.unit) if found is not None and _number(found.value) \
                        else (None, "")
                else:
                    fact = facts.get(key) or _fact_of(line)
                    unit = fact.unit
                    value = recompute(sessions, org, year, fact)
                    done[key] = (None if value is None else float(value), unit)
            value, unit = done[key]
            again = None
            if value is not None:
                k, _, _ = converter(unit, line.point.unit)
                again = None if k is None else value * k
            ok = again is not None and math.isclose(again, float(line.value), rel_tol=VERIFY_RELATIVE,
                                                    abs_tol=1e-12)
            out.append(Verification(report.framework.id, line.point.id, key, float(line.value), again, ok))
    return out
