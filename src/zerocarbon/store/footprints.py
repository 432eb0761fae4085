"""Product carbon footprints (PACT ProductFootprint) received from suppliers or imported by the organisation.

Every row carries its organisation and every query takes it. A footprint id (``pf_id``) may be stored in several
versions: the row with ``current`` true is the one in use, older versions are kept with ``superseded_by``. The
original JSON is kept as received (``document``) with the SHA-256 of its canonical text.

``owner`` says whose footprint it is: ``supplier:<code>`` when a supplier's user uploaded it (or an importer
named the supplier), the uploading actor for a supplier's user not yet tied to a supplier code, and ``""`` for the
organisation's own. A caller who may read only its own data passes ``only`` (its owner key): the filter is in the
SQL, so another supplier's rows are never loaded.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from zerocarbon.store.tables import Base, UTCDateTime
from zerocarbon.store.users import MembershipRow, UserRow

FRAME_COLUMNS = ["pf_id", "company_name", "product_id", "declared_unit", "pcf_kg_per_unit", "primary_data_share",
                 "dqr", "period_start", "period_end", "pact_declared_unit", "product_ids", "supplier_code", "version"]


class FootprintRow(Base):
    __tablename__ = "product_footprints"
    __table_args__ = (UniqueConstraint("organisation_id", "pf_id", "version"),
                      Index("ix_product_footprints_org", "organisation_id", "current", "owner"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    pf_id: Mapped[str] = mapped_column(String(36))  # lower-case UUID
    version: Mapped[int] = mapped_column(Integer)
    spec_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # PACT status: Active | Deprecated
    company_name: Mapped[str] = mapped_column(String(512))
    company_ids: Mapped[list] = mapped_column(JSON)
    product_ids: Mapped[list] = mapped_column(JSON)
    product_name: Mapped[str] = mapped_column(String(512))
    declared_unit: Mapped[str] = mapped_column(String(32))  # as PACT names it
    unit: Mapped[str] = mapped_column(String(16))  # the declared unit as a zerocarbon (pint) unit
    unitary_product_amount: Mapped[float] = mapped_column(Float)
    pcf_excl: Mapped[float] = mapped_column(Float)  # kgCO2e per declared unit, biogenic excluded
    pcf_incl: Mapped[float | None] = mapped_column(Float)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    primary_data_share: Mapped[float | None] = mapped_column(Float)  # percent
    dqr: Mapped[float | None] = mapped_column(Float)  # mean of the five PACT DQRs, 1..3
    supplier_code: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(128))
    document: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(512))
    imported_by: Mapped[str] = mapped_column(String(128))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    current: Mapped[bool] = mapped_column(Boolean)
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("product_footprints.id"))
    note: Mapped[str | None] = mapped_column(Text)


def _only(q, only: str | None):
    return q if only is None else q.where(FootprintRow.owner == only)


def versions(s: Session, org_id: int, pf_id: str, only: str | None = None) -> list[FootprintRow]:
    """Every stored version of a footprint id, oldest first."""
    q = select(FootprintRow).where(FootprintRow.organisation_id == org_id, FootprintRow.pf_id == pf_id.lower())
    return list(s.scalars(_only(q, only).order_by(FootprintRow.version)))


def owners_of(s: Session, org_id: int, pf_ids: list[str]) -> dict[str, str]:
    """pf_id -> owner of its stored versions (any), for the ids given."""
    rows = s.execute(select(FootprintRow.pf_id, FootprintRow.owner)
                     .where(FootprintRow.organisation_id == org_id, FootprintRow.pf_id.in_(pf_ids)))
    return {p: o for p, o in rows}


def current_rows(s: Session, org_id: int, only: str | None = None) -> list[FootprintRow]:
    q = select(FootprintRow).where(FootprintRow.organisation_id == org_id, FootprintRow.current.is_(True))
    return list(s.scalars(_only(q, only).order_by(FootprintRow.company_name, FootprintRow.product_name,
                                                  FootprintRow.pf_id)))


def add(s: Session, row: FootprintRow) -> FootprintRow:
    s.add(row)
    s.flush()
    return row


def supersede(s: Session, old: FootprintRow, new: FootprintRow, note: str) -> None:
    old.current = False
    old.superseded_by = new.id
    old.note = note


def member_supplier_code(s: Session, org_id: int, email: str) -> str | None:
    """The supplier code a member is tied to (``memberships.supplier_code``), or None: also when this database
    has no such column yet."""
    column = getattr(MembershipRow, "supplier_code", None)
    if column is None:
        return None
    return s.scalar(select(column).join(UserRow, UserRow.id == MembershipRow.user_id)
                    .where(MembershipRow.organisation_id == org_id, UserRow.email == email))


def footprint_frame(s: Session, org_id: int) -> pd.DataFrame:
    """The organisation's footprints in use (current version, PACT status Active) for ``compute_inventory``'s
    ``frames["pcf"]``: one row per footprint id.

    ``declared_unit`` is the zerocarbon (pint) unit of the declared unit (``kg``, ``L``, ``kWh``...; a purchase
    row's quantity must be in it), ``pact_declared_unit`` the PACT name; ``pcf_kg_per_unit`` is
    pCfExcludingBiogenic in kgCO2e per declared unit; ``primary_data_share`` in percent (0..100) or NaN;
    ``dqr`` the mean of the five PACT DQRs (1 best .. 3) or NaN; ``product_id`` the first productIds entry
    (``product_ids`` all of them, space-separated); ``period_start``/``period_end`` the reference period (UTC,
    end exclusive) as naive UTC timestamps.
    """
    q = (select(FootprintRow.pf_id, FootprintRow.company_name, FootprintRow.product_ids, FootprintRow.declared_unit,
                FootprintRow.unit,
                FootprintRow.pcf_excl, FootprintRow.primary_data_share, FootprintRow.dqr, FootprintRow.period_start,
                FootprintRow.period_end, FootprintRow.supplier_code, FootprintRow.version)
         .where(FootprintRow.organisation_id == org_id, FootprintRow.current.is_(True),
                FootprintRow.status == "Active").order_by(FootprintRow.pf_id))
    records = [{"pf_id": r.pf_id, "company_name": r.company_name, "product_id": (r.product_ids or [""])[0],
                "declared_unit": r.unit,
                "pcf_kg_per_unit": r.pcf_excl,
                "primary_data_share": float("nan") if r.primary_data_share is None else r.primary_data_share,
                "dqr": float("nan") if r.dqr is None else r.dqr,
                "period_start": r.period_start.replace(tzinfo=None), "period_end": r.period_end.replace(tzinfo=None),
                "pact_declared_unit": r.declared_unit, "product_ids": " ".join(r.product_ids or []),
                "supplier_code": r.supplier_code or "", "version": r.version}
               for r in s.execute(q)]
    frame = pd.DataFrame.from_records(records, columns=FRAME_COLUMNS)
    for c in ("pcf_kg_per_unit", "primary_data_share", "dqr"):
        frame[c] = frame[c].astype("float64")
    for c in ("period_start", "period_end"):
        frame[c] = pd.to_datetime(frame[c])
    return frame


def site_ledger_sums(s: Session, inventory_id: int, site: str) -> list[tuple[str, str, str, str, float]]:
    """(scope, category, method, calc_method, tCO2e) of one site's ledger rows inside the totals (memo items left
    out). ``calc_method`` (the Scope 3 method) is ``""`` where the ledger has no such column."""
    from sqlalchemy import func, literal

    from zerocarbon.store.tables import EmissionLineRow, EmissionRow

    calc = getattr(EmissionLineRow, "calc_method", None)
    calc = calc if calc is not None else literal("")
    q = (select(EmissionLineRow.scope, EmissionLineRow.category, EmissionLineRow.method, calc,
                func.sum(EmissionRow.co2e_t))
         .join(EmissionRow, EmissionRow.line_id == EmissionLineRow.id)
         .where(EmissionLineRow.inventory_id == inventory_id, EmissionRow.inventory_id == inventory_id,
                EmissionLineRow.site == site, EmissionLineRow.memo == "")
         .group_by(EmissionLineRow.scope, EmissionLineRow.category, EmissionLineRow.method, calc))
    return [(a, b, c, d or "", float(t or 0.0)) for a, b, c, d, t in s.execute(q)]
