"""Carbon-neutrality claims (ISO 14068-1:2023) and the carbon-credit register (docs/claims.md).

Import credits from a registry export (all or nothing; a serial range already held by a stored credit of the same
programme and project is refused: that would count the same tonnes twice), create a claim of the organisation, a
site or a workshop for a year with its management plan (a YAML file), take its emissions from the stored inventory
(Scope 1 and Scope 2 market-based, the Scope 3 categories the plan includes), run every test of
``core.neutrality``, write the statement when every test passes, and sign it off by a reviewer who is not its
creator. Every change is written to the audit chain in the same transaction.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import yaml
from sqlalchemy.orm import sessionmaker

from zerocarbon.core import neutrality as cn
from zerocarbon.core.model import Boundary
from zerocarbon.errors import (InputError, NotFoundError, PermissionDeniedError, Problem, StateError)
from zerocarbon.io.credit_files import COLUMNS as CREDIT_COLUMNS
from zerocarbon.io.credit_files import MAX_FILE_BYTES, read_credits
from zerocarbon.store import credits as store
from zerocarbon.store import repos
from zerocarbon.core import safe_yaml

STATUSES = ("draft", "checked", "submitted", "signed_off", "returned")
MAX_PLAN_BYTES = 256 * 2**10
PLAN_KEYS = {"commitment_date", "base_year", "base_year_emissions_t", "interim_targets", "long_term_target",
             "reduction_measures", "removal_strategy", "offset_types", "monitoring_indicators", "approved_by",
             "approved_date", "public_url", "first_period", "scope3_categories", "credits", "workshop_emissions"}
__all__ = ["CREDIT_COLUMNS", "MAX_FILE_BYTES", "MAX_PLAN_BYTES", "STATUSES", "assessment_metrics", "chart", "check",
           "create_claim", "get_claim", "import_credits", "list_claims", "list_credits", "parse_plan", "programmes",
           "review", "rules", "statement", "submit"]


def now() -> datetime:
    return datetime.now(timezone.utc)


# --- credits ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CreditImport:
    source: str
    sha256: str
    created: list[str]
    quantity_t: float


def _credit(r: store.CreditRow) -> cn.Credit:
    return cn.Credit(r.credit_id, r.programme, r.project_id, r.project_type, r.vintage,
                     tuple((int(a), int(b)) for a, b in r.serials), r.quantity_t, r.verified_by, r.verification_date,
                     r.issued_date, r.additionality, r.storage_years, r.reversal_provision,
                     r.corresponding_adjustment, r.retirement_date, r.retirement_beneficiary, r.retired_for_subject,
                     r.retired_for_period, r.note)


def _credit_dict(r: store.CreditRow) -> dict:
    d = asdict(_credit(r))
    d["serials"] = [list(x) for x in d["serials"]]
    d["credit_id"] = d.pop("ref")
    d.update(source=r.source, imported_by=r.imported_by, imported_at=r.imported_at,
             programme_kind=getattr(cn.programmes().get(r.programme), "kind", "unknown"))
    return d


def import_credits(sessions: sessionmaker, org: str, source: str, data: bytes, *, actor: str) -> CreditImport:
    """Store the credits of a CSV/XLSX file, all or nothing. A credit id already stored, or a serial range that
    overlaps a stored credit of the same programme and project (double counting across files), is refused."""
    found = read_credits(source, data)
    sha = hashlib.sha256(data).hexdigest()
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org)
        stored = store.credits(s, org_id)
        held = {r.credit_id for r in stored}
        problems = []
        for row, c in enumerate(found, start=2):
            if c.ref in held:
                problems.append(Problem(source, row, "credit_id", f"credit {c.ref} is already in the register"))
            for r in stored:
                if r.programme == c.programme and r.project_id == c.project_id:
                    for a, b in cn.overlaps(c.serials, tuple(tuple(x) for x in r.serials)):
                        problems.append(Problem(source, row, "serials",
                                                f"serials {a}-{b} of {c.programme} {c.project_id} are already held "
                                                f"by stored credit {r.credit_id} (from {r.source}): double counting"))
        if problems:
            raise InputError(problems)
        at = now()
        for c in found:
            store.add(s, store.CreditRow(
                organisation_id=org_id, credit_id=c.ref, programme=c.programme, project_id=c.project_id,
                project_type=c.project_type, vintage=c.vintage, serials=[list(x) for x in c.serials],
                quantity_t=c.quantity_t, verified_by=c.verified_by, verification_date=c.verification_date,
                issued_date=c.issued_date, additionality=c.additionality, storage_years=c.storage_years,
                reversal_provision=c.reversal_provision, corresponding_adjustment=c.corresponding_adjustment,
                retirement_date=c.retirement_date, retirement_beneficiary=c.retirement_beneficiary,
                retired_for_subject=c.retired_for_subject, retired_for_period=c.retired_for_period, note=c.note,
                source=source, sha256=sha, imported_by=actor, imported_at=at))
        total = sum(c.quantity_t for c in found)
        repos.audit(s, actor, "claims.credits_import", f"credits:{source}", org_id=org_id, sha256=sha,
                    credits=[c.ref for c in found], quantity_t=total)
    return CreditImport(source, sha, [c.ref for c in found], total)


def list_credits(sessions: sessionmaker, org: str) -> list[dict]:
    """Every credit of the register, with the claims that use it (``used_by``: claim ids)."""
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org)
        used: dict[str, list[int]] = {}
        for c in store.claims(s, org_id):
            for ref in c.credit_ids:
                used.setdefault(ref, []).append(c.id)
        return [dict(_credit_dict(r), used_by=used.get(r.credit_id, [])) for r in store.credits(s, org_id)]


# --- the management plan -------------------------------------------------------------------------------------------

def _texts(v) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, (list, tuple)):
        return tuple(str(x) if not isinstance(x, dict) else ", ".join(f"{k}: {w}" for k, w in x.items()) for x in v)
    return (str(v),)


def _day(v, key: str, problems: list, source: str) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        problems.append(Problem(source, None, key, f"'{v}' is not a date YYYY-MM-DD"))
        return None


def parse_plan(source: str, data: bytes) -> dict:
    """The plan file as a plain dict (the stored form), every key checked; InputError naming each bad key.

    Keys: the management plan (commitment_date, base_year, interim_targets, long_term_target, reduction_measures,
    removal_strategy, offset_types, monitoring_indicators, approved_by, approved_date, public_url), and the claim's
    options: first_period (bool), base_year_emissions_t, scope3_categories (list), credits (credit ids),
    workshop_emissions ({scope1_t, scope2_market_t, source}) for a workshop boundary.
    """
    if len(data) > MAX_PLAN_BYTES:
        raise InputError([Problem(source, None, None, f"is larger than {MAX_PLAN_BYTES // 2**10} KB")])
    try:
        doc = safe_yaml.load(data.decode("utf-8"))
    except (ValueError, RecursionError, yaml.YAMLError) as exc:  # ValueError: not UTF-8, a date like 2025-13-01
        raise InputError([Problem(source, None, None, f"is not YAML: {exc}")]) from None
    if not isinstance(doc, dict):
        raise InputError([Problem(source, None, None, "must be a mapping of plan keys (docs/claims.md)")])
    problems = [Problem(source, None, str(k), f"unknown key; the keys are {', '.join(sorted(PLAN_KEYS))}")
                for k in doc if k not in PLAN_KEYS]
    out: dict = {}
    for k in ("commitment_date", "approved_date"):
        d = _day(doc.get(k), k, problems, source)
        out[k] = d.isoformat() if d else None
    base = doc.get("base_year")
    if base is not None and not (isinstance(base, int) and 1990 <= base <= 2100):
        problems.append(Problem(source, None, "base_year", f"'{base}' is not a year"))
    out["base_year"] = base if isinstance(base, int) else None
    bye = doc.get("base_year_emissions_t")
    if bye is not None and not (isinstance(bye, (int, float)) and bye > 0):
        problems.append(Problem(source, None, "base_year_emissions_t", f"'{bye}' is not a positive tCO2e"))
    out["base_year_emissions_t"] = float(bye) if isinstance(bye, (int, float)) else None
    for k in ("interim_targets", "reduction_measures", "offset_types", "monitoring_indicators", "scope3_categories",
              "credits"):
        out[k] = list(_texts(doc.get(k)))
    for k in ("long_term_target", "removal_strategy", "approved_by", "public_url"):
        v = doc.get(k)
        out[k] = "" if v is None else (", ".join(_texts(v)) if isinstance(v, (list, dict)) else str(v))
    first = doc.get("first_period", False)
    if not isinstance(first, bool):
        problems.append(Problem(source, None, "first_period", f"'{first}' is not true or false"))
    out["first_period"] = first is True
    we = doc.get("workshop_emissions")
    if we is not None:
        ok = (isinstance(we, dict) and all(isinstance(we.get(k), (int, float)) and we[k] >= 0
                                           for k in ("scope1_t", "scope2_market_t")) and we.get("source"))
        if not ok:
            problems.append(Problem(source, None, "workshop_emissions", "give scope1_t and scope2_market_t (tCO2e, "
                                                                        ">= 0) and source (where they come from)"))
        out["workshop_emissions"] = we if ok else None
    if problems:
        raise InputError(problems)
    return out


def _plan(p: dict) -> cn.ManagementPlan:
    d = (lambda v: date.fromisoformat(v) if v else None)
    return cn.ManagementPlan(d(p["commitment_date"]), p["base_year"], tuple(p["interim_targets"]),
                             p["long_term_target"], tuple(p["reduction_measures"]), p["removal_strategy"],
                             tuple(p["offset_types"]), tuple(p["monitoring_indicators"]), p["approved_by"],
                             d(p["approved_date"]), p["public_url"])


# --- emissions in the boundary -------------------------------------------------------------------------------------

def _boundary_emissions(s, org: str, year: int, site: str | None, scope3: list[str]) -> tuple[dict, dict]:
    """(emissions dict, lineage) of the organisation or one site from the stored inventory (operational control)."""
    org_id, organisation, row = repos.organisation_and_inventory(s, org, year, Boundary.OPERATIONAL_CONTROL.value)
    if site is not None and site not in {x.code for x in organisation.sites}:
        raise NotFoundError(f"site '{site}' is not a site of {org}")
    if row is None:
        raise NotFoundError(f"no inventory for {org} {year}; compute it first (`zerocarbon inventory compute`)")
    s1 = s2m = 0.0
    s3 = {c: 0.0 for c in scope3}
    for where, scope, category, method, t in repos.ledger_sums(s, row.id):
        if site is not None and where != site:
            continue
        if scope == "1":
            s1 += t
        elif scope == "2" and method in ("market", "both"):
            s2m += t
        elif scope == "3" and category in s3 and method != "location":
            s3[category] += t
    what, what_zh = (f"site {site}", f"工厂 {site}") if site else (f"organisation {org}", f"组织 {org}")
    factors = f"{row.factor_set} ({row.factor_set_fingerprint[:12]})"
    source = (f"stored {year} inventory of {what}, operational control, factor set {factors}, GWP {row.gwp_set}, "
              f"computed {row.computed_at:%Y-%m-%d}")
    source_zh = (f"已保存的{what_zh} {year} 年温室气体清单，运营控制法，排放因子集 {factors}，GWP {row.gwp_set}，"
                 f"计算于 {row.computed_at:%Y-%m-%d}")
    lineage = {"inventory_id": row.id, "year": year, "factor_set": row.factor_set,
               "fingerprint": row.factor_set_fingerprint, "gwp_set": row.gwp_set, "status": row.status}
    return {"scope1_t": s1, "scope2_market_t": s2m, "scope3": s3, "source": source, "source_zh": source_zh}, lineage


def _emissions(d: dict) -> cn.Emissions:
    return cn.Emissions(d["scope1_t"], d["scope2_market_t"], dict(d.get("scope3") or {}), d.get("source", ""),
                        d.get("source_zh", ""))


def create_claim(sessions: sessionmaker, org: str, year: int, plan_source: str, plan_data: bytes, *,
                 site: str | None = None, workshop: str | None = None, lines: list[str] | None = None,
                 actor: str) -> dict:
    """A draft claim of the organisation (no site), a site, or a workshop of a site (with its lines) for ``year``.

    Emissions come from the stored inventory; a workshop's come from the plan's ``workshop_emissions`` with their
    source, because the inventory is kept per site. Base-year emissions: the plan's ``base_year_emissions_t``, else
    the stored inventory of the base year for the same boundary (sites and organisations only).
    """
    plan = parse_plan(plan_source, plan_data)
    lines = [x.strip() for x in (lines or []) if x.strip()]
    if workshop and not site:
        raise InputError([Problem(plan_source, None, "site", "a workshop boundary needs its site")])
    subject = "workshop" if workshop else ("site" if site else "organisation")
    problems = []
    if subject == "workshop" and not plan.get("workshop_emissions"):
        problems.append(Problem(plan_source, None, "workshop_emissions",
                                "a workshop claim needs workshop_emissions (scope1_t, scope2_market_t, source): the "
                                "inventory is kept per site"))
    if not plan["credits"]:
        problems.append(Problem(plan_source, None, "credits", "list the credit ids (credit_id of the register) the "
                                                              "claim uses"))
    if problems:
        raise InputError(problems)
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org)
        missing = sorted(set(plan["credits"]) - set(store.credits_by_ids(s, org_id, plan["credits"])))
        if missing:
            raise InputError([Problem(plan_source, None, "credits", f"credit {m} is not in the register of {org}")
                              for m in missing])
        emissions, lineage = _boundary_emissions(s, org, year, site, plan["scope3_categories"])
        if subject == "workshop":
            we = plan["workshop_emissions"]
            emissions = {"scope1_t": float(we["scope1_t"]), "scope2_market_t": float(we["scope2_market_t"]),
                         "scope3": {}, "source": f"{we['source']} (workshop {workshop} of site {site})",
                         "source_zh": f"{we['source']}（工厂 {site} 车间 {workshop}）"}
            lineage = {"given_in_plan": plan_source, "site_inventory": lineage}
        emissions["lineage"] = lineage
        base_t = plan["base_year_emissions_t"]
        if base_t is None and plan["base_year"] and plan["base_year"] != year and subject != "workshop":
            try:
                base, _ = _boundary_emissions(s, org, plan["base_year"], site, plan["scope3_categories"])
                base_t = _emissions(base).total_t
            except NotFoundError:
                base_t = None
        row = store.ClaimRow(organisation_id=org_id, subject=subject, site=site or "", workshop=workshop or "",
                             lines=lines, year=year, first_period=plan["first_period"], plan=plan,
                             plan_sha256=hashlib.sha256(plan_data).hexdigest(), credit_ids=plan["credits"],
                             emissions=emissions, base_year_emissions_t=base_t, status="draft", findings=None,
                             created_by=actor, created_at=now())
        store.add(s, row)
        repos.audit(s, actor, "claims.create", f"claim:{row.id}", org_id=org_id, subject=subject, site=site,
                    workshop=workshop, year=year, plan_sha256=row.plan_sha256, credits=plan["credits"])
        return _claim_dict(row)


# --- checking ------------------------------------------------------------------------------------------------------

def _claim(s, org_id: int, org: str, row: store.ClaimRow) -> cn.Claim:
    held = store.credits_by_ids(s, org_id, row.credit_ids)
    org_name = repos.load_organisation(s, org)[1].name
    return cn.Claim(org, org_name, row.subject, row.year, _emissions(row.emissions), _plan(row.plan),
                    tuple(_credit(held[c]) for c in row.credit_ids if c in held), row.site, row.workshop,
                    tuple(row.lines), row.first_period, row.base_year_emissions_t, ref=str(row.id))


def _retirements(s, org_id: int, this: int) -> list[cn.Retirement]:
    """Serials used by the organisation's other claims that came first (created before this one) or are signed
    off; a returned claim uses none. A later claim reusing a credit is the double count, not the first one."""
    out = []
    for c in store.claims(s, org_id):
        if c.id == this or c.status == "returned" or (c.id > this and c.status != "signed_off"):
            continue
        for ref, r in store.credits_by_ids(s, org_id, c.credit_ids).items():
            out.append(cn.Retirement(str(c.id), r.programme, r.project_id, tuple(tuple(x) for x in r.serials)))
    return out


def _finding(f: cn.Finding) -> dict:
    return asdict(f)


def _get(s, org_id: int, org: str, claim_id: int) -> store.ClaimRow:
    row = store.claim(s, org_id, claim_id)
    if row is None:
        raise NotFoundError(f"no claim {claim_id} in {org}")
    return row


def check(sessions: sessionmaker, org: str, claim_id: int, *, actor: str) -> dict:
    """Run every test on the claim and store the findings; the statements (en, zh) are stored when all pass."""
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org)
        row = _get(s, org_id, org, claim_id)
        if row.status == "signed_off":
            raise StateError(f"claim {claim_id} is signed off; create a new claim to change it")
        c = _claim(s, org_id, org, row)
        findings = cn.check_claim(c, _retirements(s, org_id, row.id))
        ok = cn.passed(findings)
        row.findings = [_finding(f) for f in findings]
        row.statement_en = cn.claim_statement(c, findings, "en") if ok else None
        row.statement_zh = cn.claim_statement(c, findings, "zh") if ok else None
        row.status, row.checked_at = "checked", now()
        row.reviewed_by = row.reviewed_at = row.review_comment = None
        repos.audit(s, actor, "claims.check", f"claim:{row.id}", org_id=org_id, passed=ok,
                    failed=[f.test + (f":{f.credit}" if f.credit else "") for f in findings if not f.passed])
        return _claim_dict(row, c)


def _claim_dict(row: store.ClaimRow, c: cn.Claim | None = None) -> dict:
    findings = row.findings or []
    e = _emissions(row.emissions)
    return {"id": row.id, "subject": row.subject, "site": row.site, "workshop": row.workshop, "lines": row.lines,
            "year": row.year, "first_period": row.first_period, "plan": row.plan, "plan_sha256": row.plan_sha256,
            "credit_ids": row.credit_ids, "emissions": row.emissions, "residual_t": e.total_t,
            "credits_t": None if c is None else sum(x.quantity_t for x in c.credits),
            "removals_share": None if c is None else cn.removals_share(c),
            "base_year_emissions_t": row.base_year_emissions_t, "status": row.status, "findings": findings,
            "passed": bool(findings) and all(f["passed"] for f in findings),
            "statement_en": row.statement_en, "statement_zh": row.statement_zh, "created_by": row.created_by,
            "created_at": row.created_at, "checked_at": row.checked_at, "reviewed_by": row.reviewed_by,
            "reviewed_at": row.reviewed_at, "review_comment": row.review_comment}


def list_claims(sessions: sessionmaker, org: str, year: int | None = None) -> list[dict]:
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org)
        return [_claim_dict(r, _claim(s, org_id, org, r)) for r in store.claims(s, org_id, year)]


def get_claim(sessions: sessionmaker, org: str, claim_id: int) -> dict:
    """The claim with its findings, credits (with their quantity and type) and statements."""
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org)
        row = _get(s, org_id, org, claim_id)
        c = _claim(s, org_id, org, row)
        d = _claim_dict(row, c)
        d["credits"] = [dict(asdict(x), serials=[list(p) for p in x.serials]) for x in c.credits]
        d["subject_key"] = c.subject_key
        return d


def statement(sessions: sessionmaker, org: str, claim_id: int, lang: str = "en") -> str:
    """The statement of a checked claim that passes every test; InputError listing each failed test otherwise."""
    if lang not in ("en", "zh"):
        raise InputError([Problem("statement", None, "lang", f"'{lang}' is not en or zh")])
    d = get_claim(sessions, org, claim_id)
    if not d["findings"]:
        raise StateError(f"claim {claim_id} has not been checked; run `zerocarbon claim check {claim_id}` first")
    if not d["passed"]:
        raise InputError([Problem(f"claim {claim_id}", None, f["test"], f["reason"])
                          for f in d["findings"] if not f["passed"]])
    return d[f"statement_{lang}"]


def submit(sessions: sessionmaker, org: str, claim_id: int, *, actor: str) -> dict:
    """Send a checked claim that passes every test for review."""
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org)
        row = _get(s, org_id, org, claim_id)
        if row.status != "checked" or not row.statement_en:
            raise StateError(f"claim {claim_id} is {row.status}" + ("" if row.statement_en else
                                                                    " and does not pass every test"))
        row.status = "submitted"
        repos.audit(s, actor, "claims.submit", f"claim:{row.id}", org_id=org_id)
        return _claim_dict(row)


def review(sessions: sessionmaker, org: str, claim_id: int, accept: bool, comment: str | None = None, *,
           actor: str) -> dict:
    """Sign off (accept) or return a checked or submitted claim. The reviewer may not be the claim's creator; a
    claim that fails a test cannot be signed off; returning needs a comment."""
    comment = (comment or "").strip()
    if not accept and not comment:
        raise InputError([Problem("review", None, "comment", "say why the claim is returned")])
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org)
        row = _get(s, org_id, org, claim_id)
        if row.created_by == actor:
            raise PermissionDeniedError(f"{actor} created claim {claim_id} and may not review it; another reviewer "
                                        "must")
        if row.status not in ("checked", "submitted"):
            raise StateError(f"claim {claim_id} is {row.status}; only a checked or submitted claim is reviewed")
        if accept and not row.statement_en:
            raise StateError(f"claim {claim_id} fails tests and cannot be signed off; return it with a comment")
        row.status = "signed_off" if accept else "returned"
        row.reviewed_by, row.reviewed_at, row.review_comment = actor, now(), comment or None
        repos.audit(s, actor, "claims.review", f"claim:{row.id}", org_id=org_id, status=row.status,
                    comment=comment)
        return _claim_dict(row)


def rules() -> list[dict]:
    """Every test with its basis (sourced | proposed), sources and note."""
    return [asdict(r) for r in cn.RULES.values()]


def programmes() -> list[dict]:
    return [asdict(p) for p in cn.programmes().values()]


# --- for the assessment --------------------------------------------------------------------------------------------

def assessment_metrics(sessions: sessionmaker, org: str, year: int, site: str | None = None) -> dict[str, dict]:
    """``claim.offset_coverage`` (credits passing every credit test / residual emissions, at most 1) and
    ``claim.credit_quality_share`` (credits passing every credit test / all credits of the claim) of the latest
    checked claim (not returned) of the site (or of the organisation when ``site`` is None) for ``year``; value
    None without one. Each is a plain dict shaped like the assessment's MetricValue (value, unit, source, reviewed, lineage, note)."""
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org)
        rows = [r for r in store.claims(s, org_id, year) if r.findings and r.status != "returned"
                and r.subject in ("site", "organisation") and (r.site == site if site else r.subject == "organisation")]
        row = rows[-1] if rows else None
        c = _claim(s, org_id, org, row) if row else None
    if row is None:
        note = f"no checked carbon-neutrality claim for {site or org} {year}"
        return {k: {"value": None, "unit": "fraction", "source": "computed", "reviewed": True, "lineage": {},
                    "note": note} for k in ("claim.offset_coverage", "claim.credit_quality_share")}
    findings = [cn.Finding(**f) for f in row.findings]
    quality = cn.credit_quality_share(c, findings)
    failing = {f.credit for f in findings if f.credit and not f.passed}
    good_t = sum(x.quantity_t for x in c.credits if x.ref not in failing)
    residual = c.emissions.total_t
    coverage = None if residual <= 0 else min(1.0, good_t / residual)
    lineage = {"claim_id": row.id, "status": row.status, "residual_t": residual, "credits_passing_t": good_t,
               "credits_t": sum(x.quantity_t for x in c.credits), "emissions_source": c.emissions.source}
    return {"claim.offset_coverage": {"value": coverage, "unit": "fraction", "source": "computed",
                                      "reviewed": row.status == "signed_off", "lineage": lineage,
                                      "note": "credits passing every credit test over residual emissions"},
            "claim.credit_quality_share": {"value": quality, "unit": "fraction", "source": "computed",
                                           "reviewed": row.status == "signed_off", "lineage": lineage,
                                           "note": "share of credit tonnes passing every credit test"}}


def chart(sessions: sessionmaker, org: str, claim_id: int, path) -> Path:
    """A PNG at ``path``: the claim's residual emissions by scope beside its credits (io.claim_charts)."""
    from zerocarbon.io.claim_charts import claim_chart

    return claim_chart(get_claim(sessions, org, claim_id), Path(path))
