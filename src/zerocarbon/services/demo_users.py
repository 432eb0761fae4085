"""Demo logins: one member per role of the demo group, each with a password drawn for this run only.

These accounts exist so that `zerocarbon demo --serve` can be tried in a browser role by role. Their passwords
are random per run and printed once; like every password they are stored only as an Argon2id hash.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from zerocarbon.core.access import Role
from zerocarbon.services import users

DEMO_ORG = "DEMO-LAPTOP"
# A domain under no one's control would do; this one says plainly what the accounts are.
DEMO_DOMAIN = "demo.zerocarbon"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


def demo_email(role: Role) -> str:
    return f"{role.value.replace('_', '-')}@{DEMO_DOMAIN}"


def create_demo_users(sessions: sessionmaker, org: str = DEMO_ORG, *, actor: str) -> list[DemoLogin]:
    """One member of ``org`` per role of ``core.access``, in the order the roles are declared.

    Every call draws new passwords (128 random bits, URL-safe text); a demo user that already exists gets
    the new password and the role again, so the printed logins are always the ones that work.
    """
    logins = []
    for role in Role:
        email = demo_email(role)
        password = secrets.token_urlsafe(16)
        existed = users.user_exists(sessions, email)
        users.add_member(sessions, email, org, role.value, password=password, display_name=f"Demo {role.value}",
                         actor=actor)
        if existed:
            users.set_password(sessions, email, password, actor=actor)
        logins.append(DemoLogin(role.value, email, password))
    _tie_supplier(sessions, org, demo_email(Role.supplier), actor=actor)
    return logins


def _tie_supplier(sessions: sessionmaker, org: str, email: str, *, actor: str) -> None:
    """The demo supplier login speaks for the first supplier of the registry, so its portal has requests, answers
    and a scorecard to show; an organisation without suppliers leaves it tied to none."""
    from zerocarbon.services import suppliers

    listed = suppliers.list_suppliers(sessions, org, suppliers.Viewer.everything(actor))
    if listed:
        suppliers.link_user(sessions, org, email, sorted(x["code"] for x in listed)[0], actor=actor)


__all__ = ["DEMO_DOMAIN", "DEMO_ORG", "DemoLogin", "create_demo_users", "demo_email"]
