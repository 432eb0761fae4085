"""A framework's report of one year: each data point of the catalogue answered by a fact, in the point's unit.

A value is converted with pint (MWh to GJ, kg to t). Pseudo units (fraction, text, year, bool) and coal
equivalents (``tce``, ``tce/unit``, ``tce/CNY``: GB/T 2589 reports them by name) are never converted: the fact
must already be in the point's unit, else the line is MISSING and says why. A fact that cannot be given keeps
its own reason; nothing becomes a zero.

Beside each value: the prior year as the platform computes it now, the prior year as it was published (when a
publication exists), whether the two differ (a restatement, with the reasons the caller found), and the
year-on-year change.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence

from zerocarbon.core.disclosure.model import (BOOL, MISSING, PSEUDO_UNITS, REPORTED, TEXT, YEAR, DataPoint, Fact,
                                              Framework, Part, Report, ReportLine)
from zerocarbon.errors import UnitError
from zerocarbon.units import scale

ENTER_INPUTS = "zerocarbon disclose inputs import FILE"
RELATIVE = 1e-9   # two published figures closer than this are the same figure


def _by_name(unit: str) -> bool:
    """True for a unit that must match exactly: a pseudo unit or a coal equivalent."""
    u = (unit or "").strip()
    return u in PSEUDO_UNITS or u.startswith("tce")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def converter(from_unit: str, to_unit: str) -> tuple[float | None, str, str]:
    """The multiplier from ``from_unit`` to ``to_unit``; ``(None, reason, reason_zh)`` when there is none.

    1.0 when the units are the same text; units reported by name (pseudo units, ``tce*``) only convert to
    themselves.
    """
    f, t = (from_unit or "").strip(), (to_unit or "").strip()
    if f == t:
        return 1.0, "", ""
    if _by_name(f) or _by_name(t):
        return (None, f"the figure is in '{f}' and the data point asks for '{t}'; '{t}' is reported as it is, "
                      f"never converted: enter or compute it in '{t}'",
                f"数据单位为'{f}',披露项要求'{t}';'{t}'不做换算,请以'{t}'录入或计算")
    try:
        return scale(f, t), "", ""
    except UnitError as exc:
        return (None, f"the figure is in '{f}', which cannot be converted to '{t}' ({exc}); enter it in '{t}' "
                      f"or a unit convertible to it",
                f"数据单位'{f}'无法换算为披露项要求的'{t}';请以'{t}'或可换算的单位录入")


def _how_to_get(fact_key: str) -> tuple[str, str]:
    if fact_key.startswith(("text.", "input.")):
        return (f"no value entered for '{fact_key}'; enter it in the disclosure inputs file and import it: "
                f"`{ENTER_INPUTS}`",
                f"未录入'{fact_key}';请在披露输入文件中填写后导入:`{ENTER_INPUTS}`")
    return (f"the platform knows no fact '{fact_key}'; the catalogue row names a fact that is not computed",
            f"平台没有名为'{fact_key}'的数据;目录行引用了未计算的数据项")


def _line_value(point: DataPoint, fact: Fact | None):
    """(value, breakdown, status, reason, reason_zh) of ``fact`` in the point's unit."""
    if fact is None:
        return (None, (), MISSING) + _how_to_get(point.fact)
    if not fact.reported:
        return None, (), fact.status, fact.reason, fact.reason_zh
    value = fact.value
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return (None, (), MISSING, f"'{fact.key}' has no usable value ({value!r}); check its source data",
                f"'{fact.key}'没有有效数值({value!r});请核对其来源数据")
    k, reason, reason_zh = converter(fact.unit, point.unit)
    if k is None:
        return None, (), MISSING, reason, reason_zh
    if point.unit in (TEXT, YEAR, BOOL) or not _is_number(value):
        return value, fact.breakdown, REPORTED, "", ""
    if k == 1.0:
        return value, fact.breakdown, REPORTED, "", ""
    parts = tuple(Part(p.label, p.value * k, p.label_zh) for p in fact.breakdown)
    return value * k, parts, REPORTED, "", ""


def _prior_value(point: DataPoint, fact: Fact | None):
    if fact is None:
        return None
    value, _, status, _, _ = _line_value(point, fact)
    return value if status == REPORTED else None


def _published_value(point: DataPoint, published) -> object:
    """A published prior-year fact in the point's unit: a stored ``{value, unit, status}`` (what a publication
    keeps), a :class:`Fact`, or a bare value taken to be in the point's unit."""
    if published is None:
        return None
    if isinstance(published, Fact):
        return _prior_value(point, published)
    if isinstance(published, Mapping):
        if published.get("status", REPORTED) != REPORTED or published.get("value") is None:
            return None
        value = published["value"]
        if not _is_number(value):
            return value
        k, _, _ = converter(str(published.get("unit") or point.unit), point.unit)
        return None if k is None else value * k
    return published


def same(a, b) -> bool:
    """Equal figures: numbers within a relative 1e-9, anything else by equality."""
    if _is_number(a) and _is_number(b):
        return math.isclose(float(a), float(b), rel_tol=RELATIVE, abs_tol=1e-12)
    return a == b


def _change(value, prior) -> float | None:
    if _is_number(value) and _is_number(prior) and prior != 0:
        return (value - prior) / prior
    return None


def _restatement(restatements: Sequence[str], published) -> str:
    if restatements:
        return "; ".join(r for r in restatements if r)
    return (f"the prior year as computed now differs from the figure published ({published}); no recorded change "
            "explains it: check the prior year's data and inventory")


def _restatement_zh(restatements: Sequence[str], published) -> str:
    if restatements:
        return ";".join(r for r in restatements if r)
    return f"上年数据按现时计算与已披露数({published})不同,且无记录的变更可解释:请核查上年数据与清单"


def facts_fingerprint(facts: Mapping[str, Fact]) -> str:
    """SHA-256 (hex) of the facts' keys, values, units and statuses, sorted by key: what a publication pins."""
    rows = [[key, _json_value(f.value), f.unit, f.status] for key, f in sorted(facts.items())]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def build_report(framework: Framework, points: Sequence[DataPoint], facts: Mapping[str, Fact], *, org: str,
                 org_name: str, year: int, prior: Mapping[str, Fact] | None = None,
                 published_prior: Mapping[str, object] | None = None, restatements: Sequence[str] = (),
                 meta: dict | None = None, generated_at: str = "", restatements_zh: Sequence[str] = ()) -> Report:
    """The framework's data points answered by ``facts`` (of ``year``), beside ``prior`` (year - 1 as computed
    now) and ``published_prior`` (year - 1 as published, by fact key), with the checks run.

    Lines keep the order of ``points``. ``restatements``: why prior-year figures may differ from those published
    (base-year changes, replaced batches, another factor set); given to every restated line (``restatements_zh``:
    the same in Chinese).
    ``Report.fingerprint``: :func:`facts_fingerprint` of the facts the lines use.
    """
    from zerocarbon.core.disclosure.checks import run_checks

    prior = prior or {}
    published_prior = published_prior or {}
    lines: list[ReportLine] = []
    for point in points:
        fact = facts.get(point.fact)
        value, parts, status, reason, reason_zh = _line_value(point, fact)
        before = _prior_value(point, prior.get(point.fact))
        published = _published_value(point, published_prior.get(point.fact)) \
            if point.fact in published_prior else None
        # Narratives and labels are reworded from year to year; only a figure is restated.
        restated = (point.fact in published_prior and _is_number(published) and point.unit not in (YEAR, BOOL)
                    and not same(before, published))
        lines.append(ReportLine(
            point=point, value=value, status=status, reason=reason, reason_zh=reason_zh, breakdown=parts,
            lineage=dict(fact.lineage) if fact is not None else {}, prior=before, published_prior=published,
            restated=restated, restatement=_restatement(restatements, published) if restated else "",
            restatement_zh=_restatement_zh(restatements_zh, published) if restated else "",
            change=_change(value, before) if status == REPORTED and point.unit not in (YEAR, BOOL) else None))
    used = {line.point.fact: facts[line.point.fact] for line in lines if line.point.fact in facts}
    report = Report(framework=framework, org=org, org_name=org_name, year=year, lines=lines,
                    generated_at=generated_at, fingerprint=facts_fingerprint(used), meta=dict(meta or {}))
    report.checks = run_checks(report, facts)
    return report
