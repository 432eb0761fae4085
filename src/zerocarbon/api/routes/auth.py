"""Login sessions for people: log in, log out, who am I."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from zerocarbon.api.deps import CSRF_COOKIE, SESSION_COOKIE, CurrentPrincipal, Sessions
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.schemas import LoginIn, LoginOut, MeOut, OrganisationOut, UserOut
from zerocarbon.services import auth

router = APIRouter(prefix="/auth", tags=["auth"], responses=RESPONSES)


def _cookie(response: Response, name: str, value: str, max_age: int, http_only: bool) -> None:
    # Secure + SameSite=Strict: never sent over plain HTTP (browsers treat localhost as secure) nor from another
    # site's page.
    response.set_cookie(name, value, max_age=max_age, httponly=http_only, secure=True, samesite="strict", path="/")


@router.post("/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, sessions: Sessions) -> JSONResponse:
    """Log in with e-mail and password: sets the session cookie (HttpOnly) and a readable CSRF cookie, and
    returns the CSRF token to send as X-CSRF-Token. Five failures for one e-mail from one address, or twenty from
    one address for any e-mails, within 15 minutes block further attempts (429 with Retry-After) until the oldest
    is 15 minutes old. A session cookie sent along is ended: the login always opens a new session."""
    result = auth.login(sessions, body.email, body.password, request.client.host if request.client else "unknown",
                        replaces=request.cookies.get(SESSION_COOKIE))
    out = LoginOut(user=UserOut.of(result.user), csrf_token=result.csrf_token, expires_at=result.expires_at)
    response = JSONResponse(out.model_dump(mode="json"))
    seconds = int(auth.SESSION_LIFETIME.total_seconds())
    _cookie(response, SESSION_COOKIE, result.session_secret, seconds, http_only=True)
    _cookie(response, CSRF_COOKIE, result.csrf_token, seconds, http_only=False)
    return response


@router.post("/logout", status_code=204)
def logout(request: Request, principal: CurrentPrincipal, sessions: Sessions) -> Response:
    """End the login session (its cookie no longer works, even if kept)."""
    auth.logout(sessions, request.cookies.get(SESSION_COOKIE, ""))
    response = Response(status_code=204)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=True, samesite="strict")
    return response


@router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal, sessions: Sessions) -> MeOut:
    """The caller (a user or a token) and the organisations it may act in, with the allowed actions."""
    user = auth.whoami(sessions, principal)
    orgs = [OrganisationOut(code=code, name=name, role=a.role, actions=sorted(a.actions))
            for code, name, a in auth.organisations(sessions, principal)]
    return MeOut(kind=principal.kind, name=principal.name, user=UserOut.of(user) if user else None,
                 organisations=orgs)
