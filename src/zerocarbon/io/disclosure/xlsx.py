"""A report as an XLSX workbook, bilingual: the report's sheet, its checks, and the lineage of every figure.

Numbers are written as numbers with a number format showing the precision of the other formats (percentages for
fractions), so a reader can sum and chart them; a data point with no value carries its reason in the value cell,
never a blank or a zero. Every text cell goes through :func:`zerocarbon.io.spreadsheet.neutralise`.
"""
from __future__ import annotations

from io import BytesIO
from typing import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from zerocarbon.core.disclosure.model import FRACTION, MISSING, NOT_APPLICABLE, YEAR, Report, ReportLine
from zerocarbon.io.disclosure.text import LABELS, both, decimals, has_lineage, is_number, lineage_rows, t, unit_text
from zerocarbon.io.spreadsheet import neutralise

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEAD_FILL = PatternFill("solid", fgColor="DDE7F0")
MISSING_FONT = Font(italic=True, color="9C0006")
WRAP = Alignment(wrap_text=True, vertical="top")

COLUMNS = ("id", "datum_en", "datum_zh", "value", "unit", "prior", "change", "restated", "restatement", "status",
           "reason_en", "reason_zh")
WIDTHS = (14, 40, 30, 18, 10, 16, 10, 10, 40, 12, 50, 40)


def _number_format(value, unit: str) -> str:
    if unit == YEAR:
        return "0"
    places = decimals(value, unit)
    if unit == FRACTION:
        return "0." + "0" * (places - 2) + "%" if places > 2 else "0%"
    return "#,##0" + ("." + "0" * places if places else "")


def _put(ws, row: int, col: int, value, unit: str = ""):
    """Write ``value``: a number with its format, a boolean as a word pair, text neutralised."""
    cell = ws.cell(row=row, column=col)
    if is_number(value):
        cell.value = value
        cell.number_format = _number_format(value, unit)
    elif isinstance(value, bool):
        cell.value = f"{t('yes' if value else 'no', 'en')} / {t('yes' if value else 'no', 'zh')}"
    elif value is None:
        cell.value = None
    else:
        cell.value = neutralise(str(value))
    return cell


def _sheet_title(text: str, taken: set[str]) -> str:
    base = "".join(c for c in text if c not in '[]:*?/\\')[:28] or "report"
    title, n = base, 2
    while title.lower() in taken:
        title, n = f"{base[:25]}-{n}", n + 1
    taken.add(title.lower())
    return title


def _cover(ws, report: Report) -> int:
    fw = report.framework
    ws.cell(row=1, column=1, value=neutralise(f"{fw.name_en} / {fw.name_zh}")).font = TITLE
    rows = [("organisation", f"{report.org_name} ({report.org})"), ("year", report.year),
            ("edition", fw.edition), ("generated_at", report.generated_at), ("fingerprint", report.fingerprint)]
    rows += [(k, v) for k, v in sorted(report.meta.items())]
    r = 2
    for key, value in rows:
        head = ws.cell(row=r, column=1, value=neutralise(both(key) if key in LABELS else str(key)))
        head.font = BOLD
        cell = _put(ws, r, 2, value if not isinstance(value, (dict, list)) else str(value))
        if key == "year":
            cell.number_format = "0"
        r += 1
    return r + 1


def _line_rows(ws, r: int, line: ReportLine) -> int:
    p = line.point
    reason_en, reason_zh = line.reason or line.reason_zh, line.reason_zh or line.reason
    values = {"id": p.id, "datum_en": p.label_en, "datum_zh": p.label_zh, "unit": unit_text(p.unit),
              "restated": f"{t('yes', 'en')} / {t('yes', 'zh')}" if line.restated else "",
              "restatement": "\n".join(x for x in (line.restatement, line.restatement_zh) if x),
              "status": f"{t(line.status, 'en')} / {t(line.status, 'zh')}",
              "reason_en": reason_en if line.status != "reported" else "",
              "reason_zh": reason_zh if line.status != "reported" else ""}
    for c, name in enumerate(COLUMNS, start=1):
        if name == "value":
            if line.status in (MISSING, NOT_APPLICABLE) or line.value is None:
                # The reason stands where the number would be: a blank reads as zero in a spreadsheet.
                cell = _put(ws, r, c, f"{t(line.status, 'en')}: {reason_en} / {t(line.status, 'zh')}:{reason_zh}")
                cell.font = MISSING_FONT
            elif isinstance(line.value, str) and line.lineage.get("value_zh"):
                _put(ws, r, c, f"{line.value}\n{line.lineage['value_zh']}", p.unit)  # a narrative in both languages
            else:
                _put(ws, r, c, line.value, p.unit)
        elif name == "prior":
            _put(ws, r, c, line.prior if line.prior is not None else f"{t('no_prior', 'en')} / {t('no_prior', 'zh')}",
                 p.unit)
        elif name == "change":
            if is_number(line.change):
                ws.cell(row=r, column=c, value=line.change).number_format = "+0.0%;-0.0%;0.0%"
        else:
            _put(ws, r, c, values[name])
    for part in line.breakdown:
        r += 1
        _put(ws, r, 1, f"{p.id} · {part.label}")
        _put(ws, r, 2, f"    {part.label}")
        _put(ws, r, 3, f"    {part.label_zh or part.label}")
        _put(ws, r, 4, part.value, p.unit)
        _put(ws, r, 5, p.unit)
        _put(ws, r, 10, f"{t('breakdown', 'en')} / {t('breakdown', 'zh')}")
    return r + 1


def _report_sheet(ws, report: Report) -> None:
    r = _cover(ws, report)
    for c, name in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=r, column=c, value=both(name))
        cell.font, cell.fill, cell.alignment = BOLD, HEAD_FILL, WRAP
    ws.freeze_panes = ws.cell(row=r + 1, column=3)
    r += 1
    for line in report.lines:
        r = _line_rows(ws, r, line)
    for c, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width


def _checks_sheet(ws, reports: Sequence[Report]) -> None:
    labels = ("Framework / 披露框架", both("level"), both("kind"), both("point"), "Message / 说明(英文)",
              "Message (Chinese) / 说明(中文)")
    for c, text in enumerate(labels, start=1):
        cell = ws.cell(row=1, column=c, value=text)
        cell.font, cell.fill = BOLD, HEAD_FILL
    r = 2
    for report in reports:
        for check in report.checks:
            row = (report.framework.id, f"{t(check.level, 'en')} / {t(check.level, 'zh')}",
                   f"{t(check.kind, 'en')} / {t(check.kind, 'zh')}", check.point, check.message, check.message_zh)
            for c, value in enumerate(row, start=1):
                _put(ws, r, c, value)
            r += 1
    if r == 2:
        _put(ws, 2, 1, f"{t('no_checks', 'en')} / {t('no_checks', 'zh')}")
    ws.freeze_panes = "A2"
    for c, width in enumerate((12, 16, 22, 14, 60, 50), start=1):
        ws.column_dimensions[get_column_letter(c)].width = width


def _lineage_sheet(ws, reports: Sequence[Report]) -> None:
    labels = ("Framework / 披露框架", both("id"), both("fact"), both("source"), both("filter"), both("inventory"),
              both("files"), both("factors"), both("derived_from"), both("other"))
    for c, text in enumerate(labels, start=1):
        cell = ws.cell(row=1, column=c, value=text)
        cell.font, cell.fill, cell.alignment = BOLD, HEAD_FILL, WRAP
    r = 2
    for report in reports:
        for line in report.lines:
            if not has_lineage(line):
                continue
            lin = lineage_rows(line)
            files = "\n".join(f"{name} sha256={sha}" + (f" ({kind}, {rows} rows)" if kind or rows else "")
                              for name, sha, kind, rows in lin.files)
            row = (report.framework.id, line.point.id, lin.fact, lin.source, lin.filter, lin.inventory, files,
                   "\n".join(lin.factors), lin.derived_from, lin.other)
            for c, value in enumerate(row, start=1):
                _put(ws, r, c, value).alignment = WRAP
            r += 1
    ws.freeze_panes = "C2"
    for c, width in enumerate((12, 14, 28, 12, 26, 40, 70, 36, 36, 30), start=1):
        ws.column_dimensions[get_column_letter(c)].width = width


def render_xlsx(reports: Report | Sequence[Report]) -> bytes:
    """One sheet per report, then ``Checks`` and ``Lineage`` sheets covering all of them; XLSX bytes."""
    reports = [reports] if isinstance(reports, Report) else list(reports)
    wb = Workbook()
    taken = {"checks", "lineage"}
    first = True
    for report in reports:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = _sheet_title(f"{report.framework.id} {report.year}", taken)
        _report_sheet(ws, report)
    _checks_sheet(wb.create_sheet("Checks"), reports)
    _lineage_sheet(wb.create_sheet("Lineage"), reports)
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()
