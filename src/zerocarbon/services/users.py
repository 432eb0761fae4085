"""People and machine clients of an organisation: users, their roles, API tokens.

A user is one person (an e-mail) with an Argon2id password hash; a membership gives them a role in one
organisation (``core.access`` says what each role allows). An API token belongs to one organisation and is
allowed only the actions it was created with; its secret is shown once and only its SHA-256 is kept. Every
change is written to the audit trail in the same transaction; secrets and hashes never are.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from argon2 import PasswordHasher
from sqlalchemy.orm import sessionmaker

from zerocarbon.core.access import ACTIONS, Role, check_actions
from zerocarbon.errors import InputError, NotFoundError, Problem
from zerocarbon.store import repos
from zerocarbon.store import users as store

LOCALES = ("zh-CN", "en")
PASSWORD_MIN_LENGTH = 12
# Argon2 cost grows with the length; a megabyte password is a denial of service, not a password.
PASSWORD_MAX_LENGTH = 1024
TOKEN_PREFIX = "zct"

# RFC 9106's second recommended Argon2id option (64 MiB, 3 passes) as argon2-cffi ships it by default.
hasher = PasswordHasher()

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class UserInfo:
    email: str
    display_name: str
    active: bool
    locale: str
    memberships: tuple[tuple[str, str], ...]  # (organisation code, role)


@dataclass(frozen=True)
class TokenInfo:
    id: int
    organisation: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None


def now() -> datetime:
    """The current instant, UTC-aware, as every instant of users, tokens and sessions is stored and read."""
    return datetime.now(timezone.utc)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_secret(prefix: str) -> tuple[str, str]:
    """(key id, secret) where the secret reads ``PREFIX_KEYID_RANDOM``: the key id finds the row, the random part
    (256 bits) is what an attacker would have to guess."""
    key_id = secrets.token_hex(8)
    return key_id, f"{prefix}_{key_id}_{secrets.token_urlsafe(32)}"


def split_secret(prefix: str, secret: str) -> str | None:
    """The key id of a secret of this kind, or None when it is not one."""
    head, _, rest = secret.partition("_")
    key_id, _, random = rest.partition("_")
    if head != prefix or len(key_id) != 16 or not random:
        return None
    return key_id


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InputError([Problem("email", None, None, f"'{email}' is not an e-mail address")])
    return email


def check_password(password: str, email: str) -> None:
    if len(password or "") < PASSWORD_MIN_LENGTH:
        raise InputError([Problem("password", None, None,
                                  f"needs at least {PASSWORD_MIN_LENGTH} characters; a passphrase of a few words works")])
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InputError([Problem("password", None, None, f"is longer than {PASSWORD_MAX_LENGTH} characters")])
    if password.strip().lower() == email:
        raise InputError([Problem("password", None, None, "must not be the e-mail address")])


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InputError([Problem("role", None, None,
                                  f"unknown role '{role}'; one of {', '.join(r.value for r in Role)}")]) from None


def _org_id(s, org: str) -> int:
    org_id = store.organisation_id(s, org)
    if org_id is None:
        raise NotFoundError(f"organisation '{org}' is not in the database; run `zerocarbon org load` first")
    return org_id


def user_info(s, row: store.UserRow) -> UserInfo:
    return UserInfo(row.email, row.display_name, row.active, row.locale,
                    tuple((code, role) for code, _, role in store.memberships_of(s, row.id)))


def user_exists(sessions: sessionmaker, email: str) -> bool:
    with sessions.begin() as s:
        return store.user_by_email(s, normalise_email(email)) is not None


def add_member(sessions: sessionmaker, email: str, org: str, role: str, password: str | None = None,
               display_name: str | None = None, locale: str = "zh-CN", *, actor: str) -> UserInfo:
    """Give ``email`` the ``role`` in ``org``; a new user is created first and then needs a ``password``.

    An existing member's role is changed. There is no default password: a new user without one is refused.
    """
    email = normalise_email(email)
    role_ = _role(role)
    if locale not in LOCALES:
        raise InputError([Problem("locale", None, None, f"'{locale}' is not one of {', '.join(LOCALES)}")])
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        user = store.user_by_email(s, email)
        if user is None:
            if password is None:
                raise InputError([Problem("password", None, None, f"{email} is a new user and needs a password")])
            check_password(password, email)
            user = store.UserRow(email=email, display_name=display_name or email.partition("@")[0],
                                 password_hash=hasher.hash(password), active=True, locale=locale, created_at=now(),
                                 created_by=actor)
            store.add(s, user)
            repos.audit(s, actor, "user.add", f"user:{email}", locale=locale)
        member = store.membership(s, user.id, org_id)
        if member is None:
            store.add(s, store.MembershipRow(user_id=user.id, organisation_id=org_id, role=role_.value,
                                             created_at=now(), created_by=actor))
            repos.audit(s, actor, "membership.grant", f"user:{email}", org_id=org_id, role=role_.value)
        elif member.role != role_.value:
            repos.audit(s, actor, "membership.grant", f"user:{email}", org_id=org_id, role=role_.value,
                        previous_role=member.role)
            member.role = role_.value
        return user_info(s, user)


def remove_member(sessions: sessionmaker, email: str, org: str, *, actor: str) -> None:
    email = normalise_email(email)
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        user = store.user_by_email(s, email)
        member = store.membership(s, user.id, org_id) if user is not None else None
        if member is None:
            raise NotFoundError(f"{email} is not a member of {org}")
        repos.audit(s, actor, "membership.revoke", f"user:{email}", org_id=org_id, role=member.role)
        s.delete(member)


def set_password(sessions: sessionmaker, email: str, password: str, *, actor: str) -> None:
    """Replace a user's password; their open login sessions end."""
    email = normalise_email(email)
    check_password(password, email)
    with sessions.begin() as s:
        user = store.user_by_email(s, email)
        if user is None:
            raise NotFoundError(f"no user {email}")
        user.password_hash = hasher.hash(password)
        store.delete_login_sessions(s, user_id=user.id)
        repos.audit(s, actor, "user.password", f"user:{email}")


def set_active(sessions: sessionmaker, email: str, active: bool, *, actor: str) -> UserInfo:
    """Disable (or enable again) a user everywhere; disabling ends their login sessions."""
    email = normalise_email(email)
    with sessions.begin() as s:
        user = store.user_by_email(s, email)
        if user is None:
            raise NotFoundError(f"no user {email}")
        user.active = active
        if not active:
            store.delete_login_sessions(s, user_id=user.id)
        repos.audit(s, actor, "user.enable" if active else "user.disable", f"user:{email}")
        return user_info(s, user)


def list_users(sessions: sessionmaker, org: str | None = None) -> list[UserInfo]:
    """Every user, or the members of ``org``, by e-mail."""
    with sessions.begin() as s:
        org_id = _org_id(s, org) if org else None
        return [user_info(s, u) for u in store.users(s, org_id)]


# -- API tokens -------------------------------------------------------------------------------------
def _token_info(row: store.ApiTokenRow, org: str) -> TokenInfo:
    return TokenInfo(row.id, org, row.name, tuple(row.scopes), row.created_at, row.created_by, row.last_used_at,
                     row.revoked_at, row.revoked_by)


def create_token(sessions: sessionmaker, org: str, name: str, scopes: list[str],
                 *, actor: str) -> tuple[TokenInfo, str]:
    """A new token for ``org`` allowed ``scopes`` (actions of ``core.access``); returns its info and the secret,
    which is not stored and cannot be shown again."""
    problems = []
    if not _NAME.match(name or ""):
        problems.append(Problem("name", None, None, "use 1-64 letters, digits, '.', '_' or '-'"))
    if not scopes:
        problems.append(Problem("scope", None, None, f"give at least one action: {', '.join(ACTIONS)}"))
    for bad in check_actions(list(scopes)):
        problems.append(Problem("scope", None, None, f"unknown action '{bad}'; one of {', '.join(ACTIONS)}"))
    if problems:
        raise InputError(problems)
    scopes = sorted(set(scopes), key=list(ACTIONS).index)
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        if store.tokens(s, org_id, name, active_only=True):
            raise InputError([Problem("name", None, None, f"{org} already has an active token '{name}'; revoke it "
                                                          "first or choose another name")])
        key_id, secret = new_secret(TOKEN_PREFIX)
        row = store.ApiTokenRow(organisation_id=org_id, name=name, key_id=key_id, secret_hash=sha256(secret),
                                scopes=scopes, created_at=now(), created_by=actor)
        store.add(s, row)
        repos.audit(s, actor, "token.create", f"token:{name}", org_id=org_id, scopes=scopes, token_id=row.id)
        return _token_info(row, org), secret


def revoke_token(sessions: sessionmaker, org: str, name: str, *, actor: str) -> list[TokenInfo]:
    """Revoke every active token of ``org`` called ``name``; the next request with it is refused."""
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        rows = store.tokens(s, org_id, name, active_only=True)
        if not rows:
            raise NotFoundError(f"{org} has no active token '{name}'; see `zerocarbon users token list --org {org}`")
        for row in rows:
            row.revoked_at, row.revoked_by = now(), actor
            repos.audit(s, actor, "token.revoke", f"token:{name}", org_id=org_id, token_id=row.id)
        s.flush()
        return [_token_info(r, org) for r in rows]


def list_tokens(sessions: sessionmaker, org: str) -> list[TokenInfo]:
    with sessions.begin() as s:
        return [_token_info(r, org) for r in store.tokens(s, _org_id(s, org))]


__all__ = ["LOCALES", "TokenInfo", "UserInfo", "add_member", "create_token", "list_tokens", "list_users",
           "remove_member", "revoke_token", "set_active", "set_password", "user_exists", "user_info"]
