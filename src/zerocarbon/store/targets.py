"""Reduction targets and the output figures (production units, revenue) that intensity targets divide by.

Every row carries its organisation and every query takes it. ``site`` of an output row is a site code, or
``""`` for a figure of the whole organisation.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from zerocarbon.store.tables import Base, UTCDateTime


class TargetRow(Base):
    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    scopes: Mapped[str] = mapped_column(String(16))
    scope2_method: Mapped[str] = mapped_column(String(16))
    boundary: Mapped[str] = mapped_column(String(64))  # "org" or a site code
    base_year: Mapped[int] = mapped_column(Integer)
    base_value: Mapped[float] = mapped_column(Float)  # as read from the inventory when the target was set
    target_year: Mapped[int] = mapped_column(Integer)
    reduction: Mapped[float | None] = mapped_column(Float)
    re_share: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[str | None] = mapped_column(String(16))
    denominator_unit: Mapped[str | None] = mapped_column(String(32))
    projected_output: Mapped[float | None] = mapped_column(Float)
    submitted: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutputRow(Base):
    __tablename__ = "target_outputs"
    __table_args__ = (UniqueConstraint("organisation_id", "site", "year", "metric"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    site: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(16))  # units | revenue
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


def targets(s: Session, org_id: int) -> list[TargetRow]:
    return list(s.scalars(select(TargetRow).where(TargetRow.organisation_id == org_id).order_by(TargetRow.code)))


def target(s: Session, org_id: int, code: str) -> TargetRow | None:
    return s.scalar(select(TargetRow).where(TargetRow.organisation_id == org_id, TargetRow.code == code))


def add_target(s: Session, org_id: int, **fields) -> TargetRow:
    row = TargetRow(organisation_id=org_id, **fields)
    s.add(row)
    s.flush()
    return row


def delete_target(s: Session, org_id: int, code: str) -> int:
    return s.execute(delete(TargetRow).where(TargetRow.organisation_id == org_id, TargetRow.code == code)).rowcount


def outputs(s: Session, org_id: int, metric: str | None = None) -> list[OutputRow]:
    q = select(OutputRow).where(OutputRow.organisation_id == org_id)
    if metric:
        q = q.where(OutputRow.metric == metric)
    return list(s.scalars(q.order_by(OutputRow.year, OutputRow.site, OutputRow.metric)))


def put_output(s: Session, org_id: int, site: str, year: int, metric: str, **fields) -> OutputRow:
    """Create or replace the figure of (site, year, metric)."""
    row = s.scalar(select(OutputRow).where(OutputRow.organisation_id == org_id, OutputRow.site == site,
                                           OutputRow.year == year, OutputRow.metric == metric))
    if row is None:
        row = OutputRow(organisation_id=org_id, site=site, year=year, metric=metric, **fields)
        s.add(row)
    else:
        for k, v in fields.items():
            setattr(row, k, v)
    s.flush()
    return row


def inventory_years(s: Session, org_id: int, boundary: str) -> dict[int, dict]:
    """year -> stored totals of every computed inventory of the organisation under ``boundary``."""
    from zerocarbon.store.tables import InventoryRow

    rows = s.execute(select(InventoryRow.year, InventoryRow.totals)
                     .where(InventoryRow.organisation_id == org_id, InventoryRow.boundary == boundary)
                     .order_by(InventoryRow.year))
    return {year: dict(totals) for year, totals in rows}
