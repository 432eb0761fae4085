"""A report as an Inline XBRL 1.1 document (XHTML), for the frameworks with a taxonomy (IFRS S2, ESRS E1), and
its validation with Arelle, offline.

What is tagged: a REPORTED line whose data point has an XBRL element (the catalogue's ``xbrl`` column, with the
framework's prefix) and whose unit has an XBRL measure; numbers as ``ix:nonFraction`` (``decimals`` = the places
shown, ``format`` ``ixt:num-dot-decimal``, ``sign="-"`` for a negative), text, years and yes/no answers as
``ix:nonNumeric``. Everything else, and the prior year, is shown untagged.

Units: the XBRL Units Type Registry (namespace ``http://www.xbrl.org/2009/utr``; ``tCO2e`` of item type
``ghgEmissionsItemType``, ``t``, ``kg``, ``MWh``, ``kWh``, ``GJ``, ``TJ``, ``m3``), ISO 4217 currencies
(``iso4217:CNY``), ``xbrli:pure`` for fractions (shown as percentages with ``scale="-2"``), and a ratio of two of
these (``tCO2e/CNY``) as a divide. ``tce`` and per-unit-produced ratios have no registered measure: untagged.

Entity: the LEI under ``http://standards.iso.org/iso/17442`` when ``report.meta["lei"]`` is given, else the
organisation code under :data:`ENTITY_SCHEME`. Period: ``report.meta["period"]`` (``YYYY-MM-DD/YYYY-MM-DD``) or
the calendar year, as a duration; an instant at its end for the elements named in ``instant``.
"""
from __future__ import annotations

import logging
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from collections.abc import Sequence
from pathlib import Path

from zerocarbon.core.disclosure.model import BOOL, FRACTION, MISSING, NOT_APPLICABLE, REPORTED, TEXT, YEAR, Report
from zerocarbon.io.disclosure.html import _env
from zerocarbon.io.disclosure.text import (
    anchor, change_text, decimals, has_lineage, is_number, lineage_rows, number_text, prior_text, sections, t,
    unit_text, value_text,
)

ENTITY_SCHEME = "urn:zerocarbon:organisation-code"
LEI_SCHEME = "http://standards.iso.org/iso/17442"
UTR_MEASURES = frozenset({"tCO2e", "t", "kg", "MWh", "kWh", "GJ", "TJ", "m3"})
_QNAME = re.compile(r"^([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*)$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
SCHEMA_REF = "{http://www.xbrl.org/2003/linkbase}schemaRef"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_PERIOD = re.compile(r"^(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})$")


def measure(unit: str) -> str | None:
    """The XBRL measure (``prefix:name``) of a simple unit, or None when no registry has one."""
    if unit in UTR_MEASURES:
        return f"utr:{unit}"
    if _CURRENCY.match(unit):
        return f"iso4217:{unit}"
    if unit == FRACTION:
        return "xbrli:pure"
    return None


def xbrl_unit(unit: str) -> tuple[str, str, str] | None:
    """(unit id, numerator measure, denominator measure or "") for ``unit``, or None when it cannot be tagged."""
    num, _, den = unit.partition("/")
    top = measure(num.strip())
    if top is None:
        return None
    if not den:
        return re.sub(r"\W", "_", f"u_{num}"), top, ""
    bottom = measure(den.strip())
    if bottom is None or "pure" in bottom or "pure" in top:
        return None
    return re.sub(r"\W", "_", f"u_{num}_per_{den}"), top, bottom


def _period(report: Report) -> tuple[str, str]:
    m = _PERIOD.match(str(report.meta.get("period", "")))
    if m:
        return m.group(1), m.group(2)
    return f"{report.year}-01-01", f"{report.year}-12-31"


def render_ixbrl(report: Report, *, instant: frozenset[str] | set[str] = frozenset()) -> bytes:
    """The report as an Inline XBRL 1.1 XHTML document (UTF-8 bytes), labels in English and Chinese.

    ``instant``: element names (``prefix:Name``) whose period type in the taxonomy is instant; they get a context
    at the period's end. Raises ValueError when the framework has no taxonomy.
    """
    fw = report.framework
    if not (fw.taxonomy and fw.namespace and fw.prefix):
        raise ValueError(f"framework {fw.id!r} has no XBRL taxonomy: Inline XBRL is made for frameworks with one "
                         "(issb_s2, esrs_e1)")
    start, end = _period(report)
    duration_id, instant_id = f"c_{report.year}", f"c_{report.year}_end"
    units: dict[str, dict] = {}
    used_instant = False
    index = {id(line): i for i, line in enumerate(report.lines)}
    out_sections = []
    n_fact = 0
    for section, lines in sections(report):
        rows = []
        for line in lines:
            p, unit = line.point, line.point.unit
            missing = line.status in (MISSING, NOT_APPLICABLE) or line.value is None
            row = {"id": p.id, "label_en": p.label_en, "label_zh": p.label_zh,
                   "anchor": anchor(line, index[id(line)]), "missing": missing,
                   "requirement": f"{t(p.requirement, 'en')} / {t(p.requirement, 'zh')}",
                   "status_label": f"{t(line.status, 'en')} / {t(line.status, 'zh')}",
                   "reason_en": f"{t(line.status, 'en')}: {line.reason or line.reason_zh}",
                   "reason_zh": f"{t(line.status, 'zh')}:{line.reason_zh or line.reason}",
                   "numeric": is_number(line.value), "unit": unit_text(unit),
                   "prior": prior_text(line, "en"), "change": change_text(line.change),
                   "restated": line.restated, "restatement": " / ".join(x for x in (line.restatement, line.restatement_zh) if x),
                   "published_prior": value_text(line.published_prior, unit, "en")
                   if line.published_prior is not None else "",
                   "has_lineage": has_lineage(line), "tag": "",
                   "shown": "" if missing else value_text(line.value, unit, "en"),
                   "breakdown": [{"label": f"{q.label} {q.label_zh}".strip(), "value": value_text(q.value, unit, "en")}
                                 for q in line.breakdown]}
            m = _QNAME.match(p.xbrl or "")
            if line.status == REPORTED and not missing and m and m.group(1) == fw.prefix:
                context = instant_id if p.xbrl in instant else duration_id
                tagged = _tag(row, line.value, unit, units)
                if tagged:
                    n_fact += 1
                    used_instant |= context == instant_id
                    row.update(element=p.xbrl, context=context, fact_id=f"f{n_fact}")
            rows.append(row)
        out_sections.append((section, rows))
    contexts = [{"id": duration_id, "start": start, "end": end}]
    if used_instant:
        contexts.append({"id": instant_id, "instant": end})
    lei = str(report.meta.get("lei", "")).strip()
    checks = [{"level": c.level, "level_label": f"{t(c.level, 'en')} / {t(c.level, 'zh')}",
               "kind_label": f"{t(c.kind, 'en')} / {t(c.kind, 'zh')}", "point": c.point, "message": c.message,
               "message_zh": c.message_zh} for c in report.checks]
    lineage = [{"anchor": anchor(line, i), "id": line.point.id,
                "label": f"{line.point.label_en} / {line.point.label_zh}", "rows": lineage_rows(line)}
               for i, line in enumerate(report.lines) if has_lineage(line)]
    meta = [(k.replace("_", " "), v) for k, v in sorted(report.meta.items())]
    text = _env().get_template("ixbrl.xhtml").render(
        report=report, fw=fw, contexts=contexts, units=list(units.values()),
        scheme=LEI_SCHEME if lei else ENTITY_SCHEME, identifier=lei or report.org,
        period_start=start, period_end=end, sections=out_sections, checks=checks, lineage=lineage, meta=meta,
        untagged_note=f"{t('untagged_note', 'en')} / {t('untagged_note', 'zh')}")
    return text.encode("utf-8")


def _tag(row: dict, value, unit: str, units: dict) -> bool:
    """Fill ``row`` with what its fact tag needs; False when the value cannot be tagged."""
    if unit == TEXT and isinstance(value, str):
        row.update(tag="nonNumeric", format="")
        return True
    if unit == BOOL and isinstance(value, bool):
        # The words shown are translated; the fact value comes from the transformation.
        row.update(tag="nonNumeric", format="ixt:fixed-true" if value else "ixt:fixed-false")
        return True
    if unit == YEAR and is_number(value):
        row.update(tag="nonNumeric", format="", shown=str(int(value)))
        return True
    if not is_number(value):
        return False
    spec = xbrl_unit(unit)
    if spec is None:
        return False
    unit_id, numerator, denominator = spec
    units.setdefault(unit_id, {"id": unit_id, "numerator": numerator, "denominator": denominator})
    row.update(tag="nonFraction", unit_id=unit_id, decimals=decimals(value, unit),
               scale="-2" if unit == FRACTION else "", sign=value < 0,
               shown=number_text(abs(value), unit))
    return True


# --- validation ----------------------------------------------------------------------------------------------

# What Arelle says when the taxonomy cannot be read offline: the schemaRef's file cannot be loaded (IOerror naming
# it), and then every tagged fact lacks its schema definition. Neither is a fault of the document.
MISSING_DEFINITION = "ix11.12.1.2:missingReferences"
_lock = threading.Lock()


@dataclass
class IxbrlValidation:
    """Arelle's findings on an Inline XBRL document, offline.

    ``problems``: errors of the document itself (XML well-formedness, XHTML and Inline XBRL 1.1 schema and rules,
    contexts, units, transformations, duplicate ids); ``taxonomy``: the messages that come from the taxonomy not
    being available offline (the schemaRef cannot be resolved, so every element is unknown); ``codes``: the
    message code of each entry of ``problems``, in order.
    """

    problems: list[str] = field(default_factory=list)
    taxonomy: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.INFO)
        self.records: list[tuple[str, str, str]] = []

    def emit(self, record):
        code = str(getattr(record, "messageCode", "") or "")
        try:
            message = record.getMessage()
        except Exception:  # Arelle formats some messages with its own arguments
            message = str(record.msg)
        self.records.append((record.levelname, code, message))


def _schema_refs(path: Path) -> list[str]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return []
    return [el.get(XLINK_HREF, "") for el in root.iter(SCHEMA_REF) if el.get(XLINK_HREF)]


IX = "{http://www.xbrl.org/2013/inlineXBRL}"
XBRLI = "{http://www.xbrl.org/2003/instance}"


def _references(path: Path) -> list[tuple[str, str]]:
    """(code, message) for every fact whose contextRef or unitRef names nothing, every context whose period
    ends before it starts, and every measure with an undeclared prefix. Arelle checks these only against the
    taxonomy's elements, so without the taxonomy they are checked here."""
    prefixes: set[str] = set()
    try:
        for _event, (prefix, _uri) in ET.iterparse(path, events=("start-ns",)):
            prefixes.add(prefix)
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return []  # Arelle reports the syntax error itself
    contexts = {el.get("id") for el in root.iter(f"{XBRLI}context")}
    units = {el.get("id") for el in root.iter(f"{XBRLI}unit")}
    found = []
    for tag in ("nonFraction", "nonNumeric", "fraction"):
        for el in root.iter(f"{IX}{tag}"):
            name = el.get("name", "?")
            ref = el.get("contextRef")
            if ref is not None and ref not in contexts:
                found.append(("xbrl.4.6.1:itemContextRef",
                              f"ix:{tag} {name}: contextRef {ref!r} names no xbrli:context"))
            if tag != "nonNumeric":
                unit = el.get("unitRef")
                if unit is None:
                    found.append(("xbrl.4.6.2:numericUnit", f"ix:{tag} {name} has no unitRef"))
                elif unit not in units:
                    found.append(("xbrl.4.6.2:numericUnit", f"ix:{tag} {name}: unitRef {unit!r} names no xbrli:unit"))
    for context in root.iter(f"{XBRLI}context"):
        start, end = context.findtext(f".//{XBRLI}startDate"), context.findtext(f".//{XBRLI}endDate")
        if start and end and start.strip() > end.strip():
            found.append(("xbrl.4.7.2:periodStartBeforeEnd",
                          f"context {context.get('id')!r}: period ends ({end}) before it starts ({start})"))
    for el in root.iter(f"{XBRLI}measure"):
        prefix = (el.text or "").strip().partition(":")[0]
        if ":" in (el.text or "") and prefix not in prefixes:
            found.append(("xbrl.4.8.2:measurePrefix", f"measure {el.text.strip()!r}: prefix {prefix!r} is not declared"))
    return found


def _is_taxonomy(code: str, message: str, refs: list[str], unresolved: bool) -> bool:
    """True for the message that the schemaRef cannot be loaded, and, once it could not, for the facts whose
    elements are therefore undefined (with the taxonomy loaded, an undefined element is a real problem)."""
    if code == MISSING_DEFINITION:
        return unresolved
    return code == "IOerror" and any(ref in message for ref in refs)


def check_ixbrl(path: Path, *, packages: Sequence[Path] = ()) -> IxbrlValidation:
    """Validate the Inline XBRL document at ``path`` with Arelle, offline (no download is ever tried), and sort
    its messages into problems of the document and consequences of the missing taxonomy.

    ``packages``: taxonomy packages (ZIP files, e.g. the ESRS Set 1 or IFRS SDS taxonomy package) to resolve the
    schemaRef from; with the right one, ``taxonomy`` is empty and the facts are checked against their elements
    too (types, period types, units).
    """
    try:
        from arelle.api.Session import Session
        from arelle.RuntimeOptions import RuntimeOptions
    except ImportError as exc:
        raise RuntimeError("Inline XBRL validation needs Arelle: `pip install arelle-release==2.47.3`") from exc
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    handler = _Collect()
    options = RuntimeOptions(entrypointFile=str(path), validate=True, workOffline=True,
                             disablePersistentConfig=True, logLevel="INFO", keepOpen=False,
                             packages=[str(p) for p in packages] or None)
    with _lock, Session() as session:
        session.run(options, logHandler=handler)
    result = IxbrlValidation()
    refs = _schema_refs(path)
    unresolved = any(_is_taxonomy(code, message, refs, False) for _level, code, message in handler.records)
    for level, code, message in handler.records:
        if level not in ("ERROR", "CRITICAL", "WARNING"):
            continue
        text = f"[{code}] {message}" if code else message
        if _is_taxonomy(code, message, refs, unresolved):
            result.taxonomy.append(text)
        else:
            result.problems.append(text)
            result.codes.append(code)
    for code, message in _references(path):
        result.problems.append(f"[{code}] {message}")
        result.codes.append(code)
    return result

