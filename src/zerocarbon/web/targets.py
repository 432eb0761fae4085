"""The targets page: every target with its progress chart (actual values, the linear trajectory, the target), the
base-year recalculation applied, the science-based check with each rule's reason, and a form to add a target
(``assess.manage``). It checks ``assess.read``, as the API endpoints (``api/routes/targets.py``) that serve the
same numbers from the same service calls."""
from __future__ import annotations

import json
import math
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from zerocarbon.errors import InputError, Problem, ZerocarbonError
from zerocarbon.services import targets
from zerocarbon.web import i18n
from zerocarbon.web.routes import PREFIX, STATIC, Page, PageRoute, _csrf, refusal

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
# The page's chart script is served with the dashboard's other static files.
STATIC.setdefault("targets.js", "text/javascript")


def _script_json(value) -> str:
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _chart(t, item: dict) -> dict:
    """What targets.js draws for one target: the trajectory line, the actual points (on/off track), the target."""
    tg = item["target"]
    pct = tg["unit"] == "fraction"
    scale = 100.0 if pct else 1.0
    return {"id": tg["id"], "unit": "%" if pct else tg["unit"],
            "names": {"trajectory": t("targets.trajectory"), "actual": t("targets.actual"),
                      "target": t("targets.target")},
            "trajectory": [[p["year"], round(p["value"] * scale, 6)] for p in item["trajectory"]],
            "actual": [[p["year"], round(p["actual"] * scale, 6), p["on_track"]] for p in item["points"]],
            "target": [tg["target_year"], round(tg["target_value"] * scale, 6)]}


def _reasoner(t):
    """A finding's reason in the page's language, from its rule, outcome and numbers (the English text of the
    service when the catalogue has no wording for it)."""

    def reason(f: dict) -> str:
        outcome = {True: "ok", False: "fail", None: "none"}[f["passed"]]
        key = f"targets.reason.{f['rule']}.{outcome}"
        try:
            text = t(key, **f.get("data", {}))
        except (KeyError, ValueError):
            return f["reason"]
        return f["reason"] if text == key else text

    return reason


def _page(page: Page, status: int = 200, **context) -> Response:
    t = i18n.translator(page.lang)
    items = targets.progress(page.sessions, page.org)
    stored = page.request.query_params.get("stored")
    context.setdefault("stored", next((i["target"] for i in items if i["target"]["id"] == stored), None))
    checks = {i["target"]["id"]: targets.check(page.sessions, page.org, i["target"]["id"]) for i in items}
    charts = {i["target"]["id"]: _script_json(_chart(t, i)) for i in items}
    return page.render("targets/targets.html", status, items=items, checks=checks, charts=charts,
                       outputs=targets.list_outputs(page.sessions, page.org), reason=_reasoner(t), **context)


@router.get("/orgs/{org}/targets")
def targets_page(request: Request, org: str) -> Response:
    return _page(Page(request, org, "assess.read"))


def _percent(t, text: str, field: str) -> float | None:
    """The form's percentage (a trailing "%" allowed) as the fraction the service stores; (0, 100] only, so that
    1.5 is always 1.5 % and 150 is refused, as --reduction 1.5 is on the command line."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text.removesuffix("%").strip())
    except ValueError:
        raise InputError([_problem(field, t("targets.amount.nan", text=text))]) from None
    if not math.isfinite(value) or not 0 < value <= 100:
        raise InputError([_problem(field, t("targets.amount.range", text=text))])
    return value / 100


def _problem(field: str, reason: str) -> Problem:
    return Problem("form", None, field, reason)


@router.post("/orgs/{org}/targets")
def target_add(request: Request, org: str, kind: Annotated[str, Form(max_length=32)],
               base_year: Annotated[int, Form(ge=1990, le=2100)], target_year: Annotated[int, Form(ge=1990, le=2100)],
               scopes: Annotated[str, Form(max_length=16)] = "s1s2",
               scope2_method: Annotated[str, Form(max_length=16)] = "market",
               boundary: Annotated[str, Form(max_length=64)] = "org",
               amount: Annotated[str, Form(max_length=32)] = "",
               denominator: Annotated[str, Form(max_length=16)] = "",
               csrf: Annotated[str | None, Form()] = None) -> Response:
    """``amount``: the reduction (or the renewable share for a renewable-electricity target) in per cent."""
    page = Page(request, org, "assess.manage")
    _csrf(request, page.principal, csrf)
    try:
        value = _percent(i18n.translator(page.lang), amount, "amount")
        share = value if kind == "renewable_electricity" else None
        cut = None if kind == "renewable_electricity" else value
        stored = targets.set_target(page.sessions, org, kind=kind, scopes=scopes, base_year=base_year,
                           target_year=target_year, reduction=cut, re_share=share, scope2_method=scope2_method,
                           boundary=boundary or "org", denominator=denominator or None, actor=page.principal.actor)
    except ZerocarbonError as exc:
        return _page(page, 400, **refusal(exc))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/targets?stored={stored['id']}", status_code=303)


@router.post("/orgs/{org}/targets/{code}/delete")
def target_delete(request: Request, org: str, code: str, csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "assess.manage")
    _csrf(request, page.principal, csrf)
    targets.delete_target(page.sessions, org, code, actor=page.principal.actor)
    return RedirectResponse(f"{PREFIX}/orgs/{org}/targets", status_code=303)
