"""People, their memberships of organisations, API tokens, login sessions and failed logins.

Secrets are never stored: a password as its Argon2id hash, a token or session as the SHA-256 of its secret
beside a public key id used to find the row. Functions take an open Session; services own the transaction.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Boolean, ForeignKey, Index, String, UniqueConstraint, bindparam, delete, func,
                        select, update)
from sqlalchemy.orm import Mapped, Session, mapped_column

from zerocarbon.store.tables import Base, OrganisationRow, UTCDateTime


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(256))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean)
    locale: Mapped[str] = mapped_column(String(8))  # zh-CN | en
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))


class MembershipRow(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    # The supplier (suppliers.code) a member with the supplier role speaks for; None for everyone else.
    supplier_code: Mapped[str | None] = mapped_column(String(64))


class ApiTokenRow(Base):
    """A machine client's credential for one organisation, allowed only the actions in ``scopes``."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(128))


class LoginSessionRow(Base):
    """A person's login: the cookie holds the secret, the row its hash and the hash of its CSRF token."""

    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    csrf_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str] = mapped_column(String(64))


class LoginFailureRow(Base):
    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key", "email", "ip", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- users and memberships --------------------------------------------------------------------------
def user_by_email(session: Session, email: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.email == email))


def organisation_id(session: Session, code: str) -> int | None:
    return session.scalar(select(OrganisationRow.id).where(OrganisationRow.code == code))


def organisation_code(session: Session, org_id: int) -> str:
    return session.scalar(select(OrganisationRow.code).where(OrganisationRow.id == org_id))


def organisation_name(session: Session, code: str) -> str | None:
    return session.scalar(select(OrganisationRow.name).where(OrganisationRow.code == code))


def membership(session: Session, user_id: int, org_id: int) -> MembershipRow | None:
    return session.scalar(select(MembershipRow).where(MembershipRow.user_id == user_id,
                                                      MembershipRow.organisation_id == org_id))


# The checks made on every request: statements built once (building and caching a statement per call costs
# more than running it), columns rather than ORM objects.
_ROLE_IN = (select(MembershipRow.role).join(OrganisationRow, OrganisationRow.id == MembershipRow.organisation_id)
            .where(MembershipRow.user_id == bindparam("user_id"), OrganisationRow.code == bindparam("code")))


def role_in(session: Session, user_id: int, org_code: str) -> str | None:
    """The role of a user in the organisation with this code (None: not a member, or no such organisation)."""
    return session.execute(_ROLE_IN, {"user_id": user_id, "code": org_code}).scalar()


_MEMBERSHIPS_OF = (select(OrganisationRow.code, OrganisationRow.name, MembershipRow.role)
                   .join(MembershipRow, MembershipRow.organisation_id == OrganisationRow.id)
                   .where(MembershipRow.user_id == bindparam("user_id")).order_by(OrganisationRow.code))


def memberships_of(session: Session, user_id: int) -> list[tuple[str, str, str]]:
    """(organisation code, organisation name, role) of every membership of a user, by code."""
    return [tuple(r) for r in session.execute(_MEMBERSHIPS_OF, {"user_id": user_id})]


def users(session: Session, org_id: int | None = None) -> list[UserRow]:
    q = select(UserRow).order_by(UserRow.email)
    if org_id is not None:
        q = q.join(MembershipRow, MembershipRow.user_id == UserRow.id).where(MembershipRow.organisation_id == org_id)
    return list(session.scalars(q))


def add(session: Session, row) -> None:
    session.add(row)
    session.flush()


# -- tokens -----------------------------------------------------------------------------------------
def token_by_key(session: Session, key_id: str) -> ApiTokenRow | None:
    return session.scalar(select(ApiTokenRow).where(ApiTokenRow.key_id == key_id))


_TOKEN_AND_ORGANISATION = (
    select(ApiTokenRow.id, ApiTokenRow.name, ApiTokenRow.secret_hash, ApiTokenRow.scopes, ApiTokenRow.revoked_at,
           ApiTokenRow.last_used_at, OrganisationRow.code.label("organisation"))
    .join(OrganisationRow, OrganisationRow.id == ApiTokenRow.organisation_id)
    .where(ApiTokenRow.key_id == bindparam("key_id")))


def token_and_organisation(session: Session, key_id: str):
    """The token with this key id and the code of its organisation, in one query: a row with id, name,
    secret_hash, scopes, revoked_at, last_used_at and organisation; None if there is no such token."""
    return session.execute(_TOKEN_AND_ORGANISATION, {"key_id": key_id}).first()


def token_used(session: Session, token_id: int, at: datetime) -> None:
    session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=at))


def tokens(session: Session, org_id: int, name: str | None = None, active_only: bool = False) -> list[ApiTokenRow]:
    q = select(ApiTokenRow).where(ApiTokenRow.organisation_id == org_id)
    if name is not None:
        q = q.where(ApiTokenRow.name == name)
    if active_only:
        q = q.where(ApiTokenRow.revoked_at.is_(None))
    return list(session.scalars(q.order_by(ApiTokenRow.id)))


# -- login sessions and failures --------------------------------------------------------------------
def login_session_by_key(session: Session, key_id: str) -> LoginSessionRow | None:
    return session.scalar(select(LoginSessionRow).where(LoginSessionRow.key_id == key_id))


_LOGIN_SESSION_AND_USER = (
    select(LoginSessionRow.secret_hash, LoginSessionRow.csrf_hash, LoginSessionRow.expires_at,
           UserRow.id.label("user_id"), UserRow.email, UserRow.active, UserRow.locale)
    .join(UserRow, UserRow.id == LoginSessionRow.user_id)
    .where(LoginSessionRow.key_id == bindparam("key_id")))


def login_session_and_user(session: Session, key_id: str):
    """The login session with this key id and its user, in one query: a row with secret_hash, csrf_hash,
    expires_at, user_id, email, active and locale; None if there is no such session."""
    return session.execute(_LOGIN_SESSION_AND_USER, {"key_id": key_id}).first()


def delete_login_sessions(session: Session, *, key_id: str | None = None, user_id: int | None = None,
                          expired_before: datetime | None = None) -> None:
    q = delete(LoginSessionRow)
    if key_id is not None:
        q = q.where(LoginSessionRow.key_id == key_id)
    if user_id is not None:
        q = q.where(LoginSessionRow.user_id == user_id)
    if expired_before is not None:
        q = q.where(LoginSessionRow.expires_at < expired_before)
    session.execute(q)


def count_failures(session: Session, email: str, ip: str, since: datetime) -> tuple[int, datetime | None]:
    """Failed logins for this e-mail and address since ``since``, and the time of the oldest of them."""
    n, first = session.execute(select(func.count(), func.min(LoginFailureRow.at)).where(
        LoginFailureRow.email == email, LoginFailureRow.ip == ip, LoginFailureRow.at >= since)).one()
    return int(n), first


def clear_failures(session: Session, email: str, ip: str | None = None, before: datetime | None = None) -> None:
    q = delete(LoginFailureRow).where(LoginFailureRow.email == email)
    if ip is not None:
        q = q.where(LoginFailureRow.ip == ip)
    if before is not None:
        q = q.where(LoginFailureRow.at < before)
    session.execute(q)


__all__ = ["ApiTokenRow", "LoginFailureRow", "LoginSessionRow", "MembershipRow", "UserRow"]
