"""Disclosure pages: the organisation's disclosure (a year picked among the stored inventories, a card per framework
with its data points reported and missing and its checks, the publications) and a framework's report preview
(every data point with the prior year, the change, restatement marks with their reasons, missing data points with
the reason in the page's language, the checks, each number's lineage linked to the ledger rows and batches it
comes from, the files per format and language, the inputs upload and the publish form).

The pages check the same actions as the API (``api/routes/disclosure.py``): ``disclose.read`` to read and
download, ``disclose.prepare`` to upload inputs, ``disclose.publish`` to publish.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from zerocarbon.api.routes.disclosure import spooled_inputs, summary
from zerocarbon.errors import ConflictError, InputError, StateError, ZerocarbonError
from zerocarbon.services import disclosure, disclosure_files
from zerocarbon.web import formatting, i18n
from zerocarbon.web.routes import PREFIX, Page, PageRoute, _csrf, refusal, templates

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
templates.env.globals.setdefault("num", formatting.num)

NAV = "disclosure"
Year = Annotated[int, Path(ge=1990, le=2100)]
FrameworkId = Annotated[str, Path(max_length=32, pattern=r"^[a-z0-9_]+$")]
FrameworkForm = Annotated[str, Form(max_length=32, pattern=r"^[a-z0-9_]+$")]
# The facts the chart of a report page compares with the prior year, in this order, with their message keys.
CHART_FACTS = (("ghg.scope1", "disclosure.chart.scope1"), ("ghg.scope2_location", "disclosure.chart.scope2_location"),
               ("ghg.scope2_market", "disclosure.chart.scope2_market"), ("ghg.scope3", "disclosure.chart.scope3"))


def report_lang(page: Page) -> str:
    """The report language of the page's language (``zh-CN`` pages read the Chinese report)."""
    return "zh" if page.lang.startswith("zh") else "en"


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def shown(t, value: Any, unit: str) -> str:
    """A value as the page shows it: shares in per cent, numbers grouped by three, yes/no in the page's language."""
    if value is None:
        return formatting.MISSING
    if isinstance(value, bool):
        return t("disclosure.yes") if value else t("disclosure.no")
    if _number(value):
        if unit == "fraction":
            return formatting.num(100 * value, 1, None) + " %"
        if unit == "year" or isinstance(value, int):
            return str(value)
        return formatting.num(value, None, unit if unit in formatting.DEFAULT_DECIMALS else None)
    return str(value)


def change(value: float | None) -> str:
    if value is None:
        return formatting.MISSING
    return ("+" if value > 0 else "") + formatting.num(100 * value, 1, None) + " %"


@router.get("/orgs/{org}/disclosure")
def overview(request: Request, org: str, year: Annotated[int | None, Query(ge=1990, le=2100)] = None) -> Response:
    page = Page(request, org, "disclose.read")
    publications = sorted(disclosure.publications(page.sessions, org), key=lambda p: (p.year, p.id), reverse=True)
    stored = disclosure_files.inventory_years(page.sessions, org)
    # The years a report can be made of: every stored inventory, and every year published; newest first.
    years = sorted(set(stored) | {p.year for p in publications}, reverse=True)
    year = year or (years[0] if years else date.today().year - 1)
    cards = [summary(r) for r in disclosure.build(page.sessions, org, year)]
    published = request.query_params.get("published", "")
    return page.render("disclosure.html", nav=NAV, year=year, years=years, cards=cards, publications=publications,
                       published=published if published.isdigit() else None,
                       has_inventory=year in stored)


# --- a framework's report --------------------------------------------------------------------------------------

def _ledger_link(page: Page, year: int, flt: dict) -> str | None:
    """The ledger page showing the rows a ledger fact sums (site, scope and Scope 2 method are its filters)."""
    scope = str(flt.get("scope") or "")
    method = str(flt.get("method") or "")
    if scope not in ("", "1", "2", "3") or method not in ("", "location", "market"):
        return None
    query = {"year": year, "site": flt.get("site") or "", "scope": scope, "method": method}
    return f"{PREFIX}/orgs/{page.org}/ledger?{urlencode(query)}"


def lineage(page: Page, year: int, lin: dict) -> dict:
    """What the lineage disclosure of a number shows: where it comes from, the ledger filter with its link,
    the inventory, the batches (linked) with file name and SHA-256, the factors, the facts it is derived from,
    and any further detail the builder recorded."""
    lin = dict(lin or {})
    flt = lin.pop("filter", None)
    out: dict[str, Any] = {"source": lin.pop("source", ""), "filter": None, "ledger": None}
    if isinstance(flt, dict):
        out["filter"] = ", ".join(f"{k}={v}" for k, v in flt.items() if v not in (None, ""))
        out["ledger"] = _ledger_link(page, year, flt)
    inventory = lin.pop("inventory", None)
    out["inventory"] = ", ".join(f"{k}: {v}" for k, v in inventory.items()) if isinstance(inventory, dict) else ""
    batches = lin.pop("batches", None) or {}
    out["batches"] = [{"id": str(b), "url": f"{PREFIX}/orgs/{page.org}/batches/{b}" if str(b).isdigit() else None,
                       "file": (d or {}).get("source", ""), "sha256": (d or {}).get("sha256", ""),
                       "rows": (d or {}).get("rows")} for b, d in batches.items()] if isinstance(batches, dict) else []
    factors = lin.pop("factors", None) or []
    out["factors"] = [str(f) for f in factors] if isinstance(factors, (list, tuple)) else [str(factors)]
    derived = lin.pop("derived_from", None) or []
    out["derived"] = [str(d) for d in derived] if isinstance(derived, (list, tuple)) else [str(derived)]
    out["formula"] = str(lin.pop("formula", "") or "")
    out["other"] = [(k, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str))
                    for k, v in lin.items()]
    return out


def _chart(t, report) -> str | None:
    """This year against the prior year for the GHG totals the report has numbers of (ECharts bars), or None."""
    by_fact = {line.point.fact: line for line in report.lines if _number(line.value) and line.point.unit == "tCO2e"}
    rows = [(t(key), by_fact[fact]) for fact, key in CHART_FACTS if fact in by_fact]
    if not rows:
        return None
    data = {"labels": [label for label, _ in rows], "unit": "tCO2e",
            "series": [{"name": str(report.year), "data": [round(line.value, 6) for _, line in rows]},
                       {"name": str(report.year - 1),
                        "data": [round(line.prior, 6) if _number(line.prior) else None for _, line in rows]}]}
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def _downloads(page: Page, year: int, framework: str) -> list[dict]:
    out = []
    for fmt in disclosure_files.formats_of(framework):
        for lang in (disclosure_files.LANGS if fmt in ("html", "pdf") else ("",)):
            query = urlencode({"format": fmt, **({"lang": lang} if lang else {})})
            out.append({"format": fmt, "lang": lang, "id": f"download-{fmt}{'-' + lang if lang else ''}",
                        "url": f"{PREFIX}/orgs/{page.org}/disclosure/{year}/{framework}/download?{query}",
                        "name": disclosure_files.file_name(framework, year, fmt, lang or "en")})
    return out


def _report_page(page: Page, year: int, framework: str, status: int = 200, **context) -> Response:
    t = i18n.translator(page.lang)
    [report] = disclosure.build(page.sessions, page.org, year, [framework])
    context.setdefault("problems", [])
    context.setdefault("message", None)
    context.setdefault("notice", None)
    zh = report_lang(page) == "zh"
    lines = [{"line": line, "value": shown(t, line.value_in("zh" if zh else "en"), line.point.unit),
              "prior": shown(t, line.prior, line.point.unit),
              "published_prior": shown(t, line.published_prior, line.point.unit), "change": change(line.change),
              "lineage": lineage(page, year, line.lineage),
              "section": disclosure_files.section_label(line.point.section, "zh" if zh else "en"),
              "unit": disclosure_files.unit_label(line.point.unit)} for line in report.lines]
    return page.render("disclosure_report.html", status, nav=NAV, year=year, report=report, rows=lines,
                       counts=summary(report), chart=_chart(t, report), downloads=_downloads(page, year, framework),
                       inputs=disclosure.list_inputs(page.sessions, page.org, year), zh=zh,
                       **context)


@router.get("/orgs/{org}/disclosure/{year}/{framework}")
def report_page(request: Request, org: str, year: Year, framework: FrameworkId) -> Response:
    page = Page(request, org, "disclose.read")
    t = i18n.translator(page.lang)
    imported = request.query_params.get("imported", "")
    notice = t("disclosure.imported", n=imported) if imported.isdigit() else None
    return _report_page(page, year, framework, notice=notice)


@router.get("/orgs/{org}/disclosure/{year}/{framework}/download")
def download(request: Request, org: str, year: Year, framework: FrameworkId,
             fmt: Annotated[str, Query(alias="format", max_length=8)] = "xlsx",
             lang: Annotated[str, Query(max_length=4)] = "en") -> Response:
    page = Page(request, org, "disclose.read")
    disclosure_files.check_format(framework, fmt, lang)
    [report] = disclosure.build(page.sessions, org, year, [framework])
    body = disclosure_files.render(report, fmt, lang)
    name = disclosure_files.file_name(framework, year, fmt, lang)
    return Response(body, media_type=disclosure_files.media_type(fmt),
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/orgs/{org}/disclosure/{year}/inputs")
def inputs_upload(request: Request, org: str, year: Year, file: Annotated[UploadFile, File()],
                  framework: FrameworkForm, csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "disclose.prepare")
    _csrf(request, page.principal, csrf)
    try:
        with spooled_inputs(file) as path:
            done = disclosure.import_inputs(page.sessions, org, year, path, actor=page.principal.actor)
    except ZerocarbonError as exc:
        return _report_page(page, year, framework, 400, **refusal(exc))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/disclosure/{year}/{framework}?imported={done.count}#inputs",
                            status_code=303)


@router.post("/orgs/{org}/disclosure/{year}/publish")
def publish(request: Request, org: str, year: Year, framework: FrameworkForm,
            scope: Annotated[str, Form(pattern="^(this|all)$")] = "this",
            csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "disclose.publish")
    _csrf(request, page.principal, csrf)
    try:
        pub = disclosure.publish(page.sessions, org, year, actor=page.principal.actor,
                                 frameworks=[framework] if scope == "this" else None)
    except ZerocarbonError as exc:
        status = 400 if isinstance(exc, InputError) else 409 if isinstance(exc, (ConflictError, StateError)) else 400
        return _report_page(page, year, framework, status, **refusal(exc))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/disclosure?year={year}&published={pub.id}#publications",
                            status_code=303)
