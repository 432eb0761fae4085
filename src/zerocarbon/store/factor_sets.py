"""Stored factor sets: a user's factor CSV and rules YAML, kept verbatim with their fingerprint.

The texts are stored as imported, byte for byte, so the set can be rebuilt and its fingerprint
recomputed and compared on every load. Functions take an open Session; services own the transaction.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from zerocarbon.store.tables import Base, UTCDateTime


class FactorSetRow(Base):
    __tablename__ = "factor_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(256))
    rules_yaml: Mapped[str] = mapped_column(Text)
    factors_file: Mapped[str] = mapped_column(String(256))  # the imported file's name, for error messages
    factors_csv: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))


def get(session: Session, name: str) -> FactorSetRow | None:
    return session.scalar(select(FactorSetRow).where(FactorSetRow.name == name))


def names(session: Session) -> list[FactorSetRow]:
    return list(session.scalars(select(FactorSetRow).order_by(FactorSetRow.name)))


def add(session: Session, row: FactorSetRow) -> int:
    session.add(row)
    session.flush()
    return row.id


__all__ = ["FactorSetRow", "add", "get", "names"]
