"""What every answer of the server says to the browser, and how much a request may send.

``install(app, html=...)`` puts two ASGI middlewares around the application:

- :class:`SecurityHeaders` adds to every response (errors included) a Content-Security-Policy that allows
  scripts only from the server itself plus the inline scripts shipped in the templates (by their SHA-256, so an
  injected script does not run), ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, a
  Referrer-Policy and a Permissions-Policy; ``Cache-Control: no-store`` on an answer to a logged-in caller that
  does not set its own caching; HSTS when the request came over HTTPS; and ``Content-Disposition: attachment`` on
  the API's JSON answers.
- :class:`BodyLimit` refuses a request body larger than ``limits.max_upload_bytes()`` with 413: at the first read
  when the Content-Length says so, else as soon as the bytes read pass the limit, before a file is complete on
  disk.

``csrf_guard`` is the dependency the page routers are included with: a state-changing page request made with a
login-session cookie must echo the session's CSRF token (form field ``csrf`` or the ``X-CSRF-Token`` header),
checked before the form is validated or anything is done, whatever the page itself checks.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zerocarbon import limits
from zerocarbon.api.deps import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE
from zerocarbon.services import auth

PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
                      "payment=(), usb=(), interest-cohort=()")
HSTS = "max-age=31536000; includeSubDomains"
# Login pages and forms post only here; the login form's ``next`` is checked to be local (web/routes.py).
CSRF_EXEMPT = frozenset({"/web/login"})

_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)
_HANDLER = re.compile(r"""\son[a-z]+="(?P<body>[^"]*)\"""", re.I)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def inline_hashes(texts: Iterable[str]) -> tuple[list[str], list[str]]:
    """The CSP hashes of the inline scripts and of the inline event handlers in ``texts`` (templates or pages
    the server renders itself). A script or handler with template code in it (``{{``, ``{%``) would hash
    differently once rendered, so it is refused here: such code belongs in a static file."""
    scripts, handlers = set(), set()
    for text in texts:
        for m in _INLINE_SCRIPT.finditer(text):
            attrs, body = m.group("attrs"), m.group("body")
            if "src=" in attrs or "application/json" in attrs:
                continue  # a file the policy allows by origin, or data a browser never runs
            if "{{" in body or "{%" in body:
                raise ValueError(f"an inline script holds template code, so no hash can allow it: {body[:80]!r}")
            scripts.add(_sha256(body))
        for m in _HANDLER.finditer(text):
            if "{{" in m.group("body") or "{%" in m.group("body"):
                raise ValueError(f"an inline event handler holds template code: {m.group('body')[:80]!r}")
            handlers.add(_sha256(m.group("body")))
    return sorted(scripts), sorted(handlers)


def template_texts(package: str = "zerocarbon.web") -> list[str]:
    """Every template the pages render, as shipped."""
    root = Path(str(files(package).joinpath("templates")))
    return [p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.html"))]


def content_security_policy(scripts: list[str], handlers: list[str]) -> str:
    script_src = ["'self'", *scripts]
    if handlers:
        # 'unsafe-hashes' lets only the listed handler texts run (e.g. onchange="this.form.submit()").
        script_src += ["'unsafe-hashes'", *handlers]
    return "; ".join((
        "default-src 'self'",
        "script-src " + " ".join(script_src),
        # Charts (ECharts tooltips) and Swagger UI write style attributes; styles cannot run code.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


class SecurityHeaders:
    """Adds the security headers to every HTTP response of ``app`` (see the module docstring)."""

    def __init__(self, app: ASGIApp, policy: str):
        self.app = app
        self.fixed = [(b"content-security-policy", policy.encode()), (b"x-content-type-options", b"nosniff"),
                      (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"),
                      (b"permissions-policy", PERMISSIONS_POLICY.encode()),
                      (b"cross-origin-opener-policy", b"same-origin")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = dict(scope.get("headers") or [])
        cookies = request_headers.get(b"cookie", b"")
        authenticated = b"authorization" in request_headers or (SESSION_COOKIE.encode() + b"=") in cookies
        https = scope.get("scheme") == "https"
        api = scope.get("path", "").startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.fixed if k not in present]
                # A logged-in answer (or one that sets the login cookie) is kept by no cache unless the endpoint
                # chose its own caching (a revalidated read: ``private, no-cache`` with an ETag; a static file).
                if b"cache-control" not in present and (authenticated or b"set-cookie" in present):
                    headers.append((b"cache-control", b"no-store"))
                if https:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                # An API answer opened in a browser tab is a download, never a document (ASVS 14.4.2).
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if api and b"json" in content_type and b"content-disposition" not in present:
                    headers.append((b"content-disposition", b'attachment; filename="api.json"'))
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    """A request body over the limit: 413, rendered by the API's and the pages' error handlers."""

    def __init__(self, limit_bytes: int):
        super().__init__(413, f"the request body is larger than {limit_bytes // 2**20} MB, the most this server "
                              f"accepts ({limits.MAX_UPLOAD_ENV}); nothing was written. Split the file, or ask the "
                              "operator to raise the limit")


class BodyLimit:
    """Refuses request bodies over ``limits.max_upload_bytes()`` (read per request, so a test or an operator
    changes it without a restart of the code that builds the app)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        limit = limits.max_upload_bytes()
        declared = dict(scope.get("headers") or []).get(b"content-length")
        # Too large by its own account: refused at the first read, before a byte of it is taken in. The error
        # goes through the application's handlers, so the API answers problem details and a page an error page.
        too_large = declared is not None and declared.isdigit() and int(declared) > limit
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            if too_large:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge as exc:
            # Raised where no handler turned it into an answer (a body read outside FastAPI's parsing).
            if started:
                raise
            await _refuse(scope, send, exc)


async def _refuse(scope: Scope, send: Send, exc: BodyTooLarge) -> None:
    path = scope.get("path", "")
    body = json.dumps({"type": "urn:zerocarbon:problem:too-large", "title": "Request body too large",
                       "status": 413, "detail": exc.detail, "instance": path}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def csrf_guard(request: Request) -> None:
    """Dependency of the page routers: refuse (403) a state-changing request that carries the login-session cookie
    but not that session's CSRF token. A request without the cookie goes on to the page, which sends it to the
    login page."""
    if request.method in SAFE_METHODS or request.url.path in CSRF_EXEMPT:
        return
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return
    presented = request.headers.get(CSRF_HEADER)
    if not presented and "form" in request.headers.get("content-type", ""):
        form = await request.form()  # parsed once: the endpoint's own form fields read the same parse
        value = form.get("csrf")
        presented = value if isinstance(value, str) else None
    principal = await run_in_threadpool(auth.from_session, request.app.state.sessions, cookie)
    auth.check_csrf(principal, presented)


def install(app: FastAPI, html: Iterable[str] = ()) -> None:
    """Wrap ``app`` in the header middleware (outermost, so even a 500 carries the headers) and the body limit.
    ``html``: the texts of pages the app renders; their inline scripts are allowed by hash (see ``allow_inline``)."""
    app.state.inline_html = []
    allow_inline(app, html)
    app.add_middleware(BodyLimit)
    build = app.build_middleware_stack
    # The stack is built at the first request, after every router (and its pages) has been added.
    app.build_middleware_stack = lambda: SecurityHeaders(build(), app.state.content_security_policy)


def allow_inline(app: FastAPI, html: Iterable[str]) -> None:
    """Allow the inline scripts of ``html`` (templates or pages the server renders itself) in the policy."""
    app.state.inline_html.extend(html)
    app.state.content_security_policy = content_security_policy(*inline_hashes(app.state.inline_html))


__all__ = ["BodyLimit", "allow_inline", "BodyTooLarge", "SecurityHeaders", "content_security_policy", "csrf_guard",
           "inline_hashes", "install", "template_texts"]
