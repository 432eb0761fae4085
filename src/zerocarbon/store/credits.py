"""The carbon-credit register and carbon-neutrality claims.

Every row carries its organisation and every query takes it as a required argument. Serial ranges are stored as
JSON lists of inclusive [start, end] pairs; that a serial is held once per programme and project is enforced by
``services.claims`` (an overlap is a range comparison, which a unique index cannot express). Changes are written
to the audit chain by the services, in the same transaction.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from zerocarbon.store.tables import Base, UTCDateTime


class CreditRow(Base):
    """A batch of credits as the registry shows it, with its retirement record when retired."""

    __tablename__ = "carbon_credits"
    __table_args__ = (UniqueConstraint("organisation_id", "credit_id"),
                      Index("ix_carbon_credits_project", "organisation_id", "programme", "project_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    credit_id: Mapped[str] = mapped_column(String(64))
    programme: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[str] = mapped_column(String(128))
    project_type: Mapped[str] = mapped_column(String(16))  # avoidance | removal
    vintage: Mapped[int] = mapped_column(Integer)
    serials: Mapped[list] = mapped_column(JSON)  # [[start, end], ...] inclusive
    quantity_t: Mapped[float] = mapped_column(Float)
    verified_by: Mapped[str] = mapped_column(String(256))
    verification_date: Mapped[date | None] = mapped_column(Date)
    issued_date: Mapped[date | None] = mapped_column(Date)
    additionality: Mapped[str] = mapped_column(Text)
    storage_years: Mapped[int | None] = mapped_column(Integer)
    reversal_provision: Mapped[str] = mapped_column(Text)
    corresponding_adjustment: Mapped[str] = mapped_column(String(16))
    retirement_date: Mapped[date | None] = mapped_column(Date)
    retirement_beneficiary: Mapped[str] = mapped_column(String(256))
    retired_for_subject: Mapped[str] = mapped_column(String(256))
    retired_for_period: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(256))
    sha256: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(String(128))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClaimRow(Base):
    """A carbon-neutrality claim. ``status``: draft | checked | submitted | signed_off | returned."""

    __tablename__ = "neutrality_claims"
    __table_args__ = (Index("ix_neutrality_claims_org", "organisation_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    subject: Mapped[str] = mapped_column(String(16))  # organisation | site | workshop
    site: Mapped[str] = mapped_column(String(64))
    workshop: Mapped[str] = mapped_column(String(128))
    lines: Mapped[list] = mapped_column(JSON)
    year: Mapped[int] = mapped_column(Integer)
    first_period: Mapped[bool] = mapped_column(Boolean)
    plan: Mapped[dict] = mapped_column(JSON)
    plan_sha256: Mapped[str] = mapped_column(String(64))
    credit_ids: Mapped[list] = mapped_column(JSON)
    emissions: Mapped[dict] = mapped_column(JSON)
    base_year_emissions_t: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    findings: Mapped[list | None] = mapped_column(JSON)
    statement_en: Mapped[str | None] = mapped_column(Text)
    statement_zh: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str | None] = mapped_column(Text)


def credits(s: Session, org_id: int) -> list[CreditRow]:
    return list(s.scalars(select(CreditRow).where(CreditRow.organisation_id == org_id).order_by(CreditRow.id)))


def credits_by_ids(s: Session, org_id: int, credit_ids: list[str]) -> dict[str, CreditRow]:
    rows = s.scalars(select(CreditRow).where(CreditRow.organisation_id == org_id,
                                             CreditRow.credit_id.in_(credit_ids)))
    return {r.credit_id: r for r in rows}


def claims(s: Session, org_id: int, year: int | None = None) -> list[ClaimRow]:
    q = select(ClaimRow).where(ClaimRow.organisation_id == org_id)
    if year is not None:
        q = q.where(ClaimRow.year == year)
    return list(s.scalars(q.order_by(ClaimRow.id)))


def claim(s: Session, org_id: int, claim_id: int) -> ClaimRow | None:
    return s.scalar(select(ClaimRow).where(ClaimRow.organisation_id == org_id, ClaimRow.id == claim_id))


def add(s: Session, row) -> None:
    s.add(row)
    s.flush()


__all__ = ["ClaimRow", "CreditRow"]
