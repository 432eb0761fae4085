"""The files of a disclosure report as the command line, the API and the web pages hand them out: which formats
and languages exist, each file's name and media type, and the rendering itself (``io.disclosure``), so that the
shells reach the renderers through a service as they reach every other reader and writer.

Also the years an organisation has a stored inventory of, which the disclosure pages offer to report on.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker

from zerocarbon.errors import InputError, Problem

FORMATS = ("xlsx", "html", "pdf", "ixbrl")
LANGS = ("en", "zh")
# Inline XBRL needs a published taxonomy: the ESRS set 1 taxonomy and the IFRS sustainability taxonomy.
IXBRL_FRAMEWORKS = ("issb_s2", "esrs_e1")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "ixbrl": "application/xhtml+xml",
}


def formats_of(framework: str) -> tuple[str, ...]:
    """The formats a framework's report is written in (Inline XBRL only where a taxonomy exists)."""
    return FORMATS if framework in IXBRL_FRAMEWORKS else tuple(f for f in FORMATS if f != "ixbrl")


def file_name(framework: str, year: int, fmt: str, lang: str) -> str:
    """``<framework>_<year>_<lang>.<ext>``; the workbook is bilingual (``<framework>_<year>.xlsx``) and the Inline
    XBRL document carries both languages' labels (``<framework>_<year>.xhtml``)."""
    if fmt == "xlsx":
        return f"{framework}_{year}.xlsx"
    if fmt == "ixbrl":
        return f"{framework}_{year}.xhtml"
    return f"{framework}_{year}_{lang}.{fmt}"


def media_type(fmt: str) -> str:
    return MEDIA_TYPES[fmt]


def check_format(framework: str, fmt: str, lang: str) -> None:
    """Refuses an unknown format or language, or Inline XBRL of a framework without a taxonomy, with the reason."""
    problems = []
    if fmt not in FORMATS:
        problems.append(Problem("format", None, "format", f"'{fmt}' is not a format; use one of {', '.join(FORMATS)}"))
    elif fmt not in formats_of(framework):
        problems.append(Problem("format", None, "format", f"{framework} has no XBRL taxonomy, so no Inline XBRL "
                                                          f"report; Inline XBRL exists for "
                                                          f"{', '.join(IXBRL_FRAMEWORKS)}"))
    if lang not in LANGS:
        problems.append(Problem("lang", None, "lang", f"'{lang}' is not a language; use one of {', '.join(LANGS)}"))
    if problems:
        raise InputError(problems)


def render(report, fmt: str, lang: str) -> bytes:
    """One report as the bytes of one file (``io.disclosure.render``); an unknown format or language, or Inline
    XBRL of a framework without a taxonomy, is refused with the reason."""
    check_format(report.framework.id, fmt, lang)
    from zerocarbon.io import disclosure as files

    return files.render(report, fmt, lang)


def write_reports(reports: Sequence, out: Path, formats: Sequence[str] = FORMATS, langs: Sequence[str] = LANGS,
                  progress: Callable | None = None) -> list[Path]:
    """Every report in every format and language asked for, into ``out`` (created if needed); Inline XBRL only for
    the frameworks that have a taxonomy. The paths written, in order."""
    for fmt in formats:
        for lang in langs:
            check_format(IXBRL_FRAMEWORKS[0], fmt, lang)
    from zerocarbon.io import disclosure as files

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    # One call per set of formats: a framework without a taxonomy never reaches the Inline XBRL writer.
    groups: dict[tuple[str, ...], list] = {}
    for report in reports:
        allowed = tuple(f for f in formats if f in formats_of(report.framework.id))
        if allowed:
            groups.setdefault(allowed, []).append(report)
    if reports and not groups:  # e.g. only Inline XBRL asked of frameworks that have no taxonomy
        names = ", ".join(r.framework.id for r in reports)
        raise InputError([Problem("--format", None, "format", f"none of {', '.join(formats)} exists for {names}: "
                                  f"Inline XBRL is written for {', '.join(IXBRL_FRAMEWORKS)} only")])
    for allowed, group in groups.items():
        written += files.write_reports(group, out, formats=allowed, langs=tuple(langs), progress=progress)
    return written


def inventory_years(sessions: sessionmaker, org: str) -> list[int]:
    """The years ``org`` has a stored inventory of (operational control), oldest first; NotFoundError for an
    unknown organisation."""
    from zerocarbon.core.model import Boundary
    from zerocarbon.store import repos
    from zerocarbon.store import targets as target_store

    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        return sorted(target_store.inventory_years(s, org_id, Boundary.OPERATIONAL_CONTROL.value))


def section_label(section: str, lang: str) -> str:
    """A catalogue section's heading in ``lang`` (en or zh), for the pages."""
    from zerocarbon.io.disclosure.text import section_label as label

    return label(section, lang)


def unit_label(unit: str, lang: str = "en") -> str:
    """A unit as printed beside a number (m³ rather than m**3), for the pages."""
    from zerocarbon.io.disclosure.text import unit_text

    return unit_text(unit, lang)


def as_data(obj: Any) -> Any:
    """A disclosure service result (dataclass, named tuple, or lists and dicts of them) as JSON-able data, for
    the CLI's --json and the API's schemas alike."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    if hasattr(obj, "_asdict"):
        return {k: as_data(v) for k, v in obj._asdict().items()}
    if isinstance(obj, (list, tuple)):
        return [as_data(x) for x in obj]
    if isinstance(obj, dict):
        return {k: as_data(v) for k, v in obj.items()}
    return obj
