"""Request and response bodies. Separate models for what comes in and what goes out; no secrets go out except a
new token's, once."""
from __future__ import annotations

from datetime import datetime
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from zerocarbon.core.access import Role
from zerocarbon.core.factors import Factor
from zerocarbon.core.model import Boundary
from zerocarbon.services.accounting import BatchInfo


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- people and access ------------------------------------------------------------------------------
class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class MembershipOut(Out):
    organisation: str
    role: str


class UserOut(Out):
    email: str
    display_name: str
    active: bool
    locale: str
    memberships: list[MembershipOut]

    @classmethod
    def of(cls, u, organisation: str | None = None) -> "UserOut":
        """``organisation``: show the membership there only. An administrator of one organisation must not learn
        which other organisations a person belongs to (users are shared, organisations are not)."""
        return cls(email=u.email, display_name=u.display_name, active=u.active, locale=u.locale,
                   memberships=[MembershipOut(organisation=o, role=r) for o, r in u.memberships
                                if organisation is None or o == organisation])


class LoginOut(Out):
    user: UserOut
    csrf_token: str = Field(description="send it back as X-CSRF-Token on POST, PUT, PATCH and DELETE")
    expires_at: datetime


class OrganisationOut(Out):
    code: str
    name: str
    role: str | None = Field(description="the caller's role; null for an API token")
    actions: list[str]


class MeOut(Out):
    kind: str = Field(description="user | token")
    name: str
    user: UserOut | None = None
    organisations: list[OrganisationOut]


class MemberIn(BaseModel):
    role: Role
    password: str | None = Field(None, max_length=1024, description="only for a new user")
    display_name: str | None = Field(None, max_length=256)
    locale: str = Field("zh-CN", description="zh-CN | en")


class TokenIn(BaseModel):
    name: str = Field(max_length=64)
    scopes: list[str] = Field(min_length=1)


class TokenOut(Out):
    id: int
    organisation: str
    name: str
    scopes: list[str]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None


class TokenCreatedOut(Out):
    token: TokenOut
    secret: str = Field(description="shown once; only its SHA-256 is stored")


# -- accounting -------------------------------------------------------------------------------------
class ComputeIn(BaseModel):
    factor_set: str = Field("CN-2025.1", max_length=128)
    gwp_set: str = Field("AR5", max_length=16)
    boundary: Boundary = Boundary.OPERATIONAL_CONTROL
    recalculation_reason: str | None = Field(None, max_length=2000,
                                             description="needed when a closed year's numbers would change")


class ComputeOut(Out):
    organisation: str
    year: int
    factor_set: str
    gwp_set: str
    boundary: Boundary
    totals: dict[str, float]
    warnings: list[str]
    exclusions: list[str]


class InventoryOut(Out):
    organisation: str
    year: int
    boundary: Boundary
    status: str = Field(description="draft | closed")
    factor_set: str
    fingerprint: str
    gwp_set: str
    totals: dict[str, float]
    warnings: list[Any]
    exclusions: list[Any]
    report_lines: dict[str, dict[str, float]] = Field(description="per site: tCO2e on each line of its standard")
    methodology: dict[str, str]


class LedgerPage(Out):
    total: int = Field(description="ledger rows matching the filter")
    limit: int
    offset: int
    co2e_t: float = Field(description="tCO2e of the matching rows inside the totals (memo items left out)")
    rows: list[dict[str, Any]]
    batches: dict[str, dict[str, Any]] = Field(description="the batches the rows on this page come from")


def _mirror(name: str, source: type, doc: str) -> type[Out]:
    """A response model with exactly the fields (and types) of a service dataclass, so the two cannot drift."""
    model = create_model(name, __base__=Out, __doc__=doc,
                         **{field: (kind, ...) for field, kind in get_type_hints(source).items()})
    model.__module__ = __name__
    return model


BatchOut = _mirror("BatchOut", BatchInfo, "One imported file as stored: a version of activity data.")


class AuditEntryOut(Out):
    seq: int | None = None
    at: datetime
    actor: str
    action: str
    entity: str
    detail: dict[str, Any]


class BatchDetailOut(Out):
    batch: BatchOut
    versions: list[BatchOut]
    audit: list[AuditEntryOut]


class ImportOut(Out):
    batch_id: int
    kind: str
    rows: int
    source: str
    sha256: str
    replaces: int | None = None
    status: str = Field("active", description="active, or pending when the uploader's role may not approve imports")


class ActivitySchemaOut(Out):
    kind: str
    title: str = Field(description="name of the row model (its schema is also a component of this document)")
    description: str
    columns: list[str] = Field(description="every column, in the order of docs/data-formats.md")
    required: list[str]
    aliases: dict[str, list[str]] = Field(description="Chinese headers accepted for each column")
    doc: str = Field(description="the same schema in the source tree's documentation")
    href: str = Field(description="the row's JSON Schema, under /api/v1")


class UndoIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class FactorSetOut(Out):
    name: str
    title: str
    origin: str = Field(description="shipped | stored")
    fingerprint: str
    factors: int
    files: list[str]
    created_at: str | None = None
    # Who stored a set is not shown here: the set belongs to the organisation, its people are listed elsewhere.


FactorOut = _mirror("FactorOut", Factor, "One published factor with its provenance.")


class FactorPage(Out):
    total: int
    limit: int
    offset: int
    factors: list[FactorOut]


class VerificationOut(Out):
    intact: bool
    entries: int = Field(description="entries in the whole trail (one chain for all organisations)")
    head: str | None = Field(description="SEQ:HASH of the last entry")
    findings: list[str]
