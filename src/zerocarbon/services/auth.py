"""Who is asking, and may they: password login with rate limiting, login sessions, API tokens, access checks.

A request is made by a ``Principal``: a person logged in (a login session) or a machine client (an API
token). ``authorize`` answers for one organisation and one action of ``core.access``. An organisation the
principal does not belong to is reported as not found, exactly like one that does not exist, so nobody can
learn which organisations are there.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker

from zerocarbon.core.access import actions_of
from zerocarbon.errors import AuthenticationError, NotFoundError, PermissionDeniedError, RateLimitedError
from zerocarbon.services import users
from zerocarbon.services.users import UserInfo, now, sha256, split_secret
from zerocarbon.store import users as store

SESSION_PREFIX = "zcs"
SESSION_LIFETIME = timedelta(hours=12)
LOGIN_FAILURES_ALLOWED = 5  # per e-mail and client address ...
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)  # ... within this window
# Per client address whatever the e-mail, so one address cannot try a password against many accounts. Higher than
# the per-e-mail limit: several people behind one plant gateway share an address.
LOGIN_FAILURES_PER_ADDRESS = 20
# A token's last use is written at most this often, so a busy gateway does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

_INVALID = "e-mail or password is wrong"


@dataclass(frozen=True)
class Principal:
    kind: str  # user | token
    id: int
    name: str  # e-mail of a user, name of a token
    organisation: str | None = None  # a token acts for this organisation only
    scopes: frozenset[str] = frozenset()  # a token's allowed actions
    csrf_hash: str | None = None  # a login session's CSRF token, hashed
    locale: str | None = None  # a person's language (zh-CN | en), read with the login session

    @property
    def actor(self) -> str:
        """How the audit trail names the principal: ``user:alice@acme.cn`` or ``token:gateway-1``."""
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Access:
    organisation: str
    role: str | None  # None for a token
    actions: frozenset[str]


@dataclass(frozen=True)
class Login:
    user: UserInfo
    session_secret: str
    csrf_token: str
    expires_at: datetime


_dummy_hash: str | None = None


def _verify_password(password_hash: str | None, password: str) -> bool:
    """Argon2 check. Without a hash (unknown or disabled user) a dummy hash is checked and the answer is no, so
    the reply takes as long as for a known user."""
    global _dummy_hash
    if password_hash is None:
        _dummy_hash = _dummy_hash or users.hasher.hash(users.new_secret("dummy")[1])
    try:
        matches = users.hasher.verify(password_hash or _dummy_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return matches and password_hash is not None and len(password) <= users.PASSWORD_MAX_LENGTH


def _address_failures(s, ip: str, since: datetime) -> tuple[int, datetime | None]:
    """Failed logins from ``ip`` since ``since``, any e-mail, and the time of the oldest of them."""
    n, first = s.execute(select(func.count(), func.min(store.LoginFailureRow.at)).where(
        store.LoginFailureRow.ip == ip, store.LoginFailureRow.at >= since)).one()
    return int(n), first


def login(sessions: sessionmaker, email: str, password: str, ip: str, replaces: str | None = None) -> Login:
    """Check a person's password and open a new login session.

    Raises RateLimitedError after LOGIN_FAILURES_ALLOWED failures for this e-mail from this address, or
    LOGIN_FAILURES_PER_ADDRESS from this address for any e-mails, within LOGIN_FAILURE_WINDOW (the password is then
    not even checked), AuthenticationError on a wrong e-mail or password or a disabled user (one message for all,
    so the reply does not tell which e-mails exist).

    ``replaces``: the session cookie the browser sent with the login, if any. The new session never reuses it
    (its secret is always new) and the old one is ended, so a session planted in a browser before the login is
    worth nothing after it.
    """
    email = (email or "").strip().lower()[:320]
    ip = (ip or "unknown")[:64]
    at = now()
    since = at - LOGIN_FAILURE_WINDOW
    with sessions.begin() as s:
        checks = ((store.count_failures(s, email, ip, since), LOGIN_FAILURES_ALLOWED, f"{email} from {ip}"),
                  (_address_failures(s, ip, since), LOGIN_FAILURES_PER_ADDRESS, f"any e-mail from {ip}"))
        for (failures, first), allowed, whose in checks:
            if failures >= allowed:
                wait = int((first + LOGIN_FAILURE_WINDOW - at).total_seconds()) + 1
                raise RateLimitedError(f"too many failed logins for {whose}; try again in {wait} s", wait)
        user = store.user_by_email(s, email)
        user_id, password_hash = (user.id, user.password_hash) if user is not None and user.active else (None, None)
    # Argon2 takes tens of milliseconds on purpose: outside any transaction.
    ok = _verify_password(password_hash, password or "")
    with sessions.begin() as s:
        if not ok:
            # Failures older than the window count for nobody: dropped, whichever e-mail they were for.
            s.execute(delete(store.LoginFailureRow).where(store.LoginFailureRow.at < since))
            store.add(s, store.LoginFailureRow(email=email, ip=ip, at=at))
    if not ok:
        raise AuthenticationError(_INVALID)
    if replaces:
        logout(sessions, replaces)
    key_id, secret = users.new_secret(SESSION_PREFIX)
    csrf = users.new_secret("csrf")[1]
    with sessions.begin() as s:
        store.clear_failures(s, email, ip)
        store.delete_login_sessions(s, user_id=user_id, expired_before=at)
        user = s.get(store.UserRow, user_id)
        if users.hasher.check_needs_rehash(user.password_hash):
            user.password_hash = users.hasher.hash(password)
        store.add(s, store.LoginSessionRow(key_id=key_id, secret_hash=sha256(secret), csrf_hash=sha256(csrf),
                                           user_id=user_id, created_at=at, expires_at=at + SESSION_LIFETIME, ip=ip))
        info = users.user_info(s, user)
    return Login(info, secret, csrf, at + SESSION_LIFETIME)


def logout(sessions: sessionmaker, session_secret: str) -> None:
    key_id = split_secret(SESSION_PREFIX, session_secret or "")
    if key_id is not None:
        with sessions.begin() as s:
            row = store.login_session_by_key(s, key_id)
            if row is not None and hmac.compare_digest(row.secret_hash, sha256(session_secret)):
                store.delete_login_sessions(s, key_id=key_id)


def from_session(sessions: sessionmaker, session_secret: str) -> Principal:
    """The person a login-session cookie belongs to; AuthenticationError when unknown, expired or disabled.

    Every page and API call made with the cookie comes through here: one query (session and user together),
    and the secret is checked by SHA-256, never by Argon2.
    """
    try:
        with sessions.begin() as s:
            return _session_principal(s, session_secret)
    except _SessionEnded as ended:
        _forget(sessions, ended.key_id)


class _SessionEnded(Exception):
    """An expired session, or one of a disabled user: its row goes in a transaction of its own, since the
    refusal rolls back the transaction that found it."""

    def __init__(self, key_id: str):
        super().__init__(key_id)
        self.key_id = key_id


def _forget(sessions: sessionmaker, key_id: str):
    with sessions.begin() as s:
        store.delete_login_sessions(s, key_id=key_id)
    raise AuthenticationError("the login session has ended; log in again")


def _session_principal(s, session_secret: str) -> Principal:
    key_id = split_secret(SESSION_PREFIX, session_secret or "")
    row = store.login_session_and_user(s, key_id) if key_id else None
    if row is None or not hmac.compare_digest(row.secret_hash, sha256(session_secret)):
        raise AuthenticationError("not logged in, or the login session has ended; log in again")
    if row.expires_at <= now() or not row.active:
        raise _SessionEnded(key_id)
    return Principal("user", row.user_id, row.email, csrf_hash=row.csrf_hash, locale=row.locale)


def page_access(sessions: sessionmaker, session_secret: str, org: str, action: str | None = None
                ) -> tuple[Principal, Access, list[tuple[str, str, Access]]]:
    """What a dashboard page needs of its caller, in one transaction of two queries: the person of the
    login-session cookie (as :func:`from_session`), their access in ``org`` (as :func:`authorize` with
    ``action``, :func:`access` without) and every organisation they belong to (as :func:`organisations`)."""
    try:
        with sessions.begin() as s:
            principal = _session_principal(s, session_secret)
            memberships = store.memberships_of(s, principal.id)
    except _SessionEnded as ended:
        _forget(sessions, ended.key_id)
    mine = [(code, name, Access(code, role, actions_of(role))) for code, name, role in memberships]
    granted = next((a for code, _, a in mine if code == org), None)
    if granted is None:
        raise _not_found(org)
    if action is not None and action not in granted.actions:
        raise PermissionDeniedError(f"role {granted.role} may not {action} in {org}")
    return principal, granted, mine


def from_token(sessions: sessionmaker, token: str) -> Principal:
    """The API token behind a bearer secret; AuthenticationError when unknown or revoked.

    One query (the token and its organisation's code); the last use is written at most once a
    LAST_USED_RESOLUTION.
    """
    key_id = split_secret(users.TOKEN_PREFIX, token or "")
    with sessions.begin() as s:
        row = store.token_and_organisation(s, key_id) if key_id else None
        if row is None or not hmac.compare_digest(row.secret_hash, sha256(token)):
            raise AuthenticationError("unknown API token")
        if row.revoked_at is not None:
            raise AuthenticationError(f"API token '{row.name}' was revoked")
        at = now()
        if row.last_used_at is None or at - row.last_used_at >= LAST_USED_RESOLUTION:
            store.token_used(s, row.id, at)
        return Principal("token", row.id, row.name, organisation=row.organisation, scopes=frozenset(row.scopes))


def check_csrf(principal: Principal, presented: str | None) -> None:
    """A state-changing request made with a login-session cookie must echo the session's CSRF token."""
    if principal.csrf_hash is None:
        return
    if not presented or not hmac.compare_digest(principal.csrf_hash, sha256(presented)):
        raise PermissionDeniedError("missing or wrong X-CSRF-Token header; send the csrf_token given at login")


def _not_found(org: str) -> NotFoundError:
    return NotFoundError(f"organisation '{org}' not found among the organisations you belong to")


def access(sessions: sessionmaker, principal: Principal, org: str) -> Access:
    """What ``principal`` may do in ``org``; NotFoundError when it is none of theirs (or does not exist)."""
    if principal.kind == "token":
        if org != principal.organisation:
            raise _not_found(org)
        return Access(org, None, principal.scopes)
    with sessions.begin() as s:
        role = store.role_in(s, principal.id, org)
    if role is None:
        raise _not_found(org)
    return Access(org, role, actions_of(role))


def authorize(sessions: sessionmaker, principal: Principal, org: str, action: str) -> Access:
    """``access`` that also requires ``action``: PermissionDeniedError when the role or token scope lacks it."""
    granted = access(sessions, principal, org)
    if action not in granted.actions:
        who = f"role {granted.role}" if granted.role else f"token '{principal.name}'"
        raise PermissionDeniedError(f"{who} may not {action} in {org}")
    return granted


def organisations(sessions: sessionmaker, principal: Principal) -> list[tuple[str, str, Access]]:
    """(code, name, access) of every organisation the principal may act in."""
    with sessions.begin() as s:
        if principal.kind == "token":
            name = store.organisation_name(s, principal.organisation)
            return [(principal.organisation, name, Access(principal.organisation, None, principal.scopes))]
        return [(code, name, Access(code, role, actions_of(role)))
                for code, name, role in store.memberships_of(s, principal.id)]


def whoami(sessions: sessionmaker, principal: Principal) -> UserInfo | None:
    """The user behind a login session (None for a token)."""
    if principal.kind != "user":
        return None
    with sessions.begin() as s:
        return users.user_info(s, s.get(store.UserRow, principal.id))


__all__ = ["Access", "Login", "Principal", "access", "authorize", "check_csrf", "from_session", "from_token",
           "login", "logout", "organisations", "page_access", "whoami"]
