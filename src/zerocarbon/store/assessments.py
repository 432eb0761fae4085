"""Index systems of an organisation, assessments against a system and the manual entries of an assessment.

Every row carries its organisation, and every query takes it as a required argument. An organisation's own
index system is kept as the YAML text it was uploaded as, with its SHA-256, so an assessment can name exactly
which text it was scored against. Evidence files of manual entries are kept in the database with their
SHA-256 (as the supplier evidence is), so a backup of the database is a backup of the evidence.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from zerocarbon.store.tables import Base, UTCDateTime


class IndexSystemRow(Base):
    """An organisation's own index system (YAML text as uploaded)."""

    __tablename__ = "assessment_systems"
    __table_args__ = (UniqueConstraint("organisation_id", "system_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    system_id: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(512))
    yaml_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))


class AssessmentRow(Base):
    """One assessment of a boundary and year. ``status``: draft | final; ``boundary_kind``: site | workshop.

    ``metrics`` holds the computed metric values (value, unit, lineage, note) of the last computation and
    ``result`` the last scoring, both as JSON."""

    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_org", "organisation_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    system_id: Mapped[str] = mapped_column(String(128))
    system_version: Mapped[str] = mapped_column(String(64))
    system_sha256: Mapped[str] = mapped_column(String(64))
    system_origin: Mapped[str] = mapped_column(String(16))  # shipped | own
    year: Mapped[int] = mapped_column(Integer)
    base_year: Mapped[int | None] = mapped_column(Integer)
    factor_set: Mapped[str | None] = mapped_column(String(64))
    boundary_kind: Mapped[str] = mapped_column(String(16))
    site: Mapped[str] = mapped_column(String(64))
    workshop: Mapped[str | None] = mapped_column(String(128))
    lines: Mapped[list] = mapped_column(JSON)
    meters: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    metrics: Mapped[dict] = mapped_column(JSON)
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(128))
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalised_by: Mapped[str | None] = mapped_column(String(128))


class ManualEntryRow(Base):
    """A value entered by a person with its evidence file. ``review_state``: pending | accepted | returned.

    A metric may be entered again (after a return, or with new evidence); the newest entry of a metric is the
    one that counts, the older ones stay as history."""

    __tablename__ = "assessment_entries"
    __table_args__ = (Index("ix_assessment_entries_key", "organisation_id", "assessment_id", "metric"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    metric: Mapped[str] = mapped_column(String(128))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    evidence_name: Mapped[str] = mapped_column(String(256))
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    evidence_size: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[bytes] = mapped_column(LargeBinary)
    entered_by: Mapped[str] = mapped_column(String(128))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    review_state: Mapped[str] = mapped_column(String(16))
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str | None] = mapped_column(Text)


# -- index systems ------------------------------------------------------------------------------------------------
def systems(s: Session, org_id: int) -> list[IndexSystemRow]:
    return list(s.scalars(select(IndexSystemRow).where(IndexSystemRow.organisation_id == org_id)
                          .order_by(IndexSystemRow.system_id, IndexSystemRow.id)))


def system(s: Session, org_id: int, system_id: str, version: str | None = None) -> IndexSystemRow | None:
    """The stored system with this id (and version; the newest stored one when None)."""
    q = select(IndexSystemRow).where(IndexSystemRow.organisation_id == org_id, IndexSystemRow.system_id == system_id)
    if version is not None:
        q = q.where(IndexSystemRow.version == version)
    return s.scalar(q.order_by(IndexSystemRow.id.desc()).limit(1))


# -- assessments --------------------------------------------------------------------------------------------------
def assessments(s: Session, org_id: int, year: int | None = None) -> list[AssessmentRow]:
    q = select(AssessmentRow).where(AssessmentRow.organisation_id == org_id)
    if year is not None:
        q = q.where(AssessmentRow.year == year)
    return list(s.scalars(q.order_by(AssessmentRow.id.desc())))


def assessment(s: Session, org_id: int, assessment_id: int) -> AssessmentRow | None:
    return s.scalar(select(AssessmentRow).where(AssessmentRow.organisation_id == org_id,
                                                AssessmentRow.id == assessment_id))


# -- manual entries -----------------------------------------------------------------------------------------------
def entries(s: Session, org_id: int, assessment_id: int) -> list[ManualEntryRow]:
    """Every entry of an assessment, oldest first (the last of a metric is the one that counts)."""
    return list(s.scalars(select(ManualEntryRow).where(ManualEntryRow.organisation_id == org_id,
                                                       ManualEntryRow.assessment_id == assessment_id)
                          .order_by(ManualEntryRow.id)))


def current_entry(s: Session, org_id: int, assessment_id: int, metric: str) -> ManualEntryRow | None:
    return s.scalar(select(ManualEntryRow).where(ManualEntryRow.organisation_id == org_id,
                                                 ManualEntryRow.assessment_id == assessment_id,
                                                 ManualEntryRow.metric == metric)
                    .order_by(ManualEntryRow.id.desc()).limit(1))


def entry(s: Session, org_id: int, entry_id: int) -> ManualEntryRow | None:
    return s.scalar(select(ManualEntryRow).where(ManualEntryRow.organisation_id == org_id,
                                                 ManualEntryRow.id == entry_id))


def add(s: Session, row) -> None:
    s.add(row)
    s.flush()


__all__ = ["AssessmentRow", "IndexSystemRow", "ManualEntryRow"]
