"""Stored factor sets: a user's factor CSV and rules YAML, kept verbatim with their fingerprint.

The texts are stored as imported, byte for byte, so the set can be rebuilt and its fingerprint
recomputed and compared on every load. A stored set belongs to one organisation (``organisation_id``)
and its name is unique within that organisation; every lookup here is by organisation, so one
organisation's sets are never found for another. Sets stored before sets had owners, in a database with
no or several organisations, have no owner (NULL) and are found by no organisation until assigned.
Functions take an open Session; services own the transaction.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from zerocarbon.errors import NotFoundError
from zerocarbon.store.tables import Base, OrganisationRow, UTCDateTime


class FactorSetRow(Base):
    __tablename__ = "factor_sets"
    __table_args__ = (UniqueConstraint("organisation_id", "name", name="uq_factor_sets_organisation_id_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", name="fk_factor_sets_organisation_id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(256))
    rules_yaml: Mapped[str] = mapped_column(Text)
    factors_file: Mapped[str] = mapped_column(String(256))  # the imported file's name, for error messages
    factors_csv: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))


def organisation_id(session: Session, code: str) -> int:
    found = session.scalar(select(OrganisationRow.id).where(OrganisationRow.code == code))
    if found is None:
        raise NotFoundError(f"organisation '{code}' is not in the database; run `zerocarbon org load` first",
                            entity=code)
    return found


def organisation_codes(session: Session) -> list[str]:
    return list(session.scalars(select(OrganisationRow.code).order_by(OrganisationRow.code)))


def get(session: Session, name: str, org_id: int) -> FactorSetRow | None:
    """The set ``name`` of organisation ``org_id`` (never another organisation's set of that name)."""
    return session.scalar(select(FactorSetRow).where(FactorSetRow.organisation_id == org_id,
                                                     FactorSetRow.name == name))


def names(session: Session, org_id: int) -> list[FactorSetRow]:
    """The sets of organisation ``org_id``, by name."""
    return list(session.scalars(select(FactorSetRow).where(FactorSetRow.organisation_id == org_id)
                                .order_by(FactorSetRow.name)))


def unowned(session: Session) -> list[FactorSetRow]:
    """Sets with no organisation (stored before sets had owners, in a database of several organisations)."""
    return list(session.scalars(select(FactorSetRow).where(FactorSetRow.organisation_id.is_(None))
                                .order_by(FactorSetRow.name)))


def add(session: Session, row: FactorSetRow) -> int:
    session.add(row)
    session.flush()
    return row.id


__all__ = ["FactorSetRow", "add", "get", "names", "organisation_codes", "organisation_id", "unowned"]
