"""Carbon-neutrality claims (ISO 14068-1:2023): the claim, its management plan and carbon credits, and the tests a
claim must pass before a statement is written.

Pure: dataclasses and functions, no I/O beyond the shipped programme list (``data/claims/programmes.yaml``).
Every test names its rule in :data:`RULES` with its basis: ``sourced`` (public sources agree and are cited) or
``proposed`` (zerocarbon's choice, with the reason, because the standard's own text could not be read).
Quantities are tCO2e; one credit serial = 1 tCO2e, as in the programmes listed.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources

import yaml

SUBJECTS = ("organisation", "site", "workshop")
PROJECT_TYPES = ("avoidance", "removal")
RETIREMENT_MONTHS = 12  # proposed rule: see RULES["credit.retired_in_time"]
VINTAGE_YEARS_BEFORE = 5  # proposed rule: see RULES["credit.vintage"]
_PLAN_FIELDS = ("commitment_date", "base_year", "interim_targets", "long_term_target", "reduction_measures",
                "removal_strategy", "offset_types", "monitoring_indicators")

ISO_SUMMARY = "https://360impactportfolio.com/iso-14068-1-section-11.php"
PAS2060 = "https://en.wikipedia.org/wiki/BSI_PAS_2060"
NQA = "https://www.nqa.com/en-gb/sustainability/the-steps-to-becoming-carbon-neutral"
COMPENSATE = "https://www.compensate.com/articles/iso-standard-for-carbon-neutrality-all-you-need-to-know-so-far"
GREENCALC = "https://greencalculus.com/standards/iso-14068-1-carbon-neutrality/"
DEFRA_MAP = "https://360impactportfolio.com/defra-good-quality.php"
GEC_NOTE = "http://www.hfyfsb.com/carbon/ccer/8214.html"


@dataclass(frozen=True)
class Rule:
    """What a test checks, its basis (``sourced`` | ``proposed``) and where it comes from."""

    id: str
    en: str
    zh: str
    status: str
    sources: tuple[str, ...]
    note: str = ""


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("boundary.defined", "The subject and its boundary are defined", "已界定主体及其边界", "sourced",
         (GREENCALC, "https://natureoffice.com/en/co2-balancing/iso-140682023-a-pathway-to-climate-neutrality/")),
    Rule("boundary.scope12_complete", "Scope 1 and Scope 2 (market-based) are quantified in full",
         "范围一和范围二（基于市场法）已完整量化", "sourced", (PAS2060, NQA),
         "PAS 2060 asks 100% of Scope 1 and 2; ISO 14068-1 quantifies by ISO 14064-1 / ISO 14067."),
    Rule("plan.complete", "The carbon neutrality management plan is complete, approved by top management and public",
         "碳中和管理计划完整、经最高管理者批准并公开", "sourced", (COMPENSATE, NQA),
         "Contents from the ISO/DIS 14068 summary (baseline, interim targets, removals, offset types, monitoring "
         "indicators, timeline to removals only) and PAS 2060's public commitment."),
    Rule("reduction.after_first_period", "After the first period, emissions are below the base year",
         "首个周期之后，排放低于基准年", "proposed", (PAS2060, GREENCALC),
         "PAS 2060 allows offset-only claims in the first period only; ISO 14068-1 requires a reduction pathway in "
         "its management plan. The standard's text was not available to confirm the exact rule."),
    Rule("offset.coverage", "Credits cover the residual emissions", "碳信用足以抵消剩余排放", "sourced",
         (GREENCALC, ISO_SUMMARY)),
    Rule("credit.programme", "The credit comes from a recognised crediting programme", "碳信用来自认可的减排机制",
         "sourced", (ISO_SUMMARY, "https://csqa.it/en-us/press/neutralita-carbonica-la-nuova-iso-14068-1-2023"),
         "ISO 14068-1 is programme neutral; the programmes zerocarbon recognises are listed in "
         "data/claims/programmes.yaml with their registries."),
    Rule("credit.not_certificate", "The credit is not an energy attribute certificate (GEC, I-REC)",
         "碳信用不是绿色电力证书（绿证、I-REC）", "sourced", (GEC_NOTE,),
         "Green certificates belong to the Scope 2 market-based method, not to offsetting."),
    Rule("credit.additional", "The credit is additional (basis stated)", "碳信用具有额外性（说明依据）", "sourced",
         (ISO_SUMMARY, DEFRA_MAP, PAS2060)),
    Rule("credit.permanent", "Removals: storage horizon and reversal provision stated", "碳移除：说明封存期限和逆转保障",
         "sourced", (ISO_SUMMARY, DEFRA_MAP, COMPENSATE),
         "No minimum storage horizon is imposed: none could be sourced. Avoidance credits: reversal does not apply."),
    Rule("credit.verified", "The credit is independently validated and verified", "碳信用经独立审定与核查", "sourced",
         (ISO_SUMMARY, DEFRA_MAP, PAS2060)),
    Rule("credit.ex_post", "The credit is issued ex post (not before its vintage, not before verification)",
         "碳信用为事后签发（不早于产生年份与核查）", "sourced", (ISO_SUMMARY, DEFRA_MAP, PAS2060)),
    Rule("credit.vintage", f"The vintage is within {VINTAGE_YEARS_BEFORE} years before the period, not after it",
         f"产生年份在周期前{VINTAGE_YEARS_BEFORE}年内，且不晚于周期", "proposed", (),
         "No vintage limit could be sourced for ISO 14068-1; zerocarbon keeps offsets close in time to the "
         "emissions they balance."),
    Rule("credit.retired", "The credit is retired (cancelled) in the registry", "碳信用已在登记系统注销", "sourced",
         (ISO_SUMMARY, PAS2060)),
    Rule("credit.retired_in_time", f"Retired within {RETIREMENT_MONTHS} months after the end of the period",
         f"在周期结束后{RETIREMENT_MONTHS}个月内注销", "proposed", (PAS2060, NQA, ISO_SUMMARY),
         "The 12-month limit is PAS 2060's (withdrawn 2025-11-30); for ISO 14068-1 only a consultancy summary of "
         "§11.2 states it, and the standard's text was not available to confirm it."),
    Rule("credit.retired_for", "Retired for this subject and period, on behalf of this organisation",
         "为本主体、本周期并以本组织名义注销", "sourced", (ISO_SUMMARY,)),
    Rule("credit.not_double_counted", "Not double counted: no serial used by another claim, twice in this one, or "
         "retired for another beneficiary", "无重复计算：序列号未被其他声明使用、未在本声明中重复、未以他方名义注销", "sourced", (ISO_SUMMARY, PAS2060),
         "A corresponding adjustment (Paris Agreement Art. 6) is recorded and reported, not required."),
)}


@dataclass(frozen=True)
class Programme:
    id: str
    name_en: str
    name_zh: str
    kind: str  # offset | certificate
    registry_url: str
    credit_types: tuple[str, ...]
    serial_regex: str | None
    sources: tuple[str, ...]


@lru_cache(maxsize=1)
def programmes() -> dict[str, Programme]:
    """Programme id -> :class:`Programme`, from ``data/claims/programmes.yaml``."""
    text = (resources.files("zerocarbon") / "data" / "claims" / "programmes.yaml").read_text(encoding="utf-8")
    return {p["id"]: Programme(p["id"], p["name"]["en"], p["name"]["zh"], p["kind"], p["registry_url"],
                               tuple(p["credit_types"]), p.get("serial_regex"), tuple(p.get("source", ())))
            for p in yaml.safe_load(text)["programmes"]}


@dataclass(frozen=True)
class Credit:
    """A batch of carbon credits in the register. ``serials``: inclusive (start, end) ranges, 1 serial = 1 tCO2e.

    ``storage_years`` and ``reversal_provision`` (buffer pool, insurance, replacement) matter for removals.
    ``corresponding_adjustment``: applied | not_applied | not_applicable | unknown (reported, not required).
    ``retired_for_subject`` is the claim subject key (:attr:`Claim.subject_key`), ``retired_for_period`` its year.
    """

    ref: str
    programme: str
    project_id: str
    project_type: str
    vintage: int
    serials: tuple[tuple[int, int], ...]
    quantity_t: float
    verified_by: str = ""
    verification_date: date | None = None
    issued_date: date | None = None
    additionality: str = ""
    storage_years: int | None = None
    reversal_provision: str = ""
    corresponding_adjustment: str = "unknown"
    retirement_date: date | None = None
    retirement_beneficiary: str = ""
    retired_for_subject: str = ""
    retired_for_period: int | None = None
    note: str = ""


@dataclass(frozen=True)
class ManagementPlan:
    commitment_date: date | None = None
    base_year: int | None = None
    interim_targets: tuple[str, ...] = ()
    long_term_target: str = ""
    reduction_measures: tuple[str, ...] = ()
    removal_strategy: str = ""
    offset_types: tuple[str, ...] = ()
    monitoring_indicators: tuple[str, ...] = ()
    approved_by: str = ""  # top management: name and function
    approved_date: date | None = None
    public_url: str = ""  # where the commitment and plan are published


@dataclass(frozen=True)
class Emissions:
    """tCO2e in the boundary; ``scope3`` by category included; ``source`` (English) and ``source_zh`` (Chinese) say
    where the numbers come from."""

    scope1_t: float | None
    scope2_market_t: float | None
    scope3: dict[str, float] = field(default_factory=dict)
    source: str = ""
    source_zh: str = ""

    @property
    def total_t(self) -> float:
        return (self.scope1_t or 0.0) + (self.scope2_market_t or 0.0) + sum(self.scope3.values())


@dataclass(frozen=True)
class Claim:
    """A carbon-neutrality claim of one subject (organisation | site | workshop) for one calendar year."""

    org: str
    org_name: str
    subject: str
    year: int
    emissions: Emissions
    plan: ManagementPlan
    credits: tuple[Credit, ...]
    site: str = ""
    workshop: str = ""
    lines: tuple[str, ...] = ()
    first_period: bool = True
    base_year_emissions_t: float | None = None
    ref: str = ""

    @property
    def subject_key(self) -> str:
        return "/".join(x for x in (self.org, self.site, self.workshop) if x)

    @property
    def period_end(self) -> date:
        return date(self.year, 12, 31)


@dataclass(frozen=True)
class Retirement:
    """Serials another claim has used: ``claim`` names it."""

    claim: str
    programme: str
    project_id: str
    serials: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Finding:
    """One test's outcome; ``reason`` in English, ``reason_zh`` the same reason in Chinese (same numbers and ids;
    empty in findings stored before reasons were bilingual)."""

    test: str
    passed: bool
    reason: str
    en: str
    zh: str
    status: str
    credit: str | None = None
    reason_zh: str = ""


def _f(test: str, passed: bool, reason: str, reason_zh: str, credit: str | None = None) -> Finding:
    rule = RULES[test]
    return Finding(test, passed, reason, rule.en, rule.zh, rule.status, credit, reason_zh)


_SUBJECTS_ZH = {"organisation": "组织", "site": "工厂", "workshop": "车间"}


def overlaps(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """The serial ranges common to ``a`` and ``b`` (inclusive ranges)."""
    return [(max(x0, y0), min(x1, y1)) for x0, x1 in a for y0, y1 in b if max(x0, y0) <= min(x1, y1)]


def serial_count(serials: tuple[tuple[int, int], ...]) -> int:
    return sum(e - s + 1 for s, e in serials)


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, min(d.day, calendar.monthrange(d.year + y, m + 1)[1]))


# --- claim-level tests -------------------------------------------------------------------------------------------

def _boundary(c: Claim) -> Finding:
    if c.subject not in SUBJECTS:
        return _f("boundary.defined", False, f"subject '{c.subject}' is not one of {', '.join(SUBJECTS)}",
                  f"主体“{c.subject}”不是{'、'.join(_SUBJECTS_ZH.values())}之一")
    if c.subject in ("site", "workshop") and not c.site:
        return _f("boundary.defined", False, "no site named", "未指明工厂")
    if c.subject == "workshop" and not (c.workshop and c.lines):
        return _f("boundary.defined", False, "a workshop boundary needs its name and the lines in it",
                  "车间边界需写明车间名称及其中的产线")
    what = {"organisation": f"organisation {c.org}", "site": f"site {c.site}",
            "workshop": f"workshop {c.workshop} of site {c.site} (lines {', '.join(c.lines)})"}[c.subject]
    what_zh = {"organisation": f"组织 {c.org}", "site": f"工厂 {c.site}",
               "workshop": f"工厂 {c.site} 车间 {c.workshop}（产线 {'、'.join(c.lines)}）"}[c.subject]
    return _f("boundary.defined", True, f"{what}, calendar year {c.year}", f"{what_zh}，{c.year} 自然年")


def _scope12(c: Claim) -> Finding:
    e = c.emissions
    missing = [(n, z) for n, z, v in (("Scope 1", "范围一", e.scope1_t),
                                      ("Scope 2 market-based", "范围二（基于市场法）", e.scope2_market_t)) if v is None]
    if missing:
        return _f("boundary.scope12_complete", False,
                  f"{' and '.join(n for n, _ in missing)} not quantified for the boundary",
                  f"边界内的{'和'.join(z for _, z in missing)}未量化")
    s3 = ", ".join(f"{k} {v:.3f} t" for k, v in sorted(e.scope3.items()))
    return _f("boundary.scope12_complete", True,
              f"Scope 1 {e.scope1_t:.3f} t, Scope 2 market-based {e.scope2_market_t:.3f} t"
              f"{', Scope 3 ' + s3 if s3 else ''} ({e.source or 'source not given'})",
              f"范围一 {e.scope1_t:.3f} t，范围二（基于市场法）{e.scope2_market_t:.3f} t"
              f"{'，范围三 ' + s3 if s3 else ''}（{e.source_zh or '未说明来源'}）")


def _plan(c: Claim) -> Finding:
    p = c.plan
    missing = [(f, f) for f in _PLAN_FIELDS if not getattr(p, f)]
    if not p.approved_by:
        missing.append(("approved_by (top management)", "approved_by（最高管理者）"))
    if not p.public_url:
        missing.append(("public_url (where the plan is published)", "public_url（计划公开的网址）"))
    if p.base_year is not None and p.base_year > c.year:
        missing.append((f"base_year {p.base_year} is after the claim year {c.year}",
                        f"基准年 {p.base_year} 晚于声明年份 {c.year}"))
    if missing:
        return _f("plan.complete", False, "missing or wrong: " + ", ".join(en for en, _ in missing),
                  "缺失或有误：" + "、".join(zh for _, zh in missing))
    return _f("plan.complete", True, f"committed {p.commitment_date}, base year {p.base_year}, approved by "
                                     f"{p.approved_by}, published at {p.public_url}",
              f"承诺于 {p.commitment_date}，基准年 {p.base_year}，由 {p.approved_by} 批准，公开于 {p.public_url}")


def _reduction(c: Claim) -> Finding:
    if c.first_period:
        return _f("reduction.after_first_period", True, "first period: a reduction is not yet required",
                  "首个周期：尚不要求减排")
    base = c.base_year_emissions_t
    if base is None or base <= 0:
        return _f("reduction.after_first_period", False, "base-year emissions are not known; the reduction "
                                                         "cannot be shown", "基准年排放未知，无法证明减排")
    cut = 1.0 - c.emissions.total_t / base
    if cut <= 0:
        return _f("reduction.after_first_period", False, f"emissions {c.emissions.total_t:.3f} t are not below "
                                                         f"the base year ({base:.3f} t)",
                  f"排放 {c.emissions.total_t:.3f} t 未低于基准年（{base:.3f} t）")
    return _f("reduction.after_first_period", True, f"{100 * cut:.1f}% below the base year ({base:.3f} t)",
              f"比基准年（{base:.3f} t）低 {100 * cut:.1f}%")


def _coverage(c: Claim) -> Finding:
    residual = c.emissions.total_t
    credits = sum(x.quantity_t for x in c.credits)
    if credits + 1e-9 < residual:
        return _f("offset.coverage", False, f"credits {credits:.3f} t are less than the residual emissions "
                                            f"{residual:.3f} t (short by {residual - credits:.3f} t)",
                  f"碳信用 {credits:.3f} t 少于剩余排放 {residual:.3f} t（缺 {residual - credits:.3f} t）")
    return _f("offset.coverage", True, f"credits {credits:.3f} t cover the residual emissions {residual:.3f} t",
              f"碳信用 {credits:.3f} t 足以抵消剩余排放 {residual:.3f} t")


# --- credit-level tests ------------------------------------------------------------------------------------------

def _credit_findings(c: Claim, x: Credit, others: list[Retirement], seen: list[Credit]) -> list[Finding]:
    out: list[Finding] = []

    def add(test: str, ok: bool, reason: str, reason_zh: str) -> None:
        out.append(_f(test, ok, f"{x.ref}: {reason}", f"{x.ref}：{reason_zh}", x.ref))

    prog = programmes().get(x.programme)
    add("credit.programme", prog is not None,
        f"programme {prog.name_en if prog else x.programme}" + ("" if prog else " is not a recognised programme"),
        f"减排机制 {prog.name_zh}" if prog else f"{x.programme} 不是认可的减排机制")
    cert = prog is not None and prog.kind == "certificate"
    add("credit.not_certificate", not cert,
        f"{x.programme} is an energy attribute certificate for Scope 2 market-based accounting, not an offset"
        if cert else "a carbon credit, not an energy certificate",
        f"{x.programme} 是用于范围二市场法核算的能源属性证书，不是碳抵消" if cert else "是碳信用，不是能源证书")
    basis = x.additionality.strip()
    add("credit.additional", bool(basis) and basis.lower() not in ("none", "no", "n/a"),
        f"additionality basis: {basis}" if basis else "no additionality basis given",
        f"额外性依据：{basis}" if basis else "未给出额外性依据")
    out.append(_permanent(x))
    verified = bool(x.verified_by and x.verification_date)
    add("credit.verified", verified,
        f"verified by {x.verified_by} on {x.verification_date}" if verified
        else "no independent verifier and verification date",
        f"由 {x.verified_by} 于 {x.verification_date} 核查" if verified else "无独立核查机构和核查日期")
    add("credit.ex_post", *_ex_post(x))
    lo = c.year - VINTAGE_YEARS_BEFORE
    within = lo <= x.vintage <= c.year
    add("credit.vintage", within,
        f"vintage {x.vintage} {'within' if within else 'outside'} {lo}..{c.year}",
        f"产生年份 {x.vintage} {'在' if within else '不在'} {lo}–{c.year} 之内")
    retired = x.retirement_date is not None
    add("credit.retired", retired, f"retired on {x.retirement_date}" if retired else "not retired: a credit still "
                                   "held can be sold or used again; retire it in the registry first",
        f"已于 {x.retirement_date} 注销" if retired else "未注销：仍持有的碳信用可被出售或再次使用；请先在登记系统注销")
    deadline = _add_months(c.period_end, RETIREMENT_MONTHS)
    if not retired:
        add("credit.retired_in_time", False, f"not retired; the deadline is {deadline}", f"未注销；截止日期为 {deadline}")
    elif x.retirement_date <= deadline:
        add("credit.retired_in_time", True, f"retired {x.retirement_date}, deadline {deadline}",
            f"注销于 {x.retirement_date}，截止日期 {deadline}")
    else:
        add("credit.retired_in_time", False, f"retired {x.retirement_date}, after the deadline {deadline}",
            f"注销于 {x.retirement_date}，晚于截止日期 {deadline}")
    add("credit.retired_for", *_retired_for(c, x))
    add("credit.not_double_counted", *_double_count(c, x, others, seen))
    return out


def _permanent(x: Credit) -> Finding:
    def f(ok: bool, en: str, zh: str) -> Finding:
        return _f("credit.permanent", ok, f"{x.ref}: {en}", f"{x.ref}：{zh}", x.ref)

    if x.project_type == "removal":
        if x.storage_years and x.storage_years > 0 and x.reversal_provision.strip():
            return f(True, f"removal stored {x.storage_years} years, reversal provision: {x.reversal_provision}",
                     f"碳移除封存 {x.storage_years} 年，逆转保障：{x.reversal_provision}")
        return f(False, "removal without a storage horizon and a reversal provision (buffer, insurance or "
                        "replacement)", "碳移除未说明封存期限和逆转保障（缓冲池、保险或替换）")
    if x.project_type == "avoidance":
        return f(True, "avoidance credit: reversal does not apply", "避免排放类碳信用：不涉及逆转")
    return f(False, f"project type '{x.project_type}' is neither avoidance nor removal",
             f"项目类型“{x.project_type}”既不是避免排放也不是碳移除")


def _ex_post(x: Credit) -> tuple[bool, str, str]:
    if x.issued_date is None:
        return False, "no issue date", "无签发日期"
    if x.issued_date.year < x.vintage:
        return (False, f"issued {x.issued_date}, before its vintage {x.vintage} (ex ante)",
                f"签发于 {x.issued_date}，早于产生年份 {x.vintage}（事前签发）")
    if x.verification_date and x.issued_date < x.verification_date:
        return (False, f"issued {x.issued_date}, before verification on {x.verification_date}",
                f"签发于 {x.issued_date}，早于 {x.verification_date} 的核查")
    return True, f"issued {x.issued_date} for vintage {x.vintage}", f"签发于 {x.issued_date}，产生年份 {x.vintage}"


def _retired_for(c: Claim, x: Credit) -> tuple[bool, str, str]:
    wrong: list[tuple[str, str]] = []
    if x.retired_for_subject != c.subject_key:
        who = x.retired_for_subject or "-"
        wrong.append((f"retired for '{who}', not {c.subject_key}", f"为“{who}”注销，而非 {c.subject_key}"))
    if x.retired_for_period != c.year:
        when = x.retired_for_period or "-"
        wrong.append((f"retired for period {when}, not {c.year}", f"为周期 {when} 注销，而非 {c.year}"))
    if x.retirement_beneficiary.strip() not in (c.org, c.org_name):
        whom = x.retirement_beneficiary or "-"
        wrong.append((f"beneficiary '{whom}' is not {c.org_name} ({c.org})",
                      f"受益方“{whom}”不是 {c.org_name}（{c.org}）"))
    if wrong:
        return False, "; ".join(en for en, _ in wrong), "；".join(zh for _, zh in wrong)
    return (True, f"retired for {c.subject_key} {c.year} on behalf of {x.retirement_beneficiary}",
            f"以 {x.retirement_beneficiary} 名义为 {c.subject_key} {c.year} 注销")


def _double_count(c: Claim, x: Credit, others: list[Retirement], seen: list[Credit]) -> tuple[bool, str, str]:
    clashes = [(f"serials {a}-{b} also used by claim {r.claim}", f"序列号 {a}-{b} 也被声明 {r.claim} 使用")
               for r in others if r.programme == x.programme and r.project_id == x.project_id
               for a, b in overlaps(x.serials, r.serials)]
    clashes += [(f"serials {a}-{b} also in credit {y.ref} of this claim", f"序列号 {a}-{b} 也在本声明的碳信用 {y.ref} 中")
                for y in seen if y.programme == x.programme and y.project_id == x.project_id
                for a, b in overlaps(x.serials, y.serials)]
    owner = x.retirement_beneficiary.strip()
    if owner and owner not in (c.org, c.org_name):
        clashes.append((f"retired on behalf of '{owner}': those tonnes are theirs to claim",
                        f"以“{owner}”名义注销：这些吨数归其声明"))
    ca = x.corresponding_adjustment
    ca_zh = _ADJUSTMENT_ZH.get(ca, ca)
    if clashes:
        return (False, "; ".join(en for en, _ in clashes) + f"; corresponding adjustment: {ca}",
                "；".join(zh for _, zh in clashes) + f"；相应调整：{ca_zh}")
    return True, f"serials used once; corresponding adjustment: {ca}", f"序列号仅使用一次；相应调整：{ca_zh}"


_ADJUSTMENT_ZH = {"applied": "已做", "not_applied": "未做", "not_applicable": "不适用", "unknown": "未知"}


def check_claim(claim: Claim, all_retirements: list[Retirement] | tuple[Retirement, ...] = ()) -> list[Finding]:
    """Every test of :data:`RULES` on ``claim``. ``all_retirements``: serials used by claims; those of this
    claim (same ``claim.ref``) are ignored, so the stored register can be passed whole."""
    others = [r for r in all_retirements if not (claim.ref and r.claim == claim.ref)]
    out = [_boundary(claim), _scope12(claim), _plan(claim), _reduction(claim), _coverage(claim)]
    if not claim.credits:
        out.append(_f("credit.retired", False, "no credits are attached to the claim", "声明未附任何碳信用"))
    for i, x in enumerate(claim.credits):
        out += _credit_findings(claim, x, others, list(claim.credits[:i]))
    return out


def passed(findings: list[Finding]) -> bool:
    return bool(findings) and all(f.passed for f in findings)


def removals_share(claim: Claim) -> float | None:
    """Share of the claim's credits (tCO2e) that are removals; None without credits. [fraction]"""
    total = sum(x.quantity_t for x in claim.credits)
    return None if total <= 0 else sum(x.quantity_t for x in claim.credits if x.project_type == "removal") / total


def credit_quality_share(claim: Claim, findings: list[Finding]) -> float | None:
    """Share of the claim's credits (tCO2e) that pass every credit test. [fraction]"""
    total = sum(x.quantity_t for x in claim.credits)
    if total <= 0:
        return None
    failing = {f.credit for f in findings if f.credit and not f.passed}
    return sum(x.quantity_t for x in claim.credits if x.ref not in failing) / total


class ClaimRefused(ValueError):
    """A statement was asked for a claim that fails tests; ``reasons`` lists them."""

    def __init__(self, reasons: list[str]):
        super().__init__("the claim fails: " + "; ".join(reasons))
        self.reasons = reasons


def _credit_line(x: Credit, zh: bool) -> str:
    serials = ", ".join(f"{a}-{b}" for a, b in x.serials)
    if zh:
        kind = {"avoidance": "避免排放", "removal": "碳移除"}.get(x.project_type, x.project_type)
        return (f"- {x.programme} {x.project_id}，产生年份 {x.vintage}，{x.quantity_t:g} t（{kind}），序列号 {serials}，"
                f"注销于 {x.retirement_date}")
    return (f"- {x.programme} {x.project_id} vintage {x.vintage}, {x.quantity_t:g} t ({x.project_type}), serials "
            f"{serials}, retired {x.retirement_date}")


def _who(c: Claim, zh: bool) -> str:
    if c.subject == "organisation":
        return c.org_name
    if zh:
        return f"{c.org_name} 工厂 {c.site}" + (f" 车间 {c.workshop}（产线 {'、'.join(c.lines)}）"
                                               if c.subject == "workshop" else "")
    return f"{c.org_name}, site {c.site}" + (f", workshop {c.workshop} (lines {', '.join(c.lines)})"
                                            if c.subject == "workshop" else "")


def claim_statement(claim: Claim, findings: list[Finding], lang: str = "en") -> str:
    """The carbon-neutrality statement (``lang``: en | zh), only when every test passes; :class:`ClaimRefused`
    listing the failing tests otherwise."""
    failing = [f"{f.test}: {f.reason}" for f in findings if not f.passed]
    if failing or not findings:
        raise ClaimRefused(failing or ["the claim has not been checked"])
    zh = lang == "zh"
    e, p = claim.emissions, claim.plan
    credits = sum(x.quantity_t for x in claim.credits)
    share = 100 * (removals_share(claim) or 0.0)
    lines = [_credit_line(x, zh) for x in claim.credits]
    proposed = ", ".join(sorted({f.test for f in findings if f.status == "proposed"}))
    s3 = ", ".join(f"{k} {v:.3f} t" for k, v in sorted(e.scope3.items()))
    who = _who(claim, zh)
    if zh:
        return "\n".join([
            "碳中和声明（依据 ISO 14068-1:2023）", "",
            f"{who} 在 {claim.year} 年 1 月 1 日至 12 月 31 日期间实现碳中和。", "",
            f"边界内排放：范围一 {e.scope1_t:.3f} tCO2e，范围二（基于市场法）{e.scope2_market_t:.3f} tCO2e，"
            f"纳入的范围三：{s3 or '无'}；合计 {e.total_t:.3f} tCO2e（{e.source_zh or e.source}）。",
            f"已注销碳信用 {credits:.3f} tCO2e，其中碳移除占 {share:.1f}%：", *lines, "",
            f"碳中和管理计划：承诺日期 {p.commitment_date}，基准年 {p.base_year}，由 {p.approved_by} 批准，"
            f"公开于 {p.public_url}。",
            f"全部 {len(findings)} 项检查通过；其中 zerocarbon 提出的规则（未经标准原文确认）：{proposed or '无'}。",
            "本声明由 zerocarbon 根据上述检查生成，不替代第三方核查。"])
    return "\n".join([
        "Carbon neutrality statement (ISO 14068-1:2023)", "",
        f"{who} achieved carbon neutrality for the period 1 January to 31 December {claim.year}.", "",
        f"Emissions in the boundary: Scope 1 {e.scope1_t:.3f} tCO2e, Scope 2 market-based {e.scope2_market_t:.3f} "
        f"tCO2e, Scope 3 included: {s3 or 'none'}; total {e.total_t:.3f} tCO2e ({e.source}).",
        f"Carbon credits retired: {credits:.3f} tCO2e, of which removals {share:.1f}%:", *lines, "",
        f"Carbon neutrality management plan: committed {p.commitment_date}, base year {p.base_year}, approved by "
        f"{p.approved_by}, published at {p.public_url}.",
        f"All {len(findings)} tests passed; rules proposed by zerocarbon (not confirmed against the standard's "
        f"text): {proposed or 'none'}.",
        "Generated by zerocarbon from the tests above; it does not replace third-party verification."])
