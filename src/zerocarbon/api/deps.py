"""Who is calling and what they may do, as FastAPI dependencies.

A machine client sends ``Authorization: Bearer <token>``; a person sends the login-session cookie and, on
every state-changing request, the CSRF token it got at login in ``X-CSRF-Token``. ``requires(action)``
takes the organisation from the URL and checks the caller's membership and role (or token scope) there.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import sessionmaker

from zerocarbon.errors import AuthenticationError, PermissionDeniedError
from zerocarbon.services import accounting, auth

SESSION_COOKIE = "zc_session"
CSRF_COOKIE = "zc_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, scheme_name="token", description="API token (`zerocarbon users token create`)")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="session",
                       description="login session from POST /api/v1/auth/login; unsafe methods also need the "
                                   f"{CSRF_HEADER} header")


# No I/O: a coroutine, so FastAPI does not hand it to a worker thread. Each synchronous dependency costs a
# thread hand-off per request, so the ones below that reach the database do all they need in one.
async def get_sessions(request: Request) -> sessionmaker:
    return request.app.state.sessions


Sessions = Annotated[sessionmaker, Depends(get_sessions)]


def get_principal(request: Request, sessions: Sessions,
                  bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                  session_cookie: Annotated[str | None, Depends(_cookie)]) -> auth.Principal:
    # A bearer token wins: browsers never attach one on their own, so it needs no CSRF token.
    if bearer is not None:
        return auth.from_token(sessions, bearer.credentials)
    if session_cookie:
        principal = auth.from_session(sessions, session_cookie)
        if request.method not in SAFE_METHODS:
            auth.check_csrf(principal, request.headers.get(CSRF_HEADER))
        return principal
    raise AuthenticationError("log in (POST /api/v1/auth/login) or send an API token as 'Authorization: Bearer ...'")


CurrentPrincipal = Annotated[auth.Principal, Depends(get_principal)]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
SessionCookie = Annotated[str | None, Depends(_cookie)]

OrgPath = Annotated[str, Path(description="organisation code", max_length=64)]
# Rows to skip in a list. Bounded so that a huge number is a 400, not an integer the database cannot hold.
MAX_OFFSET = 2**31 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]


@dataclass(frozen=True)
class Acting:
    """An authorised request: the database, who acts, and for which organisation."""

    sessions: sessionmaker
    principal: auth.Principal
    access: auth.Access

    @property
    def org(self) -> str:
        return self.access.organisation

    @property
    def actor(self) -> str:
        return self.principal.actor


def requires(action: str):
    """Dependency: the caller may do ``action`` in the organisation of the URL (404 if not theirs, 403 if the
    role or token does not allow it)."""

    def dependency(request: Request, org: OrgPath, sessions: Sessions, bearer: Bearer,
                   session_cookie: SessionCookie) -> Acting:
        principal = get_principal(request, sessions, bearer, session_cookie)
        return Acting(sessions, principal, auth.authorize(sessions, principal, org, action))

    dependency.action = action  # read by the tests and the documentation of each endpoint
    return Depends(dependency)


def requires_any(*actions: str):
    """Dependency: the caller may do at least one of ``actions`` in the organisation of the URL (404 if not theirs,
    403 naming every action if it may do none). The endpoint decides from ``Acting.access`` what each allows."""

    def dependency(request: Request, org: OrgPath, sessions: Sessions, bearer: Bearer,
                   session_cookie: SessionCookie) -> Acting:
        principal = get_principal(request, sessions, bearer, session_cookie)
        granted = auth.access(sessions, principal, org)
        if not granted.actions & set(actions):
            who = f"role {granted.role}" if granted.role else f"token '{principal.name}'"
            raise PermissionDeniedError(f"{who} may not {' or '.join(actions)} in {org}")
        return Acting(sessions, principal, granted)

    dependency.actions = actions  # read by the tests and the documentation of each endpoint
    return Depends(dependency)


def member(request: Request, org: OrgPath, sessions: Sessions, bearer: Bearer,
           session_cookie: SessionCookie) -> Acting:
    """Dependency: the caller belongs to the organisation of the URL (any role)."""
    principal = get_principal(request, sessions, bearer, session_cookie)
    return Acting(sessions, principal, auth.access(sessions, principal, org))


Member = Annotated[Acting, Depends(member)]


# --- rendered reads kept per process ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Kept:
    body: bytes
    media_type: str
    etag: str


class ReadCache:
    """Answers of reads rendered before, by key, least recently used dropped first (at most ``entries`` of
    together ``max_bytes``). Only :func:`kept_read` fills it, with keys that carry the data version."""

    def __init__(self, entries: int = 512, max_bytes: int = 64 * 2**20):
        self.entries, self.max_bytes = entries, max_bytes
        self._kept: OrderedDict[Hashable, Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # sync endpoints run in a thread pool

    def get(self, key: Hashable) -> Kept | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: Hashable, kept: Kept) -> None:
        if len(kept.body) > self.max_bytes // 8:
            return
        with self._lock:
            old = self._kept.pop(key, None)
            self._bytes -= len(old.body) if old is not None else 0
            self._kept[key] = kept
            self._bytes += len(kept.body)
            while len(self._kept) > self.entries or self._bytes > self.max_bytes:
                _, dropped = self._kept.popitem(last=False)
                self._bytes -= len(dropped.body)


_cache_lock = threading.Lock()


def read_cache(request: Request) -> ReadCache:
    """The cache of this application (one per app, so one per database)."""
    cache = getattr(request.app.state, "read_cache", None)
    if cache is None:
        with _cache_lock:
            cache = getattr(request.app.state, "read_cache", None)
            if cache is None:
                cache = request.app.state.read_cache = ReadCache()
    return cache


def kept_read(request: Request, sessions: sessionmaker, org: str, build: Callable[[], bytes],
              media_type: str = "application/json", vary: tuple = ()) -> Response:
    """The answer of an authorised read of ``org``'s stored data: ``build()`` (the body), or the body built
    before for the same URL while the data are unchanged, with an ``ETag`` (304 to a matching
    ``If-None-Match``) and ``Cache-Control: private, no-cache``, so a client revalidates each time.

    Call it only after the permission check. The key holds the data version read from the database
    (``accounting.data_version``) before the body is built, so every server process serves a new body as soon
    as any of them changed the data; ``vary`` names whatever else the body depends on (the caller's language,
    name, organisations).
    """
    version = accounting.data_version(sessions)
    key = (org, request.url.path, request.url.query, version, vary)
    cache = read_cache(request)
    kept = cache.get(key)
    if kept is None:
        body = build()
        kept = Kept(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        cache.put(key, kept)
    headers = {"ETag": kept.etag, "Cache-Control": "private, no-cache"}
    match = request.headers.get("if-none-match")
    if match and (match.strip() == "*" or kept.etag in (t.strip().removeprefix("W/") for t in match.split(","))):
        return Response(status_code=304, headers=headers)
    return Response(kept.body, media_type=media_type, headers=headers)
