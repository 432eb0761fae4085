"""Disclosure reports as files: XLSX (bilingual), HTML and PDF (English or Chinese), and Inline XBRL for the
frameworks with a taxonomy (IFRS S2, ESRS E1).

Every format shows each data point's value in the point's unit, the prior year, the change, restatements with
their reasons, missing data points with their reasons, the checks, and the lineage of every figure. See
``docs/disclosure-formats.md``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from zerocarbon.core.disclosure.model import Report
from zerocarbon.io.disclosure.text import LANGS, check_lang

FORMATS = ("xlsx", "html", "pdf", "ixbrl")
EXTENSIONS = {"xlsx": "xlsx", "html": "html", "pdf": "pdf", "ixbrl": "xhtml"}
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "html": "text/html; charset=utf-8", "pdf": "application/pdf",
               "ixbrl": "application/xhtml+xml"}

__all__ = ["FORMATS", "LANGS", "MEDIA_TYPES", "file_name", "has_taxonomy", "render", "validate_ixbrl",
           "write_reports"]


def has_taxonomy(report: Report) -> bool:
    """True when the report's framework has an XBRL taxonomy, so an Inline XBRL document can be made."""
    return bool(report.framework.taxonomy and report.framework.namespace and report.framework.prefix)


def render(report: Report, fmt: str, lang: str) -> bytes:
    """``report`` as a file's bytes in ``fmt`` (xlsx, html, pdf or ixbrl) and ``lang`` (en or zh).

    XLSX and iXBRL are bilingual and ignore ``lang``. Raises ValueError for an unknown format or language, or
    iXBRL for a framework without a taxonomy; :class:`zerocarbon.io.disclosure.pdf.PdfUnavailableError` when
    WeasyPrint cannot load its system libraries.
    """
    check_lang(lang)
    if fmt == "xlsx":
        from zerocarbon.io.disclosure.xlsx import render_xlsx
        return render_xlsx(report)
    if fmt == "html":
        from zerocarbon.io.disclosure.html import render_html
        return render_html(report, lang).encode("utf-8")
    if fmt == "pdf":
        from zerocarbon.io.disclosure.pdf import render_pdf
        return render_pdf(report, lang)
    if fmt == "ixbrl":
        from zerocarbon.io.disclosure.ixbrl import render_ixbrl
        return render_ixbrl(report)
    raise ValueError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")


def file_name(report: Report, fmt: str, lang: str) -> str:
    """``<framework>_<year>_<lang>.<ext>``; the bilingual formats have no language: ``<framework>_<year>.xlsx``
    and ``<framework>_<year>.xhtml``."""
    stem = f"{report.framework.id}_{report.year}"
    if fmt in ("xlsx", "ixbrl"):
        return f"{stem}.{EXTENSIONS[fmt]}"
    return f"{stem}_{lang}.{EXTENSIONS[fmt]}"


def write_reports(reports: Sequence[Report], out: Path, formats: Sequence[str] = FORMATS,
                  langs: Sequence[str] = LANGS, progress: Callable[[int, int, Path], None] | None = None
                  ) -> list[Path]:
    """Write every report in every format and language into the folder ``out`` (made if absent); the paths
    written, in order.

    iXBRL is written only for reports whose framework has a taxonomy, once per report; XLSX once per report.
    ``progress(done, total, path)`` is called after each file. Formats and languages are checked before
    anything is written; a file is written whole (to a temporary name, then renamed) so a failure leaves no
    half-written file under the final name.
    """
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    for lang in langs:
        check_lang(lang)
    jobs: list[tuple[Report, str, str]] = []
    for report in reports:
        for fmt in formats:
            if fmt == "ixbrl" and not has_taxonomy(report):
                continue
            for lang in ((langs[0],) if fmt in ("xlsx", "ixbrl") and langs else langs):
                jobs.append((report, fmt, lang))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for done, (report, fmt, lang) in enumerate(jobs, start=1):
        data = render(report, fmt, lang)
        path = out / file_name(report, fmt, lang)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
        written.append(path)
        if progress is not None:
            progress(done, len(jobs), path)
    return written


def validate_ixbrl(path: Path) -> list[str]:
    """The problems Arelle finds in the Inline XBRL document at ``path``, offline; empty when it is valid.

    The framework's taxonomy cannot be resolved offline: that message, and the undefined-element messages that
    follow from it, are not problems of the document and are left out (see
    :func:`zerocarbon.io.disclosure.ixbrl.check_ixbrl` for them).
    """
    from zerocarbon.io.disclosure.ixbrl import check_ixbrl
    return check_ixbrl(Path(path)).problems
