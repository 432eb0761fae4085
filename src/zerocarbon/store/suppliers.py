"""Suppliers, their green-specification submissions and evidence, data campaigns and reduction projects.

Every row carries its organisation, and every query takes it as a required argument. Queries that a supplier's
user reaches also take ``only``: the supplier code the caller is tied to (``memberships.supplier_code``), or
None for a caller who may read every supplier. ``only`` is applied in the SQL, so a supplier's request never
loads another supplier's rows. Evidence files are kept in the database (``supplier_evidence.content``) with
their SHA-256, so a backup of the database is a backup of the evidence and tenancy covers the files too.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, Date, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint,
                        select, update)
from sqlalchemy.orm import Mapped, Session, mapped_column

from zerocarbon.store.tables import Base, UTCDateTime
from zerocarbon.store.users import MembershipRow, UserRow


class SupplierRow(Base):
    __tablename__ = "suppliers"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(256))
    tier: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(128))
    country: Mapped[str] = mapped_column(String(8))
    region: Mapped[str] = mapped_column(String(128))
    site: Mapped[str] = mapped_column(String(128))
    annual_spend: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(8))
    parts: Mapped[str] = mapped_column(Text)
    emissions_t: Mapped[float | None] = mapped_column(Float)
    emissions_source: Mapped[str] = mapped_column(String(16))  # reported | estimated | ""
    contact: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(128))


class SupplySettingsRow(Base):
    """An organisation's own green specification (the YAML text as stored, and its SHA-256)."""

    __tablename__ = "supply_settings"
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    spec_yaml: Mapped[str] = mapped_column(Text)
    spec_sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(128))


class CampaignRow(Base):
    __tablename__ = "supplier_campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    indicators: Mapped[list] = mapped_column(JSON)
    due: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))


class RequestRow(Base):
    """One supplier's part of a campaign. ``status``: open | submitted | accepted | returned."""

    __tablename__ = "supplier_requests"
    __table_args__ = (UniqueConstraint("campaign_id", "supplier_code"),
                      Index("ix_supplier_requests_org", "organisation_id", "supplier_code"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("supplier_campaigns.id"))
    supplier_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    reminders: Mapped[int] = mapped_column(Integer, server_default="0")
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_by: Mapped[str | None] = mapped_column(String(128))


class EvidenceRow(Base):
    __tablename__ = "supplier_evidence"
    __table_args__ = (UniqueConstraint("organisation_id", "supplier_code", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    supplier_code: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(256))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(128))


class SubmissionRow(Base):
    """A supplier's answers file. ``status``: submitted | accepted | returned (with ``review_comment``)."""

    __tablename__ = "supplier_submissions"
    __table_args__ = (Index("ix_supplier_submissions_org", "organisation_id", "supplier_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    supplier_code: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_requests.id"))
    source: Mapped[str] = mapped_column(String(256))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str] = mapped_column(String(128))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(128))


class AnswerRow(Base):
    __tablename__ = "supplier_answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("supplier_submissions.id"), index=True)
    supplier_code: Mapped[str] = mapped_column(String(64))
    indicator: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(256))
    unit: Mapped[str] = mapped_column(String(32))
    evidence_ref: Mapped[str | None] = mapped_column(String(256))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_evidence.id"))
    valid_until: Mapped[date | None] = mapped_column(Date)


class ProjectRow(Base):
    """A supplier-reported reduction project. ``status``: submitted | accepted | returned."""

    __tablename__ = "supplier_projects"
    __table_args__ = (Index("ix_supplier_projects_key", "organisation_id", "project_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    project_id: Mapped[str] = mapped_column(String(128))
    project_key: Mapped[str] = mapped_column(String(128))
    supplier_code: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(32))
    start_year: Mapped[int] = mapped_column(Integer)
    annual_reduction_t: Mapped[float] = mapped_column(Float)
    baseline_t: Mapped[float | None] = mapped_column(Float)
    evidence_ref: Mapped[str | None] = mapped_column(String(256))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_evidence.id"))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str] = mapped_column(String(128))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(128))


def _only(q, column, only: str | None):
    return q if only is None else q.where(column == only)


# -- suppliers ----------------------------------------------------------------------------------------------------
def suppliers(s: Session, org_id: int, only: str | None = None) -> list[SupplierRow]:
    q = select(SupplierRow).where(SupplierRow.organisation_id == org_id)
    return list(s.scalars(_only(q, SupplierRow.code, only).order_by(SupplierRow.code)))


def supplier(s: Session, org_id: int, code: str, only: str | None = None) -> SupplierRow | None:
    q = select(SupplierRow).where(SupplierRow.organisation_id == org_id, SupplierRow.code == code)
    return s.scalar(_only(q, SupplierRow.code, only))


def supplier_codes(s: Session, org_id: int) -> set[str]:
    return set(s.scalars(select(SupplierRow.code).where(SupplierRow.organisation_id == org_id)))


# -- settings -----------------------------------------------------------------------------------------------------
def settings(s: Session, org_id: int) -> SupplySettingsRow | None:
    return s.get(SupplySettingsRow, org_id)


# -- memberships: the supplier a user is tied to ------------------------------------------------------------------
def member_supplier(s: Session, org_id: int, email: str) -> tuple[str | None, str | None] | None:
    """(role, supplier code) of the member with this e-mail; None if not a member."""
    row = s.execute(select(MembershipRow.role, MembershipRow.supplier_code)
                    .join(UserRow, UserRow.id == MembershipRow.user_id)
                    .where(MembershipRow.organisation_id == org_id, UserRow.email == email)).first()
    return None if row is None else (row[0], row[1])


def set_member_supplier(s: Session, org_id: int, email: str, code: str | None) -> bool:
    user_id = s.scalar(select(UserRow.id).where(UserRow.email == email))
    if user_id is None:
        return False
    done = s.execute(update(MembershipRow).where(MembershipRow.organisation_id == org_id,
                                                 MembershipRow.user_id == user_id).values(supplier_code=code))
    return done.rowcount > 0


def members_of_supplier(s: Session, org_id: int, code: str) -> list[str]:
    return list(s.scalars(select(UserRow.email).join(MembershipRow, MembershipRow.user_id == UserRow.id)
                          .where(MembershipRow.organisation_id == org_id, MembershipRow.supplier_code == code)))


# -- campaigns and requests ---------------------------------------------------------------------------------------
def campaigns(s: Session, org_id: int) -> list[CampaignRow]:
    return list(s.scalars(select(CampaignRow).where(CampaignRow.organisation_id == org_id)
                          .order_by(CampaignRow.id.desc())))


def campaign(s: Session, org_id: int, campaign_id: int) -> CampaignRow | None:
    return s.scalar(select(CampaignRow).where(CampaignRow.organisation_id == org_id, CampaignRow.id == campaign_id))


def requests(s: Session, org_id: int, only: str | None = None, campaign_id: int | None = None) -> list[RequestRow]:
    q = select(RequestRow).where(RequestRow.organisation_id == org_id)
    if campaign_id is not None:
        q = q.where(RequestRow.campaign_id == campaign_id)
    return list(s.scalars(_only(q, RequestRow.supplier_code, only).order_by(RequestRow.id)))


def request(s: Session, org_id: int, request_id: int, only: str | None = None) -> RequestRow | None:
    q = select(RequestRow).where(RequestRow.organisation_id == org_id, RequestRow.id == request_id)
    return s.scalar(_only(q, RequestRow.supplier_code, only))


# -- evidence, submissions, answers -------------------------------------------------------------------------------
def evidence_by_sha(s: Session, org_id: int, code: str, sha256: str) -> EvidenceRow | None:
    return s.scalar(select(EvidenceRow).where(EvidenceRow.organisation_id == org_id,
                                              EvidenceRow.supplier_code == code, EvidenceRow.sha256 == sha256))


def evidence(s: Session, org_id: int, evidence_id: int, only: str | None = None) -> EvidenceRow | None:
    q = select(EvidenceRow).where(EvidenceRow.organisation_id == org_id, EvidenceRow.id == evidence_id)
    return s.scalar(_only(q, EvidenceRow.supplier_code, only))


def submissions(s: Session, org_id: int, only: str | None = None, status: str | None = None,
                supplier_code: str | None = None) -> list[SubmissionRow]:
    q = select(SubmissionRow).where(SubmissionRow.organisation_id == org_id)
    if status is not None:
        q = q.where(SubmissionRow.status == status)
    if supplier_code is not None:
        q = q.where(SubmissionRow.supplier_code == supplier_code)
    return list(s.scalars(_only(q, SubmissionRow.supplier_code, only).order_by(SubmissionRow.id.desc())))


def submission(s: Session, org_id: int, submission_id: int, only: str | None = None) -> SubmissionRow | None:
    q = select(SubmissionRow).where(SubmissionRow.organisation_id == org_id, SubmissionRow.id == submission_id)
    return s.scalar(_only(q, SubmissionRow.supplier_code, only))


def answers(s: Session, org_id: int, submission_id: int) -> list[AnswerRow]:
    return list(s.scalars(select(AnswerRow).where(AnswerRow.organisation_id == org_id,
                                                  AnswerRow.submission_id == submission_id).order_by(AnswerRow.id)))


def accepted_answers(s: Session, org_id: int, only: str | None = None):
    """(answer, submitted_at, evidence file name, evidence sha256) of every accepted submission's rows."""
    q = (select(AnswerRow, SubmissionRow.submitted_at, EvidenceRow.file_name, EvidenceRow.sha256)
         .join(SubmissionRow, SubmissionRow.id == AnswerRow.submission_id)
         .outerjoin(EvidenceRow, EvidenceRow.id == AnswerRow.evidence_id)
         .where(AnswerRow.organisation_id == org_id, SubmissionRow.status == "accepted"))
    return list(s.execute(_only(q, AnswerRow.supplier_code, only).order_by(SubmissionRow.submitted_at, AnswerRow.id)))


# -- reduction projects -------------------------------------------------------------------------------------------
def projects(s: Session, org_id: int, only: str | None = None) -> list[ProjectRow]:
    q = select(ProjectRow).where(ProjectRow.organisation_id == org_id)
    return list(s.scalars(_only(q, ProjectRow.supplier_code, only).order_by(ProjectRow.id)))


def project(s: Session, org_id: int, project_row_id: int, only: str | None = None) -> ProjectRow | None:
    q = select(ProjectRow).where(ProjectRow.organisation_id == org_id, ProjectRow.id == project_row_id)
    return s.scalar(_only(q, ProjectRow.supplier_code, only))


def add(s: Session, row) -> None:
    s.add(row)
    s.flush()


__all__ = ["AnswerRow", "CampaignRow", "EvidenceRow", "ProjectRow", "RequestRow", "SubmissionRow", "SupplierRow",
           "SupplySettingsRow"]
