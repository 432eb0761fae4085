"""Dashboard pages under /web, for people logged in with the API's session cookie.

Every page checks the same action of ``core.access`` as the API endpoint that serves the same data
(``auth.authorize``); a state-changing form must send the session's CSRF token (double submit: the readable
``zc_csrf`` cookie echoed in a form field or the ``X-CSRF-Token`` header), checked against the hash the
server keeps, as the API does.
"""
from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from datetime import date
from importlib.resources import files
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, File, Form, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from zerocarbon import limits
from zerocarbon.api.deps import CSRF_COOKIE, CSRF_HEADER, MAX_OFFSET, SESSION_COOKIE, kept_read
from zerocarbon.api.uploads import spooled
from zerocarbon.errors import (AuthenticationError, ClosedInventoryError, InputError, NotFoundError,
                               PermissionDeniedError, RateLimitedError, StateError, ZerocarbonError)
from zerocarbon.services import accounting, audit, auth
from zerocarbon.web import formatting, i18n

PREFIX = "/web"
PAGE_SIZE = 50
# The activity kinds of io.schemas (the web layer reaches io only through services, so they are listed here).
KINDS = ("electricity", "fuel", "heat", "refrigerant", "process_gas", "generation", "instrument", "purchase", "shipment",
         "waste", "travel", "commute", "product_use", "product_eol", "packaging", "takeback")
STATIC = {"app.css": "text/css", "app.js": "text/javascript", "energy.js": "text/javascript",
          "schedule.js": "text/javascript", "scope3.js": "text/javascript", "vendor/htmx.min.js": "text/javascript",
          "vendor/echarts.min.js": "text/javascript"}

templates = Jinja2Templates(directory=str(files("zerocarbon.web").joinpath("templates")))
formatting.register(templates.env)


class Refused(Exception):
    """A page answered with an error page (status, message, and the problems of an input error)."""

    def __init__(self, status: int, message: str, problems: list | None = None):
        super().__init__(message)
        self.status, self.message, self.problems = status, message, problems or []


_STATUS = [(InputError, 400), (AuthenticationError, 401), (PermissionDeniedError, 403), (NotFoundError, 404),
           (ClosedInventoryError, 409), (StateError, 409), (RateLimitedError, 429), (ZerocarbonError, 400)]


class PageRoute(APIRoute):
    """Errors of a page become HTML (an error page, or the login page) instead of the API's problem JSON."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except AuthenticationError:
                target = request.url.path if request.method == "GET" else PREFIX + "/"
                return RedirectResponse(f"{PREFIX}/login?next={quote(target)}", status_code=303)
            except ZerocarbonError as exc:
                status = next(s for cls, s in _STATUS if isinstance(exc, cls))
                return error_page(request, status, str(exc), getattr(exc, "problems", []))
            except Refused as exc:
                return error_page(request, exc.status, exc.message, exc.problems)
            except RequestValidationError as exc:
                return error_page(request, 400, "", [], invalid=_invalid(exc))
            except StarletteHTTPException as exc:
                return error_page(request, exc.status_code, str(exc.detail), [])

        return route


def _invalid(exc: RequestValidationError) -> list[dict]:
    """Each rejected parameter of a page's URL or form: where it was (path, query, form), its name, the reason
    as a catalogue key with its values, and the validator's own English text."""
    out = []
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ())]
        ctx = {k: v for k, v in (e.get("ctx") or {}).items() if isinstance(v, (int, float, str))}
        out.append({"where": loc[0] if loc else "request", "name": ".".join(loc[1:]) or "-",
                    "reason": e.get("type", ""), "ctx": ctx, "detail": e.get("msg", "")})
    return out


def install(app: FastAPI) -> None:
    """An address under /web that matches no page (``/web/orgs/X/jobs/999``), or a method a page does not
    answer, gets the HTML error page; elsewhere the API's problem details stay."""
    api_handler = app.exception_handlers.get(StarletteHTTPException)

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/"):
            return error_page(request, exc.status_code, str(exc.detail), [])
        answer = api_handler(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(StarletteHTTPException, http_error)


router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)


# --- who is asking ---------------------------------------------------------------------------------------------

def _principal(request: Request) -> auth.Principal:
    return auth.from_session(request.app.state.sessions, request.cookies.get(SESSION_COOKIE, ""))


def _language(request: Request, principal: auth.Principal | None = None) -> str:
    # A login session's principal carries the user's language, read with the session: no query of its own.
    locale = principal.locale if principal is not None else None
    return i18n.choose(request.cookies.get(i18n.COOKIE), locale, request.headers.get("accept-language"))


def _csrf(request: Request, principal: auth.Principal, form_token: str | None) -> None:
    auth.check_csrf(principal, request.headers.get(CSRF_HEADER) or form_token)


class Page:
    """A logged-in request for one organisation: the caller, their access there, the language."""

    def __init__(self, request: Request, org: str, action: str | None = None):
        self.request = request
        self.sessions = request.app.state.sessions
        # The caller, their access here and the organisation menu, read together.
        self.principal, self.access, self.organisations = auth.page_access(
            self.sessions, request.cookies.get(SESSION_COOKIE, ""), org, action)
        self.org = org
        self.lang = _language(request, self.principal)

    def may(self, action: str) -> bool:
        return action in self.access.actions

    def vary(self, *more) -> tuple:
        """Everything a rendered page depends on besides the URL and the stored data (deps.kept_read): who
        asks, their organisations and roles, the language and the CSRF cookie the forms echo."""
        return (self.principal.id, self.principal.name, self.lang, tuple((c, n, a.role) for c, n, a in self.organisations),
                self.request.cookies.get(CSRF_COOKIE, ""), *more)

    def render(self, name: str, status: int = 200, **context) -> HTMLResponse:
        return render(self.request, name, status, lang=self.lang, principal=self.principal, page=self,
                      organisations=self.organisations, **context)


def script_safe(text: str) -> str:
    """JSON text to put inside ``<script type="application/json">``: every ``<`` written as ``\\u003c`` (the same
    JSON once parsed), so no value (a site, scenario or indicator name) can close the element and start markup."""
    return text.replace("<", "\\u003c")


def render(request: Request, name: str, status_code: int = 200, lang: str | None = None, **context) -> HTMLResponse:
    lang = lang or _language(request)
    # The pages' chart data are JSON texts the templates print unescaped inside a script element.
    if isinstance(context.get("chart"), str):
        context["chart"] = script_safe(context["chart"])
    if isinstance(context.get("charts"), dict):
        context["charts"] = {k: script_safe(v) if isinstance(v, str) else v for k, v in context["charts"].items()}
    context.setdefault("page", None)
    context.setdefault("principal", None)
    return templates.TemplateResponse(request, name, dict(
        t=i18n.translator(lang), lang=lang, languages=i18n.LANGUAGES, prefix=PREFIX,
        csrf=request.cookies.get(CSRF_COOKIE, ""), here=request.url.path + (
            "?" + request.url.query if request.url.query else ""), **context), status_code=status_code)


# An action of core.access named in a refusal's message (``role viewer may not import.read in ORG``).
_ACTION = re.compile(r"\b[a-z_]+\.[a-z_]+\b")


def error_page(request: Request, status: int, message: str, problems: list,
               invalid: list[dict] | None = None) -> HTMLResponse:
    """The error page: a sentence in the page's language, and the server's technical message (English, with
    the action codes and command-line hints an administrator needs) folded away under it."""
    lang = _language(request)
    t = i18n.translator(lang)
    for e in invalid or []:
        key = "error.reason." + e["reason"]
        e["text"] = t(key, **e["ctx"]) if t(key) != key else e["detail"]
        where = t("error.where." + e["where"])
        e["where_text"] = where if where != "error.where." + e["where"] else e["where"]
    refused = [a for a in dict.fromkeys(_ACTION.findall(message)) if t("permission." + a) != "permission." + a]
    if invalid:
        summary = None
    elif status == 403 and refused:
        summary = t("error.403.actions", actions=t("list.sep").join(t("permission." + a) for a in refused))
    elif status == 403 and "csrf" in message.lower():
        summary = t("error.403.csrf")
    elif status == 413:
        summary = t("error.413.text", mb=limits.max_upload_mb())
    elif status in (403, 404, 405):
        summary = t(f"error.{status}.text")
    else:
        summary = None
    return render(request, "error.html", status, lang=lang, status=status, message=message, problems=problems,
                  summary=summary, invalid=invalid or [])


# --- static files, language, login ------------------------------------------------------------------------------

@router.get("/static/{name:path}")
def static(name: str) -> Response:
    # Only the files listed are served: no path from the URL ever reaches the file system.
    if name not in STATIC:
        raise Refused(404, f"no static file {name}")
    body = files("zerocarbon.web").joinpath("static", *name.split("/")).read_bytes()
    return Response(body, media_type=STATIC[name], headers={"Cache-Control": "public, max-age=3600"})


@router.get("/lang/{code}")
def language(code: str, next: str = PREFIX + "/") -> Response:
    if code not in i18n.LANGUAGES:
        raise Refused(404, f"no language {code}; choose one of {', '.join(i18n.LANGUAGES)}")
    # Only a local path: the toggle must not become an open redirect.
    target = next if next.startswith("/") and not next.startswith("//") else PREFIX + "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(i18n.COOKIE, code, max_age=365 * 86400, secure=True, samesite="lax", path="/")
    return response


@router.get("/login")
def login_form(request: Request, next: str = PREFIX + "/") -> HTMLResponse:
    return render(request, "login.html", next=next, error=None, email="")


@router.post("/login")
def login(request: Request, email: Annotated[str, Form(max_length=320)],
          password: Annotated[str, Form(max_length=2048)], next: Annotated[str, Form(max_length=500)] = PREFIX + "/"
          ) -> Response:
    try:
        result = auth.login(request.app.state.sessions, email, password,
                            request.client.host if request.client else "unknown",
                            replaces=request.cookies.get(SESSION_COOKIE))
    except (AuthenticationError, RateLimitedError) as exc:
        status = 429 if isinstance(exc, RateLimitedError) else 401
        refused = render(request, "login.html", status, next=next, error=str(exc), email=email)
        if isinstance(exc, RateLimitedError):
            refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    target = next if next.startswith(PREFIX) else PREFIX + "/"
    response = RedirectResponse(target, status_code=303)
    seconds = int(auth.SESSION_LIFETIME.total_seconds())
    # The same cookies as POST /api/v1/auth/login: the pages and the API share one login.
    response.set_cookie(SESSION_COOKIE, result.session_secret, max_age=seconds, httponly=True, secure=True,
                        samesite="strict", path="/")
    response.set_cookie(CSRF_COOKIE, result.csrf_token, max_age=seconds, secure=True, samesite="strict", path="/")
    if request.cookies.get(i18n.COOKIE) not in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, result.user.locale, max_age=365 * 86400, secure=True, samesite="lax",
                            path="/")
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str | None, Form()] = None) -> Response:
    principal = _principal(request)
    _csrf(request, principal, csrf)
    auth.logout(request.app.state.sessions, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=True, samesite="strict")
    return response


@router.get("/")
def home(request: Request) -> Response:
    principal = _principal(request)
    orgs = auth.organisations(request.app.state.sessions, principal)
    if len(orgs) == 1:
        return RedirectResponse(f"{PREFIX}/orgs/{orgs[0][0]}", status_code=303)
    return render(request, "home.html", lang=_language(request, principal), principal=principal, organisations=orgs)


@router.get("/orgs/{org}")
def org_home(request: Request, org: str) -> Response:
    page = Page(request, org)
    target = "overview" if page.may("inventory.read") else "data" if page.may("import.write") else None
    if target is None:
        raise Refused(403, f"role {page.access.role} has no page in {org}")
    return RedirectResponse(f"{PREFIX}/orgs/{org}/{target}", status_code=303)


# --- overview -------------------------------------------------------------------------------------------------

def _default_year() -> int:
    return date.today().year - 1


def _site_totals(totals) -> list[dict]:
    """Rows of the per-site table: Scope 1, Scope 2 location- and market-based, and both totals."""
    return [dict(site=t.site, scope1=t.scope1, location=t.scope2_location, market=t.scope2_market,
                 total_location=t.scope1 + t.scope2_location, total_market=t.scope1 + t.scope2_market)
            for t in totals]


@router.get("/orgs/{org}/overview")
def overview(request: Request, org: str, year: Annotated[int | None, Query(ge=1990, le=2100)] = None) -> Response:
    page = Page(request, org, "inventory.read")
    year = year or _default_year()

    def build() -> bytes:
        try:
            meta, totals = accounting.inventory_summary(page.sessions, org, year)
            sites = _site_totals(totals)
        except NotFoundError:
            return page.render("overview.html", year=year, meta=None, sites=[], chart="{}").body
        t = i18n.translator(page.lang)
        chart = {"sites": [s["site"] for s in sites],
                 "series": [{"name": t(label), "data": [round(s[key], 4) for s in sites]}
                            for key, label in (("scope1", "scope.1"), ("location", "scope.2.location"),
                                               ("market", "scope.2.market"))],
                 "unit": "tCO2e"}
        return page.render("overview.html", year=year, meta=meta, sites=sites, chart=json.dumps(chart)).body

    return kept_read(request, page.sessions, org, build, "text/html; charset=utf-8", vary=page.vary(year))


# --- data: batches and uploads --------------------------------------------------------------------------------

def _own(page: Page) -> str | None:
    """The actor whose batches alone the page may show (a supplier's own submissions), or None for all."""
    return None if page.may("import.read") else page.principal.actor


def _reads_batches(page: Page) -> bool:
    return page.may("import.read") or page.may("import.read_own")


def _batches(page: Page) -> list | None:
    """The batches the page shows, newest first (None when the role reads none)."""
    if not _reads_batches(page):
        return None
    return list(reversed(accounting.list_batches(page.sessions, page.org, imported_by=_own(page))))


def _data_page(page: Page, status: int = 200, **context) -> HTMLResponse:
    if not (_reads_batches(page) or page.may("import.write")):
        raise PermissionDeniedError(f"role {page.access.role} may neither import.read nor import.write in {page.org}")
    batches = _batches(page) or []
    context.setdefault("result", None)
    context.setdefault("problems", [])
    context.setdefault("message", None)
    context.setdefault("notice", None)
    context.setdefault("refused_approval", [])
    return page.render("data.html", status, batches=batches, kinds=KINDS, year=_default_year(),
                       pending=[b for b in batches if b.status == "pending"], own=_own(page) is not None,
                       **context)


def _notice(request: Request, page: Page) -> str | None:
    """The confirmation a redirect after a change asks for (``?done=approved&id=3``), in the page's language."""
    t = i18n.translator(page.lang)
    done, ident, old = (request.query_params.get(k, "") for k in ("done", "id", "old"))
    if not ident.isdigit() or (old and not old.isdigit()):
        return None
    if done == "approved":
        return t("data.approved", id=ident)
    if done == "replaced" and old:
        return t("data.replaced", id=ident, old=old)
    if done == "replaced_pending" and old:
        return t("data.replaced_pending", id=ident, old=old)
    return None


@router.get("/orgs/{org}/data")
def data(request: Request, org: str) -> Response:
    page = Page(request, org)
    return _data_page(page, notice=_notice(request, page))


def _problems(exc: InputError) -> list[dict]:
    return [{"file": p.source, "row": p.row, "column": p.column, "reason": p.reason} for p in exc.problems]


def refusal(exc: ZerocarbonError) -> dict:
    """What a page shows for a refused action: the problem table of bad input, or the error's message."""
    problems = _problems(exc) if isinstance(exc, InputError) else []
    return {"problems": problems, "message": None if problems else str(exc)}


@router.post("/orgs/{org}/data/upload")
def upload(request: Request, org: str, file: Annotated[UploadFile, File()],
           kind: Annotated[str, Form(max_length=32)], year: Annotated[int, Form(ge=1990, le=2100)],
           csrf: Annotated[str | None, Form()] = None,
           factor_set: Annotated[str, Form(max_length=128)] = "CN-2025.1") -> Response:
    page = Page(request, org, "import.write")
    _csrf(request, page.principal, csrf)
    htmx = request.headers.get("HX-Request") == "true"
    try:
        with spooled(file) as path:
            rep = accounting.import_file(page.sessions, org, kind, path, year, factor_set,
                                         actor=page.principal.actor, source=f"upload:{path.name}",
                                         needs_approval=not page.may("import.approve"),
                                         sees_only_own=_own(page) is not None)
    except (InputError, StateError, ClosedInventoryError, ZerocarbonError) as exc:
        problems = _problems(exc) if isinstance(exc, InputError) else []
        message = None if problems else str(exc)
        if htmx:
            # htmx swaps only 2xx answers by default; the outcome is in the fragment itself.
            return page.render("_upload_result.html", result=None, problems=problems, message=message,
                               batches=None)
        return _data_page(page, 400, problems=problems, message=message)
    if htmx:
        batches = _batches(page)
        return page.render("_upload_result.html", result=rep, problems=[], message=None, batches=batches,
                           pending=[b for b in batches or [] if b.status == "pending"], own=_own(page) is not None)
    return RedirectResponse(f"{PREFIX}/orgs/{org}/data", status_code=303)


@router.post("/orgs/{org}/batches/{batch_id}/undo")
def undo(request: Request, org: str, batch_id: int, reason: Annotated[str, Form(min_length=1, max_length=2000)],
         csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "batch.undo")
    _csrf(request, page.principal, csrf)
    accounting.undo_batch(page.sessions, org, batch_id, reason, actor=page.principal.actor)
    return RedirectResponse(f"{PREFIX}/orgs/{org}/data", status_code=303)


@router.post("/orgs/{org}/batches/{batch_id}/replace")
def replace(request: Request, org: str, batch_id: int, file: Annotated[UploadFile, File()],
            csrf: Annotated[str | None, Form()] = None, reason: Annotated[str | None, Form(max_length=2000)] = None,
            factor_set: Annotated[str, Form(max_length=128)] = "CN-2025.1") -> Response:
    page = Page(request, org, "import.replace")
    _csrf(request, page.principal, csrf)
    try:
        with spooled(file) as path:
            rep = accounting.replace_batch(page.sessions, org, batch_id, path, factor_set,
                                           actor=page.principal.actor, reason=reason or None,
                                           source=f"upload:{path.name}",
                                           needs_approval=not page.may("import.approve"))
    except InputError as exc:
        return _batch_page(page, batch_id, None, 400, problems=_problems(exc))
    done = "replaced_pending" if rep.status == "pending" else "replaced"
    return RedirectResponse(f"{PREFIX}/orgs/{org}/batches/{rep.batch_id}?done={done}&id={rep.batch_id}"
                            f"&old={batch_id}", status_code=303)


@router.post("/orgs/{org}/batches/{batch_id}/approve")
def approve(request: Request, org: str, batch_id: int, csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "import.approve")
    _csrf(request, page.principal, csrf)
    try:
        accounting.approve_batch(page.sessions, org, batch_id, actor=page.principal.actor)
    except InputError as exc:
        # The rows an active batch already counts: the manager sees them where the pending list is.
        return _data_page(page, 400, refused_approval=_problems(exc))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/data?done=approved&id={batch_id}", status_code=303)


@router.post("/orgs/{org}/batches/{batch_id}/reject")
def reject(request: Request, org: str, batch_id: int, reason: Annotated[str, Form(min_length=1, max_length=2000)],
           csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "import.approve")
    _csrf(request, page.principal, csrf)
    accounting.reject_batch(page.sessions, org, batch_id, reason, actor=page.principal.actor)
    return RedirectResponse(f"{PREFIX}/orgs/{org}/data", status_code=303)


def _batch_page(page: Page, batch_id: int, row: str | None, status: int = 200, **context) -> HTMLResponse:
    if not _reads_batches(page):
        raise PermissionDeniedError(f"role {page.access.role} may not import.read in {page.org}")
    detail = accounting.show_batch(page.sessions, page.org, batch_id, imported_by=_own(page))
    context.setdefault("problems", [])
    context.setdefault("notice", None)
    activity = None
    if row:
        activity = _activity(row)
        activity["fields"] = accounting.activity_row(page.sessions, page.org, batch_id, row,
                                                     imported_by=_own(page))
    return page.render("batch.html", status, detail=detail, activity=activity, **context)


@router.get("/orgs/{org}/batches/{batch_id}")
def batch(request: Request, org: str, batch_id: int, row: Annotated[str | None, Query(max_length=300)] = None
          ) -> Response:
    page = Page(request, org)
    return _batch_page(page, batch_id, row, notice=_notice(request, page))


def _activity(activity_id: str) -> dict:
    """``b<batch>:<file>:<row>`` as stored by the importers: the file and its row number (the header is row 1)."""
    head, _, row = activity_id.rpartition(":")
    _, _, name = head.partition(":")
    return {"id": activity_id, "file": name or head, "row": row}


# --- lineage: the ledger behind a total -----------------------------------------------------------------------

@router.get("/orgs/{org}/ledger")
def ledger(request: Request, org: str, year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
           site: Annotated[str | None, Query(max_length=64)] = None,
           scope: Annotated[str | None, Query(pattern="^[123]?$")] = None,
           method: Annotated[str | None, Query(pattern="^(location|market)?$")] = None,
           offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> Response:
    page = Page(request, org, "inventory.read")
    year = year or _default_year()
    site, scope, method = site or None, scope or None, method or None
    filters = {"year": year, "site": site or "", "scope": scope or "", "method": method or ""}
    try:
        found = accounting.ledger_page(page.sessions, org, year, site=site, scope=scope, method=method,
                                       limit=PAGE_SIZE, offset=offset)
    except NotFoundError as exc:
        found, missing = None, str(exc)
    else:
        missing = None
    total = found.total if found is not None else 0
    co2e = found.co2e_t if total else 0.0
    page_rows = []
    if total:
        for r in found.rows:
            r["file"] = _activity(str(r["activity_id"]))
            r["batch"] = found.batches.get(r["batch_id"]) if r["batch_id"] is not None else None
            page_rows.append(r)
    sites = found.sites if found is not None else []
    context = dict(year=year, filters=filters, rows=page_rows, total=total, co2e=co2e, offset=offset,
                   size=PAGE_SIZE, missing=missing, sites=sites, query=lambda **kw: urlencode({**filters, **kw}),
                   totals=_method_totals(page, year, site, scope, method, co2e) if total else {})
    name = "_ledger_rows.html" if request.headers.get("HX-Request") == "true" else "ledger.html"
    return page.render(name, **context)


def _method_totals(page: Page, year: int, site: str | None, scope: str | None, method: str | None,
                   co2e: float) -> dict[str, float]:
    """The totals the ledger page shows, by Scope 2 method: the chosen method's alone, or without a method one
    per method (rows of both methods, i.e. Scope 1 and 3, plus that method's Scope 2 rows). The rows of all
    methods summed together count Scope 2 twice, so that sum is never shown."""
    if method is not None:
        return {method: co2e}
    return {m: accounting.ledger_page(page.sessions, page.org, year, site=site, scope=scope, method=m,
                                      limit=0).co2e_t for m in ("location", "market")}


# --- audit ----------------------------------------------------------------------------------------------------

@router.get("/orgs/{org}/audit")
def audit_page(request: Request, org: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    page = Page(request, org, "audit.read")
    entries = list(reversed(audit.log(page.sessions, org, limit)))
    verification = audit.verify(page.sessions)
    return page.render("audit.html", entries=entries, verification=verification)

