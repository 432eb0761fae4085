"""Organisations the caller belongs to; their members and API tokens (``users.manage``)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from zerocarbon.api.deps import Acting, CurrentPrincipal, Member, Sessions, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.schemas import MemberIn, OrganisationOut, TokenCreatedOut, TokenIn, TokenOut, UserOut
from zerocarbon.services import auth, users

router = APIRouter(prefix="/orgs", tags=["organisations"], responses=RESPONSES)

Email = Annotated[str, Path(max_length=320)]
TokenName = Annotated[str, Path(max_length=64)]


@router.get("", response_model=list[OrganisationOut])
def organisations(principal: CurrentPrincipal, sessions: Sessions) -> list[OrganisationOut]:
    """Every organisation the caller belongs to, with its role and allowed actions."""
    return [OrganisationOut(code=code, name=name, role=a.role, actions=sorted(a.actions))
            for code, name, a in auth.organisations(sessions, principal)]


@router.get("/{org}", response_model=OrganisationOut)
def organisation(acting: Member) -> OrganisationOut:
    """One organisation of the caller's (404 for any other, existing or not)."""
    for code, name, a in auth.organisations(acting.sessions, acting.principal):
        if code == acting.org:
            return OrganisationOut(code=code, name=name, role=a.role, actions=sorted(a.actions))
    raise AssertionError("access() admitted an organisation organisations() does not list")


@router.get("/{org}/members", response_model=list[UserOut])
def members(acting: Annotated[Acting, requires("users.manage")]) -> list[UserOut]:
    return [UserOut.of(u, acting.org) for u in users.list_users(acting.sessions, acting.org)]


@router.put("/{org}/members/{email}", response_model=UserOut)
def put_member(email: Email, body: MemberIn, acting: Annotated[Acting, requires("users.manage")]) -> UserOut:
    """Give a user a role here; a new user is created and needs a password (there is no default one)."""
    u = users.add_member(acting.sessions, email, acting.org, body.role.value, body.password, body.display_name,
                         body.locale, actor=acting.actor)
    return UserOut.of(u, acting.org)


@router.delete("/{org}/members/{email}", status_code=204)
def delete_member(email: Email, acting: Annotated[Acting, requires("users.manage")]) -> Response:
    users.remove_member(acting.sessions, email, acting.org, actor=acting.actor)
    return Response(status_code=204)


@router.get("/{org}/tokens", response_model=list[TokenOut])
def tokens(acting: Annotated[Acting, requires("users.manage")]) -> list[TokenOut]:
    return [TokenOut.model_validate(t, from_attributes=True) for t in users.list_tokens(acting.sessions, acting.org)]


@router.post("/{org}/tokens", response_model=TokenCreatedOut, status_code=201)
def create_token(body: TokenIn, acting: Annotated[Acting, requires("users.manage")]) -> TokenCreatedOut:
    """A token for machine clients of this organisation, allowed only ``scopes``. The secret is in this answer
    and nowhere else."""
    info, secret = users.create_token(acting.sessions, acting.org, body.name, body.scopes, actor=acting.actor)
    return TokenCreatedOut(token=TokenOut.model_validate(info, from_attributes=True), secret=secret)


@router.delete("/{org}/tokens/{name}", response_model=list[TokenOut])
def revoke_token(name: TokenName, acting: Annotated[Acting, requires("users.manage")]) -> list[TokenOut]:
    return [TokenOut.model_validate(t, from_attributes=True)
            for t in users.revoke_token(acting.sessions, acting.org, name, actor=acting.actor)]
