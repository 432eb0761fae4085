"""The green specification scorecard: checking a supplier's answers against a configurable indicator set.

Pure functions, no I/O beyond reading the shipped specification (``data/supply/green_spec.yaml``). A
specification is a list of indicators, each with a type, a weight, a threshold, a mandatory flag, whether evidence
is required and how long an answer stays valid. A supplier's score is

    score = 100 x sum(weight_i x points_i) / sum(weight_i)            points_i in 0..1

and the supplier **passes** when ``score >= pass_mark`` AND every mandatory indicator is met with evidence that
has not expired. Every indicator carries the reason for its points, so a failed supplier can see why.

Compliance of a supplier base is reported two ways, as the laptop maker's programme does ("share of suppliers"
and "share of procurement spend"): by count, and by annual spend (per currency: spend in different currencies is
never added up without an exchange rate).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import files

import yaml

from zerocarbon.errors import Problem, UnitError
from zerocarbon.units import dimension_of, scale

TYPES = ("certificate", "declaration", "level", "share", "quantity")
YES = {"yes", "y", "true", "1", "是", "有"}
NO = {"no", "n", "false", "0", "否", "无"}
SHIPPED = "data/supply/green_spec.yaml"


@dataclass(frozen=True)
class Indicator:
    key: str
    title: str
    type: str
    weight: float
    mandatory: bool
    evidence: bool
    validity_months: int | None = None
    threshold: float | str | None = None
    unit: str | None = None
    levels: dict[str, float] = field(default_factory=dict)
    title_zh: str | None = None  # optional Chinese title, shown on zh pages

    @property
    def threshold_points(self) -> float:
        if self.type == "level":
            return self.levels[str(self.threshold)]
        return 1.0


@dataclass(frozen=True)
class Spec:
    name: str
    edition: str
    pass_mark: float
    indicators: tuple[Indicator, ...]
    engagement: dict
    programme: dict
    name_zh: str | None = None  # optional Chinese name, shown on zh pages

    def indicator(self, key: str) -> Indicator | None:
        return next((i for i in self.indicators if i.key == key), None)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.indicators)


@dataclass(frozen=True)
class Answer:
    """A supplier's accepted answer for one indicator."""

    indicator: str
    value: str
    unit: str = ""
    evidence: str | None = None  # evidence reference or file name; None: no evidence
    evidence_sha256: str | None = None
    valid_until: date | None = None
    answered_on: date | None = None  # when it was submitted (validity_months counts from here)


@dataclass(frozen=True)
class IndicatorResult:
    key: str
    title: str
    weight: float
    mandatory: bool
    points: float  # 0..1
    met: bool
    reason: str
    value: str | None = None
    title_zh: str | None = None


@dataclass(frozen=True)
class Scorecard:
    supplier: str
    as_of: date
    score: float  # 0..100
    passed: bool
    results: tuple[IndicatorResult, ...]
    reasons: tuple[str, ...]  # why the supplier fails (empty when it passes)


# --- the specification -------------------------------------------------------------------------------------------

def shipped_text() -> str:
    return files("zerocarbon").joinpath(SHIPPED).read_text(encoding="utf-8")


def shipped_spec() -> Spec:
    return parse_spec(yaml.safe_load(shipped_text()), SHIPPED)


def parse_spec(doc, source: str = "specification") -> Spec:
    """A specification from its YAML document; :class:`InputError`-style problems for everything wrong at once."""
    from zerocarbon.errors import InputError

    problems: list[Problem] = []

    def bad(where: str, reason: str) -> None:
        problems.append(Problem(source, None, where, reason))

    if not isinstance(doc, dict):
        raise InputError([Problem(source, None, None, "is not a YAML mapping with name, pass_mark and indicators")])
    pass_mark = doc.get("pass_mark")
    if not isinstance(pass_mark, (int, float)) or isinstance(pass_mark, bool) or not 0 <= pass_mark <= 100:
        bad("pass_mark", f"must be a number from 0 to 100, not {pass_mark!r}")
    raw = doc.get("indicators")
    if not isinstance(raw, list) or not raw:
        bad("indicators", "must be a non-empty list of indicators")
        raw = []
    indicators, seen = [], set()
    for n, item in enumerate(raw, 1):
        where = f"indicators[{n}]"
        if not isinstance(item, dict):
            bad(where, "must be a mapping (key, title, type, weight, mandatory, evidence)")
            continue
        key = item.get("key")
        if not isinstance(key, str) or not key.strip():
            bad(f"{where}.key", "is missing")
            continue
        where = f"indicators[{key}]"
        if key in seen:
            bad(f"{where}.key", "is defined twice")
        seen.add(key)
        kind = item.get("type")
        if kind not in TYPES:
            bad(f"{where}.type", f"'{kind}' is not one of {', '.join(TYPES)}")
            continue
        weight = item.get("weight")
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0 or not math.isfinite(weight):
            bad(f"{where}.weight", f"must be a number >= 0, not {weight!r}")
            weight = 0
        for flag in ("mandatory", "evidence"):
            if not isinstance(item.get(flag, False), bool):
                bad(f"{where}.{flag}", "must be true or false")
        validity = item.get("validity_months")
        if validity is not None and (not isinstance(validity, int) or isinstance(validity, bool) or validity <= 0):
            bad(f"{where}.validity_months", f"must be a whole number of months > 0, not {validity!r}")
            validity = None
        levels, threshold, unit = {}, item.get("threshold"), item.get("unit")
        if kind == "level":
            levels = item.get("levels")
            if not isinstance(levels, dict) or not levels or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in levels.values()):
                bad(f"{where}.levels", "must map each level to points from 0 to 1")
                levels = {}
            levels = {str(k): float(v) for k, v in levels.items()}
            if levels and str(threshold) not in levels:
                bad(f"{where}.threshold", f"'{threshold}' is not one of the levels ({', '.join(levels)})")
        elif kind == "share":
            if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 < threshold <= 100:
                bad(f"{where}.threshold", f"must be a percentage above 0 and at most 100, not {threshold!r}")
            unit = "%"
        elif kind == "quantity":
            try:
                dimension_of(str(unit))
            except UnitError as exc:
                bad(f"{where}.unit", str(exc))
        title_zh = item.get("title_zh")
        if title_zh is not None and not (isinstance(title_zh, str) and title_zh.strip()):
            bad(f"{where}.title_zh", "must be a text (the indicator's Chinese title), or left out")
            title_zh = None
        indicators.append(Indicator(key, str(item.get("title") or key), kind, float(weight),
                                    bool(item.get("mandatory", False)), bool(item.get("evidence", False)),
                                    validity, threshold, unit, levels, title_zh.strip() if title_zh else None))
    if indicators and sum(i.weight for i in indicators) <= 0:
        bad("indicators", "the weights add up to 0; at least one indicator needs a weight above 0")
    engagement = doc.get("engagement") or {}
    share = engagement.get("target_share", 0.67) if isinstance(engagement, dict) else None
    if not isinstance(engagement, dict) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        bad("engagement.target_share", "must be a fraction above 0 and at most 1")
        engagement = {}
    programme = doc.get("programme") or {}
    goal = programme.get("goal_t", 0) if isinstance(programme, dict) else None
    if not isinstance(programme, dict) or not isinstance(goal, (int, float)) or goal < 0:
        bad("programme.goal_t", "must be a number of tCO2e >= 0")
        programme = {}
    name_zh = doc.get("name_zh")
    if name_zh is not None and not (isinstance(name_zh, str) and name_zh.strip()):
        bad("name_zh", "must be a text (the specification's Chinese name), or left out")
    if problems:
        raise InputError(problems)
    return Spec(str(doc.get("name") or "green specification"), str(doc.get("edition") or ""), float(pass_mark),
                tuple(indicators),
                {"target_share": float(engagement.get("target_share", 0.67)),
                 "target_year": engagement.get("target_year"),
                 "counts": list(engagement.get("counts") or ["validated"])},
                {"goal_t": float(programme.get("goal_t", 0)), "start_year": programme.get("start_year"),
                 "end_year": programme.get("end_year")}, name_zh.strip() if name_zh else None)


# --- one answer, as submitted ------------------------------------------------------------------------------------

def check_value(ind: Indicator, value: str, unit: str) -> tuple[str | None, str | None]:
    """(normalised value, None) or (None, reason): what a submission row's value and unit may be for ``ind``."""
    value, unit = (value or "").strip(), (unit or "").strip()
    if value == "":
        return None, "the value is empty"
    if ind.type == "certificate":
        if value.lower() in NO:
            return "no", None
        return value, None
    if ind.type == "declaration":
        low = value.lower()
        if low in YES:
            return "yes", None
        if low in NO:
            return "no", None
        return None, f"'{value}' is not yes or no"
    if ind.type == "level":
        if value.lower() not in ind.levels:
            return None, f"'{value}' is not one of {', '.join(ind.levels)}"
        return value.lower(), None
    try:
        number = float(value)
    except ValueError:
        return None, f"'{value}' is not a number"
    if not math.isfinite(number):
        return None, f"'{value}' is not a finite number"
    if ind.type == "share":
        if unit in ("%", "percent"):
            pct = number
        elif unit in ("", "1", "fraction"):
            pct = number * 100
        else:
            return None, f"unit '{unit}' is not a share; give % (0 to 100) or leave it empty for a fraction 0 to 1"
        if pct < 0 or pct > 100:
            return None, f"a share of {value}{'%' if unit in ('%', 'percent') else ''} is impossible; it must be " \
                         "from 0 to 100%"
        return f"{pct:g}", None
    # quantity
    if not unit:
        return None, f"a unit is required (e.g. {ind.unit})"
    try:
        factor = scale(unit, ind.unit)
    except UnitError:
        try:
            dim = _dimension_word(unit)
        except UnitError:
            return None, f"unknown unit '{unit}'; give {ind.unit}"
        return None, f"unit '{unit}' ({dim}) cannot be converted to {ind.unit} ({_dimension_word(ind.unit)})"
    if number < 0:
        return None, f"a negative amount ({value} {unit}) is impossible"
    return f"{number * factor:g}", None


_DIMENSIONS = (("[co2e]", "CO2e"), ("[energy]", "energy"), ("[mass]", "mass"), ("[length]", "length"),
               ("[length] ** 3", "volume"), ("[length] ** 2", "area"), ("[time]", "time"))


def _dimension_word(unit: str) -> str:
    """The dimension of a unit in a word (energy, mass, CO2e, ...), else pint's own notation."""
    from zerocarbon.units import quantity

    q = quantity(1.0, unit)
    return next((word for dim, word in _DIMENSIONS if q.check(dim)), dimension_of(unit))


# --- scoring -----------------------------------------------------------------------------------------------------

def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    import calendar

    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def expiry(ind: Indicator, a: Answer) -> date | None:
    """The last day an answer counts: its valid_until, or validity_months after it was answered (the earlier)."""
    ends = [d for d in (a.valid_until,
                        add_months(a.answered_on, ind.validity_months) if ind.validity_months and a.answered_on
                        else None) if d is not None]
    return min(ends) if ends else None


def evaluate_indicator(ind: Indicator, a: Answer | None, as_of: date) -> IndicatorResult:
    def res(points: float, met: bool, reason: str) -> IndicatorResult:
        return IndicatorResult(ind.key, ind.title, ind.weight, ind.mandatory, points, met, reason,
                               a.value if a is not None else None, ind.title_zh)

    if a is None:
        return res(0.0, False, "no accepted answer")
    if a.answered_on is not None and a.answered_on > as_of:
        return res(0.0, False, f"answered on {a.answered_on}, after {as_of}")
    ends = expiry(ind, a)
    if ends is not None and ends < as_of:
        return res(0.0, False, f"expired on {ends}")
    if ind.evidence and not a.evidence:
        return res(0.0, False, "evidence is required and none was given")
    if ind.type == "certificate":
        if a.value.lower() in NO:
            return res(0.0, False, "no certificate")
        return res(1.0, True, f"certificate {a.value}" + (f", valid until {ends}" if ends else ""))
    if ind.type == "declaration":
        ok = a.value.lower() in YES
        return res(1.0 if ok else 0.0, ok, "declared" if ok else "not declared")
    if ind.type == "level":
        points = ind.levels.get(a.value.lower(), 0.0)
        ok = points >= ind.threshold_points
        return res(points, ok, f"{a.value}: {'meets' if ok else 'below'} the threshold '{ind.threshold}'")
    if ind.type == "share":
        pct = float(a.value)
        points = min(pct / float(ind.threshold), 1.0)
        ok = pct >= float(ind.threshold)
        return res(points, ok, f"{pct:g}% {'>=' if ok else '<'} {float(ind.threshold):g}%")
    return res(1.0, True, f"disclosed: {float(a.value):g} {ind.unit}")


def evaluate(spec: Spec, supplier: str, answers: dict[str, Answer], as_of: date) -> Scorecard:
    """The scorecard of one supplier from its accepted answers (the latest per indicator), on ``as_of``."""
    results = tuple(evaluate_indicator(ind, answers.get(ind.key), as_of) for ind in spec.indicators)
    total = sum(r.weight for r in results)
    score = 100.0 * sum(r.weight * r.points for r in results) / total if total else 0.0
    score = round(score, 6)
    reasons = []
    if score < spec.pass_mark:
        reasons.append(f"score {score:.1f} is below the pass mark {spec.pass_mark:g}")
    reasons += [f"mandatory {r.key} not met: {r.reason}" for r in results if r.mandatory and not r.met]
    return Scorecard(supplier, as_of, score, not reasons, results, tuple(reasons))


def latest_answers(answers, as_of: date | None = None) -> dict[str, Answer]:
    """The latest answer per indicator (by answered_on, later rows winning ties), up to ``as_of``."""
    out: dict[str, Answer] = {}
    for a in sorted(answers, key=lambda a: a.answered_on or date.min):
        if as_of is not None and a.answered_on is not None and a.answered_on > as_of:
            continue
        out[a.indicator] = a
    return out


# --- compliance of the supplier base -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SupplierFacts:
    code: str
    annual_spend: float | None
    currency: str | None
    emissions_t: float | None
    tier: int | None = None


@dataclass(frozen=True)
class Compliance:
    suppliers: int
    passing: int
    share_by_count: float | None  # None: no suppliers
    spend_by_currency: dict[str, dict]  # currency -> {"total", "passing", "share"}
    share_by_spend: float | None  # None: no spend, or spend in several currencies
    note: str


def compliance(cards: dict[str, Scorecard], suppliers: list[SupplierFacts]) -> Compliance:
    """Share of suppliers that pass, by count and by annual spend (per currency; one overall share only when all
    spend is in one currency). A supplier without a scorecard counts as not passing."""
    n = len(suppliers)
    passing = [s for s in suppliers if cards.get(s.code) is not None and cards[s.code].passed]
    by_cur: dict[str, dict] = {}
    for s in suppliers:
        if s.annual_spend is None or not s.currency:
            continue
        c = by_cur.setdefault(s.currency, {"total": 0.0, "passing": 0.0})
        c["total"] += s.annual_spend
        if cards.get(s.code) is not None and cards[s.code].passed:
            c["passing"] += s.annual_spend
    for c in by_cur.values():
        c["share"] = c["passing"] / c["total"] if c["total"] > 0 else None
    if len(by_cur) == 1:
        share_spend, note = next(iter(by_cur.values()))["share"], ""
    elif not by_cur:
        share_spend, note = None, "no supplier has an annual spend"
    else:
        share_spend, note = None, (f"spend is in {len(by_cur)} currencies ({', '.join(sorted(by_cur))}); the share "
                                   "is given per currency, never added up without an exchange rate")
    missing = sum(1 for s in suppliers if s.annual_spend is None or not s.currency)
    if missing and by_cur:
        note = (note + "; " if note else "") + f"{missing} supplier(s) without annual spend are left out of the spend share"
    return Compliance(n, len(passing), len(passing) / n if n else None, by_cur, share_spend, note)


def periods(start: date, end: date, by: str = "quarter") -> list[tuple[str, date]]:
    """(label, last day) of each quarter or year from ``start`` to ``end``."""
    out = []
    if by == "year":
        for y in range(start.year, end.year + 1):
            out.append((str(y), date(y, 12, 31)))
        return out
    if by != "quarter":
        raise ValueError(f"period '{by}' is not quarter or year")
    y, q = start.year, (start.month - 1) // 3 + 1
    while (y, q) <= (end.year, (end.month - 1) // 3 + 1):
        last = add_months(date(y, 3 * q, 1), 1).replace(day=1)
        from datetime import timedelta

        out.append((f"{y}Q{q}", last - timedelta(days=1)))
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out


def trend(spec: Spec, suppliers: list[SupplierFacts], answers: dict[str, list[Answer]],
          ends: list[tuple[str, date]]) -> list[dict]:
    """Compliance at the end of each period, from the answers accepted by then (each supplier re-scored on the
    period's last day, so expiring certificates count as they did then)."""
    out = []
    for label, last in ends:
        cards = {s.code: evaluate(spec, s.code, latest_answers(answers.get(s.code, ()), last), last)
                 for s in suppliers}
        c = compliance(cards, suppliers)
        out.append({"period": label, "as_of": last.isoformat(), "suppliers": c.suppliers, "passing": c.passing,
                    "share_by_count": c.share_by_count, "share_by_spend": c.share_by_spend,
                    "spend_by_currency": c.spend_by_currency})
    return out


# --- supplier engagement (science-based targets) -----------------------------------------------------------------

def engagement(spec: Spec, suppliers: list[SupplierFacts], cards: dict[str, Scorecard]) -> dict:
    """Share of supplier emissions (emissions_t) from suppliers whose SBT status (indicator ``sbti``, as accepted
    and unexpired) is among the counted statuses, against the target of the specification."""
    counts = set(spec.engagement.get("counts") or ["validated"])
    total = sum(s.emissions_t for s in suppliers if s.emissions_t is not None)
    by_status: dict[str, float] = {}
    for s in suppliers:
        if s.emissions_t is None:
            continue
        card = cards.get(s.code)
        res = next((r for r in card.results if r.key == "sbti"), None) if card else None
        status = res.value.lower() if res is not None and res.value and not res.reason.startswith(
            ("expired", "no accepted")) else "none"
        by_status[status] = by_status.get(status, 0.0) + s.emissions_t
    covered = sum(v for k, v in by_status.items() if k in counts)
    share = covered / total if total > 0 else None
    target = spec.engagement.get("target_share")
    without = sum(1 for s in suppliers if s.emissions_t is None)
    return {"emissions_t": total, "covered_t": covered, "share": share, "target_share": target,
            "target_year": spec.engagement.get("target_year"), "counts": sorted(counts),
            "by_status_t": by_status, "on_track": None if share is None else share >= target,
            "suppliers_without_emissions": without}


__all__ = ["Answer", "Compliance", "Indicator", "IndicatorResult", "Scorecard", "Spec", "SupplierFacts",
           "check_value", "compliance", "engagement", "evaluate", "expiry", "latest_answers", "parse_spec",
           "periods", "shipped_spec", "shipped_text", "trend"]
