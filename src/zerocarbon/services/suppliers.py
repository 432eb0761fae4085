"""Supplier management and the supplier disclosure platform: the registry, the green specification and scorecards,
data campaigns, submissions with evidence and their review, and the supplier reduction programme.

Who sees what: a caller who may ``supply.read`` sees every supplier of the organisation; a caller who may only
``supply.submit_own`` sees the one supplier its membership is tied to (``memberships.supplier_code``) and nothing
else. :func:`viewer` turns the caller into a :class:`Viewer`; every function below passes its ``only`` to the
store queries, so another supplier's rows are never loaded for them, and a code or id of another supplier is
"not found", exactly like one that does not exist.

Every file is all-or-nothing: every problem (file, row, column, reason) is collected and reported in one
:class:`InputError`, and nothing is written. Every change is written to the audit trail in the same transaction.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

import yaml
from sqlalchemy.orm import sessionmaker

from zerocarbon.core.supply import reductions as red
from zerocarbon.core.supply import scorecard as sc
from zerocarbon.errors import InputError, NotFoundError, Problem, StateError
from zerocarbon.io.spreadsheet import table_bytes
from zerocarbon.io.tables import read_upload
from zerocarbon.store import repos
from zerocarbon.store import suppliers as store
from zerocarbon.core import safe_yaml

MAX_FILE_BYTES = 5 * 2**20
MAX_EVIDENCE_BYTES = 10 * 2**20
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

# Column of the suppliers file -> accepted headers (English, snake case or with spaces, and Chinese).
SUPPLIER_COLUMNS = {
    "code": ("code", "supplier_code", "supplier", "供应商代码", "供应商编码"),
    "name": ("name", "supplier_name", "供应商名称", "名称"),
    "tier": ("tier", "层级"),
    "category": ("category", "类别", "品类"),
    "country": ("country", "国家"),
    "region": ("region", "地区", "省份"),
    "site": ("site", "工厂", "厂址"),
    "annual_spend": ("annual_spend", "spend", "年采购额"),
    "currency": ("currency", "币种"),
    "parts": ("parts", "parts_supplied", "零部件"),
    "emissions_t": ("emissions_t", "emissions", "排放量"),
    "emissions_source": ("emissions_source", "排放来源"),
    "contact": ("contact", "联系人"),
}
SUPPLIER_REQUIRED = ("code", "name", "tier")
SUBMISSION_COLUMNS = {
    "supplier": ("supplier", "supplier_code", "供应商代码"),
    "indicator": ("indicator", "指标"),
    "value": ("value", "数值", "值"),
    "unit": ("unit", "单位"),
    "evidence_ref": ("evidence_ref", "evidence_reference", "证据编号"),
    "evidence_file": ("evidence_file", "证据文件"),
    "valid_until": ("valid_until", "有效期至"),
}
SUBMISSION_REQUIRED = ("indicator", "value")
PROJECT_COLUMNS = {
    "supplier": ("supplier", "supplier_code", "供应商代码"),
    "project_id": ("project_id", "project", "项目编号"),
    "description": ("description", "描述"),
    "type": ("type", "类型"),
    "start_year": ("start_year", "开始年份"),
    "annual_reduction_t": ("annual_reduction_t", "annual_reduction_tco2e", "年减排量"),
    "baseline_t": ("baseline_t", "baseline_tco2e", "基准排放"),
    "evidence_ref": ("evidence_ref", "evidence", "证据编号"),
    "evidence_file": ("evidence_file", "证据文件"),
}
PROJECT_REQUIRED = ("project_id", "description", "type", "start_year", "annual_reduction_t")


def now() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    return now().date()


@dataclass(frozen=True)
class Viewer:
    """Who acts, and which supplier they are limited to (``only``; None: every supplier)."""

    actor: str
    only: str | None = None
    limited: bool = False

    @classmethod
    def everything(cls, actor: str) -> "Viewer":
        return cls(actor)


# A limited caller tied to no supplier matches no row: a code no supplier can have (codes start with a letter
# or digit).
_NOBODY = "-nobody-"


def viewer(sessions: sessionmaker, org: str, actor: str, actions) -> Viewer:
    """The view of a caller with ``actions`` in ``org``: everything with ``supply.read``, else (with
    ``supply.submit_own``) only the supplier its membership is tied to."""
    if "supply.read" in actions or "supply.manage" in actions:
        return Viewer(actor)
    code = None
    if actor.startswith("user:"):
        with sessions.begin() as s:
            found = store.member_supplier(s, _org_id(s, org), actor.removeprefix("user:"))
            code = found[1] if found else None
    return Viewer(actor, code or _NOBODY, True)


def _org_id(s, org: str) -> int:
    return repos.organisation_id(s, org)


def _only(v: Viewer) -> str | None:
    return v.only if v.limited else None


# --- reading files ---------------------------------------------------------------------------------------------

def _read(source: str, data: bytes, columns: dict, required: tuple[str, ...]):
    return read_upload(source, data, columns, required, MAX_FILE_BYTES)


def _number(text: str) -> float | None:
    try:
        v = float(str(text).replace(",", ""))
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        return None


# --- the registry ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportReport:
    source: str
    sha256: str
    created: list[str]
    updated: list[str]
    unchanged: list[str]


_FIELDS = ("name", "tier", "category", "country", "region", "site", "annual_spend", "currency", "parts",
           "emissions_t", "emissions_source", "contact")


def _amount(r: dict, col: str, unit_note: str, negative: str, bad) -> float | None:
    """The non-negative number in cell ``col`` (None when blank); ``bad(col, reason)`` otherwise."""
    if not r[col]:
        return None
    value = _number(r[col])
    if value is None:
        bad(col, f"'{r[col]}' is not a number{unit_note}")
    elif value < 0:
        bad(col, negative.format(r[col]))
    return value


def _supplier_rows(source: str, df) -> list[dict]:
    problems, out, seen = [], [], {}
    for i, r in enumerate(df.to_dict("records")):
        row = i + 2

        def bad(col: str, reason: str) -> None:
            problems.append(Problem(source, row, col, reason))

        code = r["code"]
        if not _CODE.match(code):
            bad("code", f"'{code}' is not a supplier code (1-64 letters, digits, '.', '_' or '-')" if code
                else "is empty")
        elif code in seen:
            bad("code", f"supplier {code} is listed twice (row {seen[code]})")
        seen.setdefault(code, row)
        if not r["name"]:
            bad("name", "is empty")
        tier = r["tier"]
        if tier not in ("1", "2", "3"):
            bad("tier", f"'{tier}' is not 1, 2 or 3" if tier else "is empty; give 1, 2 or 3")
        country = r["country"].upper()
        if country and not _COUNTRY.match(country):
            bad("country", f"'{r['country']}' is not a two-letter country code (ISO 3166-1, e.g. CN)")
        spend = _amount(r, "annual_spend", "", "a negative spend ({}) is impossible", bad)
        currency = r["currency"].upper()
        if spend is not None and not currency:
            bad("currency", "is required with annual_spend (ISO 4217, e.g. CNY)")
        elif currency and not _CURRENCY.match(currency):
            bad("currency", f"'{r['currency']}' is not a three-letter currency code (ISO 4217, e.g. CNY)")
        emissions = _amount(r, "emissions_t", " (tCO2e)", "negative emissions ({} tCO2e) are impossible", bad)
        source_kind = r["emissions_source"].lower()
        if emissions is not None and source_kind not in ("reported", "estimated"):
            bad("emissions_source", f"'{r['emissions_source']}' is not reported or estimated" if source_kind
                else "is required with emissions_t: reported or estimated")
        elif emissions is None and source_kind and source_kind not in ("reported", "estimated"):
            bad("emissions_source", f"'{r['emissions_source']}' is not reported or estimated")
        out.append({"code": code, "name": r["name"][:256], "tier": int(tier) if tier in ("1", "2", "3") else 0,
                    "category": r["category"][:128], "country": country[:8], "region": r["region"][:128],
                    "site": r["site"][:128], "annual_spend": spend, "currency": currency or None,
                    "parts": r["parts"], "emissions_t": emissions,
                    "emissions_source": source_kind if emissions is not None else "", "contact": r["contact"][:320]})
    if problems:
        raise InputError(problems)
    return out


def import_suppliers(sessions: sessionmaker, org: str, source: str, data: bytes, *, actor: str) -> ImportReport:
    """Create or update suppliers from a CSV/XLSX file (matched by supplier code); all or nothing."""
    rows = _supplier_rows(source, _read(source, data, SUPPLIER_COLUMNS, SUPPLIER_REQUIRED))
    sha = hashlib.sha256(data).hexdigest()
    created, updated, unchanged = [], [], []
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        existing = {r.code: r for r in store.suppliers(s, org_id)}
        for r in rows:
            old = existing.get(r["code"])
            if old is None:
                store.add(s, store.SupplierRow(organisation_id=org_id, updated_at=now(), updated_by=actor, **r))
                created.append(r["code"])
                continue
            changes = {f: (getattr(old, f), r[f]) for f in _FIELDS if getattr(old, f) != r[f]}
            if not changes:
                unchanged.append(r["code"])
                continue
            for f, (_, new) in changes.items():
                setattr(old, f, new)
            old.updated_at, old.updated_by = now(), actor
            updated.append(r["code"])
        repos.audit(s, actor, "supplier.import", f"suppliers:{source}", org_id=org_id, sha256=sha,
                    created=created, updated=updated, unchanged=len(unchanged))
    return ImportReport(source, sha, created, updated, unchanged)


def answers_template(sessions: sessionmaker, org: str, fmt: str = "csv") -> tuple[str, str, bytes]:
    """A blank answers file for the organisation's green specification, in the columns ``submit`` reads: one row
    per indicator with its unit filled in, value and evidence left for the supplier (a row left without a value
    is to be deleted). Returns (file name, media type, content); ``fmt`` is csv or xlsx."""
    import pandas as pd

    if fmt not in ("csv", "xlsx"):
        raise InputError([Problem("template", None, "format", f"'{fmt}' is not csv or xlsx")])
    spec = get_spec(sessions, org).spec
    rows = [{"indicator": i.key, "value": "", "unit": i.unit or ("%" if i.type == "share" else ""),
             "evidence_ref": "", "evidence_file": "", "valid_until": ""} for i in spec.indicators]
    media = "text/csv" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return f"{org}-green-specification-answers.{fmt}", media, table_bytes(pd.DataFrame(rows), fmt, "answers")


def _supplier_dict(r: store.SupplierRow) -> dict:
    return {"code": r.code, "name": r.name, "tier": r.tier, "category": r.category, "country": r.country,
            "region": r.region, "site": r.site, "annual_spend": r.annual_spend, "currency": r.currency,
            "parts": r.parts, "emissions_t": r.emissions_t, "emissions_source": r.emissions_source,
            "contact": r.contact, "updated_at": r.updated_at, "updated_by": r.updated_by}


# --- the green specification -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SpecInfo:
    spec: sc.Spec
    text: str
    origin: str  # shipped | own
    sha256: str


def _spec(s, org_id: int) -> SpecInfo:
    own = store.settings(s, org_id)
    if own is None:
        text = sc.shipped_text()
        return SpecInfo(sc.shipped_spec(), text, "shipped", hashlib.sha256(text.encode()).hexdigest())
    return SpecInfo(sc.parse_spec(yaml.safe_load(own.spec_yaml), "stored specification"), own.spec_yaml, "own",
                    own.spec_sha256)


def get_spec(sessions: sessionmaker, org: str) -> SpecInfo:
    with sessions.begin() as s:
        return _spec(s, _org_id(s, org))


def set_spec(sessions: sessionmaker, org: str, source: str, data: bytes, *, actor: str) -> SpecInfo:
    """Store the organisation's own green specification (YAML, as the shipped one); refused with every problem."""
    try:
        text = data.decode("utf-8-sig")
        doc = safe_yaml.load(text)
    except (ValueError, RecursionError, yaml.YAMLError) as exc:  # ValueError: not UTF-8, a date like 2025-13-01
        raise InputError([Problem(source, None, None, f"is not UTF-8 YAML: {exc}")]) from None
    spec = sc.parse_spec(doc, source)
    sha = hashlib.sha256(text.encode()).hexdigest()
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        row = store.settings(s, org_id)
        if row is None:
            store.add(s, store.SupplySettingsRow(organisation_id=org_id, spec_yaml=text, spec_sha256=sha,
                                                 updated_at=now(), updated_by=actor))
        else:
            row.spec_yaml, row.spec_sha256, row.updated_at, row.updated_by = text, sha, now(), actor
        repos.audit(s, actor, "supply.spec", f"spec:{spec.name}", org_id=org_id, sha256=sha,
                    indicators=list(spec.keys), pass_mark=spec.pass_mark)
    return SpecInfo(spec, text, "own", sha)


# --- scorecards ------------------------------------------------------------------------------------------------

def _answers(s, org_id: int, only: str | None) -> dict[str, list[sc.Answer]]:
    out: dict[str, list[sc.Answer]] = {}
    for a, submitted_at, file_name, sha in store.accepted_answers(s, org_id, only):
        out.setdefault(a.supplier_code, []).append(sc.Answer(
            a.indicator, a.value, a.unit, a.evidence_ref or file_name, sha, a.valid_until, submitted_at.date()))
    return out


def _facts(r: store.SupplierRow) -> sc.SupplierFacts:
    return sc.SupplierFacts(r.code, r.annual_spend, r.currency, r.emissions_t, r.tier)


def _card_dict(card: sc.Scorecard, scored: bool = True) -> dict:
    """``scored``: the supplier has an accepted answer by ``as_of``; without one there is no scorecard yet (its
    score 0 and fail are a placeholder: it counts as not passing)."""
    return {"supplier": card.supplier, "as_of": card.as_of.isoformat(), "score": card.score, "passed": card.passed,
            "scored": scored, "reasons": list(card.reasons),
            "indicators": [r.__dict__ for r in card.results]}


def list_suppliers(sessions: sessionmaker, org: str, v: Viewer, *, as_of: date | None = None,
                   tier: int | None = None, category: str | None = None, status: str | None = None,
                   search: str | None = None) -> list[dict]:
    """Suppliers with their score and pass/fail on ``as_of`` (today), filtered; a limited viewer gets its own."""
    as_of = as_of or today()
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        spec = _spec(s, org_id).spec
        rows = store.suppliers(s, org_id, _only(v))
        answers = _answers(s, org_id, _only(v))
    out = []
    for r in rows:
        latest = sc.latest_answers(answers.get(r.code, ()), as_of)
        card = sc.evaluate(spec, r.code, latest, as_of)
        d = dict(_supplier_dict(r), score=card.score, passed=card.passed, scored=bool(latest),
                 reasons=list(card.reasons))
        if tier is not None and r.tier != tier:
            continue
        if category and r.category != category:
            continue
        if status == "passing" and not card.passed or status == "failing" and card.passed:
            continue
        if search and search.lower() not in f"{r.code} {r.name} {r.parts}".lower():
            continue
        out.append(d)
    return out


def get_supplier(sessions: sessionmaker, org: str, code: str, v: Viewer, as_of: date | None = None) -> dict:
    """One supplier with its scorecard, its submissions (with review comments), requests and projects."""
    as_of = as_of or today()
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        row = store.supplier(s, org_id, code, _only(v))
        if row is None:
            raise NotFoundError(f"no supplier {code} in {org}")
        spec = _spec(s, org_id).spec
        answers = _answers(s, org_id, code)
        subs = [_submission_dict(x) for x in store.submissions(s, org_id, _only(v), supplier_code=code)]
        reqs = _requests(s, org_id, code)
        projects = [_project_dict(p) for p in store.projects(s, org_id, code)]
        users = store.members_of_supplier(s, org_id, code) if not v.limited else []
    latest = sc.latest_answers(answers.get(code, ()), as_of)
    card = sc.evaluate(spec, code, latest, as_of)
    return dict(_supplier_dict(row), scorecard=_card_dict(card, bool(latest)), submissions=subs, requests=reqs,
                projects=projects, users=users, spec={"name": spec.name, "name_zh": spec.name_zh,
                                                      "edition": spec.edition, "pass_mark": spec.pass_mark})


def compliance_report(sessions: sessionmaker, org: str, *, as_of: date | None = None, by: str = "quarter",
                      since: date | None = None) -> dict:
    """Compliance by count and by spend on ``as_of``, its trend per quarter or year, and the engagement target."""
    as_of = as_of or today()
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        info = _spec(s, org_id)
        rows = store.suppliers(s, org_id)
        answers = _answers(s, org_id, None)
    spec, facts = info.spec, [_facts(r) for r in rows]
    cards = {r.code: sc.evaluate(spec, r.code, sc.latest_answers(answers.get(r.code, ()), as_of), as_of) for r in rows}
    c = sc.compliance(cards, facts)
    first = min((a.answered_on for xs in answers.values() for a in xs if a.answered_on), default=as_of)
    start = since or first
    ends = sc.periods(start, as_of, by)[-20:]
    tiers = {}
    for t in (1, 2, 3):
        sub = [f for f in facts if f.tier == t]
        if sub:
            ct = sc.compliance(cards, sub)
            tiers[str(t)] = {"suppliers": ct.suppliers, "passing": ct.passing, "share_by_count": ct.share_by_count,
                             "share_by_spend": ct.share_by_spend}
    return {"as_of": as_of.isoformat(), "spec": {"name": spec.name, "name_zh": spec.name_zh, "edition": spec.edition,
                                                 "origin": info.origin, "pass_mark": spec.pass_mark},
            "suppliers": c.suppliers, "passing": c.passing, "share_by_count": c.share_by_count,
            "share_by_spend": c.share_by_spend, "spend_by_currency": c.spend_by_currency, "note": c.note,
            "by_tier": tiers, "trend": sc.trend(spec, facts, answers, ends),
            "engagement": sc.engagement(spec, facts, cards)}


# --- campaigns -------------------------------------------------------------------------------------------------

def _requests(s, org_id: int, only: str | None) -> list[dict]:
    camps = {c.id: c for c in store.campaigns(s, org_id)}
    out = []
    for r in store.requests(s, org_id, only):
        c = camps[r.campaign_id]
        out.append({"id": r.id, "campaign_id": c.id, "campaign": c.name, "indicators": c.indicators,
                    "due": c.due.isoformat(), "supplier": r.supplier_code, "status": r.status,
                    "reminders": r.reminders, "reminded_at": r.reminded_at, "overdue": _overdue(r, c, today())})
    return out


def _overdue(r: store.RequestRow, c: store.CampaignRow, as_of: date) -> bool:
    return r.status in ("open", "returned") and c.due < as_of


def create_campaign(sessions: sessionmaker, org: str, name: str, indicators: list[str], due: date,
                    suppliers: list[str] | None = None, *, actor: str) -> dict:
    """A data request: which indicators, due when, to which suppliers (default: all)."""
    problems = []
    name = (name or "").strip()
    if not name or len(name) > 256:
        problems.append(Problem("campaign", None, "name", "give a name of 1-256 characters"))
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        spec = _spec(s, org_id).spec
        codes = store.supplier_codes(s, org_id)
        indicators = list(dict.fromkeys(indicators or spec.keys))
        for k in indicators:
            if spec.indicator(k) is None:
                problems.append(Problem("campaign", None, "indicators",
                                        f"'{k}' is not an indicator of the specification ({', '.join(spec.keys)})"))
        chosen = sorted(codes) if not suppliers else list(dict.fromkeys(suppliers))
        for c in chosen:
            if c not in codes:
                problems.append(Problem("campaign", None, "suppliers", f"no supplier {c} in {org}"))
        if not chosen:
            problems.append(Problem("campaign", None, "suppliers", f"{org} has no suppliers; import them first"))
        if problems:
            raise InputError(problems)
        row = store.CampaignRow(organisation_id=org_id, name=name, indicators=indicators, due=due,
                                created_at=now(), created_by=actor)
        store.add(s, row)
        for c in chosen:
            store.add(s, store.RequestRow(organisation_id=org_id, campaign_id=row.id, supplier_code=c, status="open",
                                          reminders=0))
        repos.audit(s, actor, "supply.campaign", f"campaign:{row.id}", org_id=org_id, name=name,
                    indicators=indicators, due=due.isoformat(), suppliers=len(chosen))
        return {"id": row.id, "name": name, "indicators": indicators, "due": due.isoformat(), "suppliers": chosen}


def list_campaigns(sessions: sessionmaker, org: str, v: Viewer, as_of: date | None = None) -> list[dict]:
    """Campaigns with their requests (a limited viewer: only the campaigns with a request to it, only its own)."""
    as_of = as_of or today()
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        reqs = store.requests(s, org_id, _only(v))
        out = []
        for c in store.campaigns(s, org_id):
            mine = [r for r in reqs if r.campaign_id == c.id]
            if v.limited and not mine:
                continue
            out.append({"id": c.id, "name": c.name, "indicators": c.indicators, "due": c.due.isoformat(),
                        "created_by": c.created_by if not v.limited else None, "created_at": c.created_at,
                        "requests": [{"id": r.id, "supplier": r.supplier_code, "status": r.status,
                                      "reminders": r.reminders, "reminded_at": r.reminded_at,
                                      "overdue": _overdue(r, c, as_of)} for r in mine]})
        return out


def remind(sessions: sessionmaker, org: str, campaign_id: int | None = None, as_of: date | None = None, *,
           actor: str) -> list[dict]:
    """Record a reminder to every overdue request (open or returned after the due date): the list of whom to
    remind, each marked reminded. No e-mail is sent: the server has no mail relay; send it from your own mail."""
    as_of = as_of or today()
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        camps = {c.id: c for c in store.campaigns(s, org_id)}
        if campaign_id is not None and campaign_id not in camps:
            raise NotFoundError(f"no campaign {campaign_id} in {org}")
        suppliers = {r.code: r for r in store.suppliers(s, org_id)}
        out = []
        for r in store.requests(s, org_id, campaign_id=campaign_id):
            c = camps[r.campaign_id]
            if not _overdue(r, c, as_of):
                continue
            r.reminders += 1
            r.reminded_at, r.reminded_by = now(), actor
            sup = suppliers.get(r.supplier_code)
            out.append({"request": r.id, "campaign": c.name, "supplier": r.supplier_code,
                        "name": sup.name if sup else "", "contact": sup.contact if sup else "",
                        "due": c.due.isoformat(), "reminders": r.reminders})
        repos.audit(s, actor, "supply.remind", f"campaign:{campaign_id or 'all'}", org_id=org_id,
                    requests=[o["request"] for o in out])
        return out


# --- submissions -----------------------------------------------------------------------------------------------

def _store_evidence(s, org_id: int, code: str, name: str, data: bytes, actor: str) -> store.EvidenceRow:
    sha = hashlib.sha256(data).hexdigest()
    row = store.evidence_by_sha(s, org_id, code, sha)
    if row is None:
        row = store.EvidenceRow(organisation_id=org_id, supplier_code=code, sha256=sha, file_name=name[:256],
                                size=len(data), content=data, uploaded_at=now(), uploaded_by=actor)
        store.add(s, row)
    return row


def _check_evidence(source: str, evidence: dict[str, bytes]) -> list[Problem]:
    return [Problem(name, None, None, f"evidence file is larger than {MAX_EVIDENCE_BYTES // 2**20} MB")
            for name, data in evidence.items() if len(data) > MAX_EVIDENCE_BYTES]


def _outstanding_request(s, org_id: int, code: str) -> int | None:
    """The request a submission without a named request answers: the supplier's open request (or one returned for
    correction) due last; None when it has none."""
    camps = {c.id: c for c in store.campaigns(s, org_id)}
    waiting = [r for r in store.requests(s, org_id, code) if r.status in ("open", "returned")]
    if not waiting:
        return None
    return max(waiting, key=lambda r: (camps[r.campaign_id].due, r.id)).id


def submit(sessions: sessionmaker, org: str, supplier_code: str, source: str, data: bytes,
           evidence: dict[str, bytes] | None = None, v: Viewer | None = None, request_id: int | None = None,
           *, actor: str, as_of: date | None = None, answered_on: date | None = None) -> dict:
    """A supplier's answers (indicator, value, unit, evidence_ref, evidence_file, valid_until; optional supplier)
    with their evidence files, checked row by row; stored as one submission waiting for review, or refused whole.
    Without ``request_id`` the submission answers the supplier's open request due last, if it has one.

    ``answered_on``: the day the supplier gave these answers, when they are entered later from an earlier record
    (a past campaign, a previous system); never in the future. Validity and expiry count from it; the audit
    entry keeps when they were entered."""
    v = v or Viewer.everything(actor)
    evidence = dict(evidence or {})
    if answered_on is not None and answered_on > today():
        raise InputError([Problem(source, None, "answered_on", f"{answered_on} is in the future")])
    as_of = as_of or answered_on or today()
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        if store.supplier(s, org_id, supplier_code, _only(v)) is None:
            raise NotFoundError(f"no supplier {supplier_code} in {org}")
        if request_id is not None and store.request(s, org_id, request_id, supplier_code) is None:
            raise NotFoundError(f"no request {request_id} to supplier {supplier_code}")
        if request_id is None:
            request_id = _outstanding_request(s, org_id, supplier_code)
        spec = _spec(s, org_id).spec
    df = _read(source, data, SUBMISSION_COLUMNS, SUBMISSION_REQUIRED)
    problems = _check_evidence(source, evidence)
    rows, seen = [], {}
    for i, r in enumerate(df.to_dict("records")):
        row = i + 2

        def bad(col: str, reason: str) -> None:
            problems.append(Problem(source, row, col, reason))

        if r["supplier"] and r["supplier"] != supplier_code:
            bad("supplier", f"names supplier '{r['supplier']}'; this submission is for {supplier_code} (a supplier "
                            "submits only its own data)")
        ind = spec.indicator(r["indicator"])
        if ind is None:
            bad("indicator", f"'{r['indicator']}' is not an indicator of the specification ({', '.join(spec.keys)})")
            continue
        if ind.key in seen:
            bad("indicator", f"{ind.key} is answered twice (row {seen[ind.key]})")
        seen.setdefault(ind.key, row)
        value, reason = sc.check_value(ind, r["value"], r["unit"])
        if reason:
            bad("value" if "unit" not in reason else "unit", reason)
        valid_until = None
        if r["valid_until"]:
            valid_until = _date(r["valid_until"])
            if valid_until is None:
                bad("valid_until", f"'{r['valid_until']}' is not a date (YYYY-MM-DD)")
            elif valid_until < as_of:
                bad("valid_until", f"expired on {valid_until}: submit a valid certificate or declaration")
        elif ind.type == "certificate" and value not in (None, "no"):
            bad("valid_until", "a certificate needs its expiry date (YYYY-MM-DD)")
        file_name = r["evidence_file"]
        if file_name and file_name not in evidence:
            bad("evidence_file", f"'{file_name}' was not uploaded with the file; uploaded: "
                                 f"{', '.join(evidence) or 'none'}")
        if ind.evidence and not file_name and value not in ("no",):
            bad("evidence_file", f"{ind.key} requires evidence: name an uploaded evidence file")
        rows.append({"indicator": ind.key, "value": value or "", "unit": ind.unit if ind.type == "quantity"
                     else ("%" if ind.type == "share" else r["unit"][:32]),
                     "evidence_ref": r["evidence_ref"][:256] or None, "file": file_name or None,
                     "valid_until": valid_until})
    if problems:
        raise InputError(problems)
    sha = hashlib.sha256(data).hexdigest()
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        files = {name: _store_evidence(s, org_id, supplier_code, name, blob, actor) for name, blob in evidence.items()
                 if any(r["file"] == name for r in rows)}
        given = (datetime.combine(answered_on, datetime.min.time(), tzinfo=timezone.utc) if answered_on is not None
                 else now())
        sub = store.SubmissionRow(organisation_id=org_id, supplier_code=supplier_code, request_id=request_id,
                                  source=source[:256], sha256=sha, status="submitted", submitted_at=given,
                                  submitted_by=actor)
        store.add(s, sub)
        for r in rows:
            ev = files.get(r["file"]) if r["file"] else None
            store.add(s, store.AnswerRow(organisation_id=org_id, submission_id=sub.id, supplier_code=supplier_code,
                                         indicator=r["indicator"], value=r["value"], unit=r["unit"] or "",
                                         evidence_ref=r["evidence_ref"], evidence_id=ev.id if ev else None,
                                         valid_until=r["valid_until"]))
        if request_id is not None:
            req = store.request(s, org_id, request_id, supplier_code)
            req.status = "submitted"
        repos.audit(s, actor, "supply.submit", f"submission:{sub.id}", org_id=org_id, supplier=supplier_code,
                    source=source, sha256=sha, rows=len(rows), answered_on=given.date().isoformat(),
                    evidence={n: e.sha256 for n, e in files.items()})
        return _submission_dict(sub, store.answers(s, org_id, sub.id), {e.id: e for e in files.values()})


def _submission_dict(sub: store.SubmissionRow, answers=None, evidence=None) -> dict:
    d = {"id": sub.id, "supplier": sub.supplier_code, "request_id": sub.request_id, "source": sub.source,
         "sha256": sub.sha256, "status": sub.status, "submitted_at": sub.submitted_at, "submitted_by": sub.submitted_by,
         "review_comment": sub.review_comment, "reviewed_at": sub.reviewed_at, "reviewed_by": sub.reviewed_by}
    if answers is not None:
        evidence = evidence or {}
        d["answers"] = [{"indicator": a.indicator, "value": a.value, "unit": a.unit, "evidence_ref": a.evidence_ref,
                         "evidence_id": a.evidence_id,
                         "evidence_file": evidence[a.evidence_id].file_name if a.evidence_id in evidence else None,
                         "evidence_sha256": evidence[a.evidence_id].sha256 if a.evidence_id in evidence else None,
                         "valid_until": a.valid_until.isoformat() if a.valid_until else None} for a in answers]
    return d


def list_submissions(sessions: sessionmaker, org: str, v: Viewer, status: str | None = None) -> list[dict]:
    with sessions.begin() as s:
        return [_submission_dict(x) for x in store.submissions(s, _org_id(s, org), _only(v), status)]


def get_submission(sessions: sessionmaker, org: str, submission_id: int, v: Viewer) -> dict:
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        sub = store.submission(s, org_id, submission_id, _only(v))
        if sub is None:
            raise NotFoundError(f"no submission {submission_id} in {org}")
        answers = store.answers(s, org_id, sub.id)
        ev = {a.evidence_id: store.evidence(s, org_id, a.evidence_id) for a in answers if a.evidence_id}
        return _submission_dict(sub, answers, ev)


def evidence_file(sessions: sessionmaker, org: str, evidence_id: int, v: Viewer) -> tuple[str, str, bytes]:
    """(file name, SHA-256, content) of an evidence file the viewer may see."""
    with sessions.begin() as s:
        row = store.evidence(s, _org_id(s, org), evidence_id, _only(v))
        if row is None:
            raise NotFoundError(f"no evidence file {evidence_id} in {org}")
        return row.file_name, row.sha256, row.content


def _review_comment(accept: bool, comment: str | None, what: str) -> str:
    comment = (comment or "").strip()
    if not accept and not comment:
        raise InputError([Problem("review", None, "comment", f"say why the {what} is returned")])
    return comment


def _decide(row, name: str, accept: bool, comment: str, actor: str) -> None:
    """Accept or return a submitted ``row`` (a submission or a reduction project): who decided, when and why."""
    if row.status != "submitted":
        raise StateError(f"{name} is already {row.status}")
    row.status = "accepted" if accept else "returned"
    row.review_comment, row.reviewed_at, row.reviewed_by = comment or None, now(), actor


def review(sessions: sessionmaker, org: str, submission_id: int, accept: bool, comment: str | None = None, *,
           actor: str) -> dict:
    """Accept a submission (its answers then feed the scorecard) or return it with a comment for the supplier."""
    comment = _review_comment(accept, comment, "submission")
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        sub = store.submission(s, org_id, submission_id)
        if sub is None:
            raise NotFoundError(f"no submission {submission_id} in {org}")
        _decide(sub, f"submission {submission_id}", accept, comment, actor)
        if sub.request_id is not None:
            req = store.request(s, org_id, sub.request_id)
            req.status = sub.status
        repos.audit(s, actor, "supply.review", f"submission:{sub.id}", org_id=org_id, supplier=sub.supplier_code,
                    status=sub.status, comment=comment)
        return _submission_dict(sub)


# --- reduction projects ----------------------------------------------------------------------------------------

def _project(r: store.ProjectRow) -> red.Project:
    return red.Project(r.project_id, r.supplier_code, r.description, r.type, r.start_year, r.annual_reduction_t,
                       r.baseline_t, r.evidence_ref, r.evidence_sha256, r.status)


def _project_dict(r: store.ProjectRow) -> dict:
    return {"id": r.id, "project_id": r.project_id, "supplier": r.supplier_code, "description": r.description,
            "type": r.type, "start_year": r.start_year, "annual_reduction_t": r.annual_reduction_t,
            "baseline_t": r.baseline_t, "evidence_ref": r.evidence_ref, "evidence_id": r.evidence_id,
            "evidence_sha256": r.evidence_sha256, "status": r.status, "submitted_at": r.submitted_at,
            "submitted_by": r.submitted_by, "review_comment": r.review_comment, "reviewed_by": r.reviewed_by}


def submit_projects(sessions: sessionmaker, org: str, supplier_code: str, source: str, data: bytes,
                    evidence: dict[str, bytes] | None = None, v: Viewer | None = None, *, actor: str) -> list[dict]:
    """A supplier's reduction projects, refused whole on any problem, including a project or evidence file
    claimed before (by this or another supplier)."""
    v = v or Viewer.everything(actor)
    evidence = dict(evidence or {})
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        if store.supplier(s, org_id, supplier_code, _only(v)) is None:
            raise NotFoundError(f"no supplier {supplier_code} in {org}")
    df = _read(source, data, PROJECT_COLUMNS, PROJECT_REQUIRED)
    problems = _check_evidence(source, evidence)
    new, extra = [], []
    this_year = today().year
    for i, r in enumerate(df.to_dict("records")):
        row = i + 2

        def bad(col: str, reason: str) -> None:
            problems.append(Problem(source, row, col, reason))

        if r["supplier"] and r["supplier"] != supplier_code:
            bad("supplier", f"names supplier '{r['supplier']}'; these projects are submitted for {supplier_code}")
        if len(r["project_id"]) > 128:
            bad("project_id", "is longer than 128 characters")
        if not r["description"]:
            bad("description", "is empty")
        kind = r["type"].lower()
        if kind not in red.TYPES:
            bad("type", f"'{r['type']}' is not one of {', '.join(red.TYPES)}")
        year = None
        if not re.fullmatch(r"\d{4}", r["start_year"]) or not 1990 <= int(r["start_year"]) <= this_year + 10:
            bad("start_year", f"'{r['start_year']}' is not a year from 1990 to {this_year + 10}")
        else:
            year = int(r["start_year"])
        reduction = _number(r["annual_reduction_t"])
        if reduction is None:
            bad("annual_reduction_t", f"'{r['annual_reduction_t']}' is not a number (tCO2e a year)")
        baseline = None
        if r["baseline_t"]:
            baseline = _number(r["baseline_t"])
            if baseline is None:
                bad("baseline_t", f"'{r['baseline_t']}' is not a number (tCO2e a year)")
        sha = None
        if r["evidence_file"]:
            if r["evidence_file"] not in evidence:
                bad("evidence_file", f"'{r['evidence_file']}' was not uploaded with the file")
            else:
                sha = hashlib.sha256(evidence[r["evidence_file"]]).hexdigest()
        elif not r["evidence_ref"]:
            bad("evidence_file", "a reduction project needs evidence: an uploaded file or an evidence reference")
        if reduction is not None:
            new.append((row, red.Project(r["project_id"], supplier_code, r["description"], kind, year or 0,
                                         reduction, baseline, r["evidence_ref"] or None, sha)))
            extra.append(r["evidence_file"] or None)
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        existing = store.projects(s, org_id)  # every supplier's: a project is claimed once in the organisation
        problems += red.guard(new, [_project(p) for p in existing], source)
        if problems:
            raise InputError(sorted(problems, key=lambda p: (p.row or 0, p.column or "")))
        returned = {red.project_key(p.project_id): p for p in existing if p.status == "returned"}
        out = []
        for (row, p), file_name in zip(new, extra):
            ev = _store_evidence(s, org_id, supplier_code, file_name, evidence[file_name], actor) if file_name else None
            fields = dict(project_id=p.project_id[:128], project_key=red.project_key(p.project_id),
                          supplier_code=supplier_code, description=p.description, type=p.type,
                          start_year=p.start_year, annual_reduction_t=p.annual_reduction_t, baseline_t=p.baseline_t,
                          evidence_ref=(p.evidence or None), evidence_id=ev.id if ev else None,
                          evidence_sha256=p.evidence_sha256, status="submitted", submitted_at=now(),
                          submitted_by=actor, review_comment=None, reviewed_at=None, reviewed_by=None)
            again = returned.get(fields["project_key"])
            if again is not None:  # a returned project, submitted again corrected
                for k, val in fields.items():
                    setattr(again, k, val)
                row_ = again
            else:
                row_ = store.ProjectRow(organisation_id=org_id, **fields)
                store.add(s, row_)
            out.append(row_)
        s.flush()
        repos.audit(s, actor, "supply.projects", f"projects:{source}", org_id=org_id, supplier=supplier_code,
                    projects=[p.project_id for p in out], sha256=hashlib.sha256(data).hexdigest())
        return [_project_dict(p) for p in out]


def review_project(sessions: sessionmaker, org: str, project_row_id: int, accept: bool,
                   comment: str | None = None, *, actor: str) -> dict:
    """Accept a reduction project (it then counts towards the programme) or return it with a comment."""
    comment = _review_comment(accept, comment, "project")
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        p = store.project(s, org_id, project_row_id)
        if p is None:
            raise NotFoundError(f"no reduction project {project_row_id} in {org}")
        _decide(p, f"project {p.project_id}", accept, comment, actor)
        repos.audit(s, actor, "supply.project_review", f"project:{p.project_id}", org_id=org_id,
                    supplier=p.supplier_code, status=p.status, comment=comment)
        return _project_dict(p)


def programme(sessions: sessionmaker, org: str, v: Viewer, until: int | None = None,
              as_of: date | None = None) -> dict:
    """The reduction programme: projects (a limited viewer: its own, and no programme totals) and, for the
    organisation, cumulative accepted reductions per year against the goal of the specification. Achieved stops
    at the year of ``as_of`` (default today); later years are a projection."""
    as_of = as_of or today()
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        spec = _spec(s, org_id).spec
        rows = store.projects(s, org_id, _only(v))
    out = {"projects": [_project_dict(p) for p in rows]}
    if v.limited:
        return out
    prog = spec.programme
    start = int(prog.get("start_year") or min((p.start_year for p in rows), default=as_of.year))
    end = int(until or prog.get("end_year") or as_of.year)
    out["progress"] = red.progress([_project(p) for p in rows], float(prog.get("goal_t") or 0), start, end,
                                   as_of.year)
    out["progress"]["as_of"] = as_of.isoformat()
    return out


# --- users tied to a supplier ----------------------------------------------------------------------------------

def link_user(sessions: sessionmaker, org: str, email: str, code: str | None, *, actor: str) -> dict:
    """Tie a member with the supplier role to one supplier (``code``), or untie them (None)."""
    email = (email or "").strip().lower()
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        found = store.member_supplier(s, org_id, email)
        if found is None:
            raise NotFoundError(f"{email} is not a member of {org}; add them first (`zerocarbon users add`)")
        if code is not None:
            if found[0] != "supplier":
                raise InputError([Problem("user", None, "role", f"{email} has the role {found[0]}; only a member "
                                                                "with the supplier role is tied to a supplier")])
            if store.supplier(s, org_id, code) is None:
                raise NotFoundError(f"no supplier {code} in {org}")
        store.set_member_supplier(s, org_id, email, code)
        repos.audit(s, actor, "supply.link_user", f"user:{email}", org_id=org_id, supplier=code,
                    previous=found[1])
        return {"email": email, "organisation": org, "supplier": code}


__all__ = ["ImportReport", "SpecInfo", "Viewer", "compliance_report", "create_campaign", "evidence_file",
           "get_spec", "get_submission", "get_supplier", "import_suppliers", "link_user", "list_campaigns",
           "list_submissions", "list_suppliers", "programme", "remind", "review", "review_project", "set_spec",
           "submit", "submit_projects", "viewer"]
