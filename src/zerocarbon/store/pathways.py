"""Stored pathway runs: the scenario (YAML text and SHA-256), the catalogue used, the base inventory, the result
and the solver's status. Every query names the organisation: a run of another organisation is not found."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, defer, mapped_column

from zerocarbon.store.tables import Base, UTCDateTime


class PathwayRunRow(Base):
    """One least-cost pathway solve: ``result`` holds every year of the plan and of business as usual, the MACC,
    the greedy comparison and the measures with their provenance (services.pathway builds it); ``summary`` its
    headline for lists."""

    __tablename__ = "pathway_runs"
    __table_args__ = (Index("ix_pathway_runs_org", "organisation_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(256))
    scenario_file: Mapped[str] = mapped_column(String(512))
    scenario_yaml: Mapped[str] = mapped_column(Text)
    scenario_sha256: Mapped[str] = mapped_column(String(64))
    catalogue: Mapped[str] = mapped_column(String(512))  # "shipped" or the file's name
    catalogue_sha256: Mapped[str] = mapped_column(String(64))
    base_year: Mapped[int] = mapped_column(Integer)
    base: Mapped[dict] = mapped_column(JSON)  # the base inventory used and where it came from
    solver_status: Mapped[str] = mapped_column(String(16))
    solve_seconds: Mapped[float] = mapped_column(Float)
    summary: Mapped[dict] = mapped_column(JSON)
    result: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


def add(session: Session, row: PathwayRunRow) -> PathwayRunRow:
    session.add(row)
    session.flush()
    return row


def get(session: Session, org_id: int, run_id: int) -> PathwayRunRow | None:
    return session.scalar(select(PathwayRunRow).where(PathwayRunRow.organisation_id == org_id,
                                                      PathwayRunRow.id == run_id))


def page(session: Session, org_id: int, limit: int, offset: int) -> tuple[int, list[PathwayRunRow]]:
    """The organisation's runs, newest first, without their result (lists show the summary)."""
    where = PathwayRunRow.organisation_id == org_id
    total = session.scalar(select(func.count()).select_from(PathwayRunRow).where(where)) or 0
    rows = session.scalars(select(PathwayRunRow).where(where)
                           .options(defer(PathwayRunRow.result), defer(PathwayRunRow.scenario_yaml))
                           .order_by(PathwayRunRow.id.desc()).limit(limit).offset(offset))
    return total, list(rows)
