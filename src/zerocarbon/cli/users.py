"""`zerocarbon users ...`: people, their roles in organisations, and API tokens for machine clients."""
from __future__ import annotations

import os
from typing import Annotated, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import ActorOpt, DbOpt, JsonOpt, OrgOpt, actor, console, emit_json, group
from zerocarbon.core.access import ACTIONS, Role

app = group("Users, their roles in organisations, and API tokens.")
token_app = group("API tokens: one organisation, only the actions given; the secret is printed once.")
app.add_typer(token_app, name="token")

PASSWORD_ENV = "ZEROCARBON_PASSWORD"


def _password(email: str) -> str:
    """From $ZEROCARBON_PASSWORD, else asked twice without echo; there is no default password."""
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    return typer.prompt(f"password for {email}", hide_input=True, confirmation_prompt=True)


def _user_dict(u) -> dict:
    return {"email": u.email, "display_name": u.display_name, "active": u.active, "locale": u.locale,
            "memberships": [{"organisation": o, "role": r} for o, r in u.memberships]}


@app.command("add")
def users_add(email: str, org: OrgOpt, role: Annotated[Role, typer.Option(help="role in the organisation")],
              name: Annotated[Optional[str], typer.Option("--name", help="display name of a new user")] = None,
              locale: Annotated[str, typer.Option(help="zh-CN | en")] = "zh-CN",
              db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Give EMAIL a role in an organisation; a new user's password comes from $ZEROCARBON_PASSWORD or a prompt."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import users

    sessions = open_db(db)
    password = None if users.user_exists(sessions, email) else _password(email)
    u = users.add_member(sessions, email, org, role.value, password, name, locale, actor=actor(actor_name))
    if as_json:
        emit_json(_user_dict(u))
        return
    console.print(f"{u.email}: {role.value} in {org}", highlight=False)


@app.command("list")
def users_list(org: Annotated[Optional[str], typer.Option("--org", help="only members of this organisation")] = None,
               db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Users and their roles."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import users

    found = users.list_users(open_db(db), org)
    if as_json:
        emit_json([_user_dict(u) for u in found])
        return
    table = Table(title="users")
    for c in ("email", "name", "active", "locale", "roles"):
        table.add_column(c)
    for u in found:
        table.add_row(u.email, u.display_name, "yes" if u.active else "no", u.locale,
                      ", ".join(f"{o}: {r}" for o, r in u.memberships))
    console.print(table)


@app.command("remove")
def users_remove(email: str, org: OrgOpt, db: DbOpt = None, actor_name: ActorOpt = None) -> None:
    """Take EMAIL's role in an organisation away (the user stays, with their other memberships)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import users

    users.remove_member(open_db(db), email, org, actor=actor(actor_name))
    console.print(f"{email} is no longer a member of {org}", highlight=False)


@app.command("password")
def users_password(email: str, db: DbOpt = None, actor_name: ActorOpt = None) -> None:
    """Set a new password ($ZEROCARBON_PASSWORD or a prompt); the user's login sessions end."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import users

    users.set_password(open_db(db), email, _password(email), actor=actor(actor_name))
    console.print(f"password of {email} changed", highlight=False)


@app.command("disable")
def users_disable(email: str, db: DbOpt = None, actor_name: ActorOpt = None) -> None:
    """Stop a user from logging in anywhere; their login sessions end."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import users

    users.set_active(open_db(db), email, False, actor=actor(actor_name))
    console.print(f"{email} disabled", highlight=False)


@app.command("enable")
def users_enable(email: str, db: DbOpt = None, actor_name: ActorOpt = None) -> None:
    """Let a disabled user log in again."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import users

    users.set_active(open_db(db), email, True, actor=actor(actor_name))
    console.print(f"{email} enabled", highlight=False)


def _token_dict(t) -> dict:
    return dict(t.__dict__, scopes=list(t.scopes))


@token_app.command("create")
def token_create(org: OrgOpt, name: Annotated[str, typer.Option("--name", help="e.g. gateway-1")],
                 scope: Annotated[list[str], typer.Option("--scope", help=f"an action, repeatable: {', '.join(ACTIONS)}")],
                 db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Create a token and print its secret once (only a hash is kept): give it to the client now."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import users

    info, secret = users.create_token(open_db(db), org, name, scope, actor=actor(actor_name))
    if as_json:
        emit_json(dict(_token_dict(info), secret=secret))
        return
    console.print(f"token '{info.name}' for {org}, allowed: {', '.join(info.scopes)}", highlight=False)
    console.print("secret (shown only now; send it as 'Authorization: Bearer <secret>'):", highlight=False)
    print(secret)


@token_app.command("revoke")
def token_revoke(org: OrgOpt, name: Annotated[str, typer.Option("--name", help="token name")],
                 db: DbOpt = None, actor_name: ActorOpt = None) -> None:
    """Revoke a token: the next request with it is refused."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import users

    users.revoke_token(open_db(db), org, name, actor=actor(actor_name))
    console.print(f"token '{name}' of {org} revoked", highlight=False)


@token_app.command("list")
def token_list(org: OrgOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Tokens of an organisation, revoked ones included (never their secrets)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import users

    found = users.list_tokens(open_db(db), org)
    if as_json:
        emit_json([_token_dict(t) for t in found])
        return
    table = Table(title=f"{org} tokens")
    for c in ("name", "scopes", "created (UTC)", "by", "last used", "revoked"):
        table.add_column(c, overflow="fold")
    for t in found:
        table.add_row(t.name, ", ".join(t.scopes), f"{t.created_at:%Y-%m-%d %H:%M}", t.created_by,
                      f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
                      f"{t.revoked_at:%Y-%m-%d %H:%M} by {t.revoked_by}" if t.revoked_at else "")
    console.print(table)
