"""A report as PDF: the HTML page laid out by WeasyPrint on A4 with page numbers (the print rules of the page's
stylesheet).

WeasyPrint needs Pango and HarfBuzz from the system, and Chinese text needs a CJK font that fontconfig finds
(Debian: ``fonts-wqy-microhei``); without it the characters come out as empty boxes.
"""
from __future__ import annotations

import warnings

from zerocarbon.core.disclosure.model import Report
from zerocarbon.errors import ZerocarbonError
from zerocarbon.io.disclosure import charts
from zerocarbon.io.disclosure.html import render_html

DEBIAN_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b", "libharfbuzz-subset0", "libffi8",
                   "fonts-wqy-microhei")


class PdfUnavailableError(ZerocarbonError, RuntimeError):
    """WeasyPrint cannot run here: its system libraries are missing."""


def _weasyprint():
    try:
        import weasyprint
    except (OSError, ImportError) as exc:  # OSError: cffi could not open libpango / libharfbuzz
        raise PdfUnavailableError(
            f"PDF output needs WeasyPrint and its system libraries ({exc}). On Debian or Ubuntu install them with "
            f"`apt-get install -y {' '.join(DEBIAN_PACKAGES)}`, and the Python package with "
            "`pip install weasyprint==70.0`.") from exc
    return weasyprint


def render_pdf(report: Report, lang: str = "en") -> bytes:
    """The report's HTML page in ``lang`` (en or zh) as PDF bytes (A4, numbered pages)."""
    weasyprint = _weasyprint()
    if lang == "zh" and charts._fonts() == ["DejaVu Sans"]:
        warnings.warn("no CJK font found: Chinese text in the PDF may show as boxes; install fonts-wqy-microhei",
                      RuntimeWarning, stacklevel=2)
    html = render_html(report, lang)
    return weasyprint.HTML(string=html).write_pdf()
