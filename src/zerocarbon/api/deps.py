"""Who is calling and what they may do, as FastAPI dependencies.

A machine client sends ``Authorization: Bearer <token>``; a person sends the login-session cookie and, on
every state-changing request, the CSRF token it got at login in ``X-CSRF-Token``. ``requires(action)``
takes the organisation from the URL and checks the caller's membership and role (or token scope) there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import sessionmaker

from zerocarbon.errors import AuthenticationError, PermissionDeniedError
from zerocarbon.services import auth

SESSION_COOKIE = "zc_session"
CSRF_COOKIE = "zc_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, scheme_name="token", description="API token (`zerocarbon users token create`)")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="session",
                       description="login session from POST /api/v1/auth/login; unsafe methods also need the "
                                   f"{CSRF_HEADER} header")


def get_sessions(request: Request) -> sessionmaker:
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

OrgPath = Annotated[str, Path(description="organisation code", max_length=64)]


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

    def dependency(org: OrgPath, principal: CurrentPrincipal, sessions: Sessions) -> Acting:
        return Acting(sessions, principal, auth.authorize(sessions, principal, org, action))

    dependency.action = action  # read by the tests and the documentation of each endpoint
    return Depends(dependency)


def requires_any(*actions: str):
    """Dependency: the caller may do at least one of ``actions`` in the organisation of the URL (404 if not theirs,
    403 naming every action if it may do none). The endpoint decides from ``Acting.access`` what each allows."""

    def dependency(org: OrgPath, principal: CurrentPrincipal, sessions: Sessions) -> Acting:
        granted = auth.access(sessions, principal, org)
        if not granted.actions & set(actions):
            who = f"role {granted.role}" if granted.role else f"token '{principal.name}'"
            raise PermissionDeniedError(f"{who} may not {' or '.join(actions)} in {org}")
        return Acting(sessions, principal, granted)

    dependency.actions = actions  # read by the tests and the documentation of each endpoint
    return Depends(dependency)


def member(org: OrgPath, principal: CurrentPrincipal, sessions: Sessions) -> Acting:
    """Dependency: the caller belongs to the organisation of the URL (any role)."""
    return Acting(sessions, principal, auth.access(sessions, principal, org))


Member = Annotated[Acting, Depends(member)]
