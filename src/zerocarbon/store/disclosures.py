"""Disclosure inputs (figures and narratives a person enters for a year) and publications (the facts a report
was published from, pinned by their fingerprint).

An input is never overwritten: entering a key again marks the current row superseded (``superseded_at``) and adds
a new one, so what was entered when stays readable. Every row carries its organisation and every query takes it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from zerocarbon.store.tables import Base, UTCDateTime


class DisclosureInputRow(Base):
    """One entered value of a key: ``value_num`` for a figure (a year or a yes/no as 1/0, by ``unit``),
    ``value_text``/``value_zh`` for a narrative (``unit`` "text")."""

    __tablename__ = "disclosure_inputs"
    __table_args__ = (Index("ix_disclosure_inputs_key", "organisation_id", "year", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(128))
    value_num: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(Text)
    value_zh: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(128))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DisclosurePublicationRow(Base):
    """A publication: ``facts`` {key: {value, unit, status}} as they were when published (plus ``_meta``:
    the inventory each year was read from), ``fingerprint`` their SHA-256."""

    __tablename__ = "disclosure_publications"
    __table_args__ = (Index("ix_disclosure_publications_org", "organisation_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int] = mapped_column(Integer)
    frameworks: Mapped[list] = mapped_column(JSON)
    facts: Mapped[dict] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    published_by: Mapped[str] = mapped_column(String(128))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


def current_inputs(s: Session, org_id: int, year: int) -> list[DisclosureInputRow]:
    """The inputs in force for the year (not superseded), by key."""
    return list(s.scalars(select(DisclosureInputRow)
                          .where(DisclosureInputRow.organisation_id == org_id, DisclosureInputRow.year == year,
                                 DisclosureInputRow.superseded_at.is_(None))
                          .order_by(DisclosureInputRow.key)))


def input_history(s: Session, org_id: int, year: int, key: str | None = None) -> list[DisclosureInputRow]:
    """Every value entered for the year (or for one key), superseded ones included, oldest first."""
    q = select(DisclosureInputRow).where(DisclosureInputRow.organisation_id == org_id,
                                         DisclosureInputRow.year == year)
    if key is not None:
        q = q.where(DisclosureInputRow.key == key)
    return list(s.scalars(q.order_by(DisclosureInputRow.key, DisclosureInputRow.id)))


def put_inputs(s: Session, org_id: int, year: int, rows: list[dict], *, entered_by: str,
               entered_at: datetime) -> list[str]:
    """Store ``rows`` (fields of :class:`DisclosureInputRow` with ``key``); a key already entered for the year is
    superseded at ``entered_at``. The keys replaced, sorted."""
    current = {r.key: r for r in current_inputs(s, org_id, year)}
    replaced = []
    for fields in rows:
        old = current.get(fields["key"])
        if old is not None:
            old.superseded_at = entered_at
            replaced.append(old.key)
        s.add(DisclosureInputRow(organisation_id=org_id, year=year, entered_by=entered_by, entered_at=entered_at,
                                 **fields))
    s.flush()
    return sorted(replaced)


def add_publication(s: Session, org_id: int, **fields) -> DisclosurePublicationRow:
    row = DisclosurePublicationRow(organisation_id=org_id, **fields)
    s.add(row)
    s.flush()
    return row


def publications(s: Session, org_id: int, year: int | None = None) -> list[DisclosurePublicationRow]:
    """The organisation's publications (of one year), oldest first."""
    q = select(DisclosurePublicationRow).where(DisclosurePublicationRow.organisation_id == org_id)
    if year is not None:
        q = q.where(DisclosurePublicationRow.year == year)
    return list(s.scalars(q.order_by(DisclosurePublicationRow.published_at, DisclosurePublicationRow.id)))


def latest_publication(s: Session, org_id: int, year: int) -> DisclosurePublicationRow | None:
    found = publications(s, org_id, year)
    return found[-1] if found else None
