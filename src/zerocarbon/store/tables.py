"""SQLAlchemy 2 table models. Schema changes go through Alembic migrations (store/migrations)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        TypeDecorator, UniqueConstraint, false)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """An instant: ``timestamptz`` on PostgreSQL, UTC text on SQLite; always a UTC-aware datetime in Python.

    SQLite keeps no offset, so a value is stored as its UTC wall time (the text rows written before the
    column became time-zone aware already hold) and read back with ``tzinfo=UTC``; services never see a naive
    datetime. A naive value given to the store is taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class OrganisationRow(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(256))


class SiteRow(Base):
    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(256))
    country: Mapped[str] = mapped_column(String(8))
    province: Mapped[str | None] = mapped_column(String(32))
    grid_region: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    equity_share: Mapped[float] = mapped_column(Float)
    operational_control: Mapped[bool] = mapped_column(Boolean)
    financial_control: Mapped[bool] = mapped_column(Boolean)
    methodology: Mapped[str] = mapped_column(String(32))


class ImportBatchRow(Base):
    """One imported file: a version of activity data. Never deleted; replaced or withdrawn by status.

    ``status``: active (used by inventories) | pending (waiting for approval; ``replaces`` the batch it would
    supersede, ``status_reason`` the reason given for the replacement) | superseded (replaced by
    ``superseded_by``) | withdrawn (undone, with ``status_reason``) | rejected (not approved, with
    ``status_reason``). ``columns`` gives the type of each payload field of its rows.
    """

    __tablename__ = "import_batches"
    __table_args__ = (Index("ix_import_batches_scope", "organisation_id", "year", "kind", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(512))  # file name
    path: Mapped[str] = mapped_column(String(1024))  # path as given on import
    sha256: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_by: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    replaces: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_changed_by: Mapped[str | None] = mapped_column(String(128))
    columns: Mapped[dict | None] = mapped_column(JSON)


class ActivityRow(Base):
    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    activity_id: Mapped[str] = mapped_column(String(600))
    site: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    payload: Mapped[dict] = mapped_column(JSON)


class InventoryRow(Base):
    __tablename__ = "inventories"
    __table_args__ = (UniqueConstraint("organisation_id", "year", "boundary"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int] = mapped_column(Integer)
    boundary: Mapped[str] = mapped_column(String(32))
    factor_set: Mapped[str] = mapped_column(String(64))
    factor_set_fingerprint: Mapped[str] = mapped_column(String(64))
    gwp_set: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # draft | closed
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    totals: Mapped[dict] = mapped_column(JSON)
    warnings: Mapped[list] = mapped_column(JSON)
    exclusions: Mapped[list] = mapped_column(JSON)


class EmissionLineRow(Base):
    """What many ledger rows of one inventory share: site, scope, category, method, gas, GWP, lineage text and,
    for Scope 3, the calculation method and data-quality score.

    Kept apart from the rows because a 1M-row ledger has only hundreds of distinct lines: storing them once
    makes each ledger row a few numbers and an activity id.
    """

    __tablename__ = "emission_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    inventory_id: Mapped[int] = mapped_column(ForeignKey("inventories.id", ondelete="CASCADE"), index=True)
    site: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(4))
    category: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    gas: Mapped[str] = mapped_column(String(32))
    gwp_set: Mapped[str] = mapped_column(String(16))
    gwp: Mapped[float] = mapped_column(Float)
    gwp_factor_id: Mapped[str] = mapped_column(String(128))
    inclusion: Mapped[float] = mapped_column(Float)
    factor_ids: Mapped[str] = mapped_column(Text)
    formula: Mapped[str] = mapped_column(Text)
    memo: Mapped[str] = mapped_column(String(32))
    # Scope 3: the calculation method (supplier_specific, spend_based, ...) and the data-quality score
    # (1.0 very good .. 5.0 very poor); "" and NULL on Scope 1 and 2 lines (revision 0012).
    calc_method: Mapped[str | None] = mapped_column(String(24))
    dq: Mapped[float | None] = mapped_column(Float)


class EmissionRow(Base):
    """One ledger row: one gas from one activity row under one method (its line says which).

    ``inventory_id``, ``line_id`` and ``batch_id`` name an inventory, an emission line and an import batch
    without foreign-key constraints: the rows are derived data, written only by ``repos.save_inventory`` in
    the transaction that writes their lines, and a constraint is checked with one query per row — on
    PostgreSQL 16 of the 20 s of inserting a 1.8M-row ledger (BENCHMARKS.md).
    """

    __tablename__ = "emissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    inventory_id: Mapped[int] = mapped_column(Integer, index=True)
    line_id: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(Integer)
    activity_id: Mapped[str] = mapped_column(String(600))
    gas_kg: Mapped[float] = mapped_column(Float)
    co2e_t: Mapped[float] = mapped_column(Float)


class BaseYearChangeRow(Base):
    __tablename__ = "base_year_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    base_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    delta_t: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """One entry of the append-only audit trail, chained by hash to the entry before it (core.audit)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict] = mapped_column(JSON)


class MeterRow(Base):
    """Meter metadata; interval readings live in the Parquet lake (bulk) or the readings table (live)."""

    __tablename__ = "meters"
    # A meter id is unique only within its organisation: two tenants may both have a "MAIN".
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(64))
    line: Mapped[str | None] = mapped_column(String(64))
    asset: Mapped[str | None] = mapped_column(String(64))
    medium: Mapped[str] = mapped_column(String(32))  # electricity | gas | water | air | pv
    unit: Mapped[str] = mapped_column(String(32))
    multiplier: Mapped[float] = mapped_column(Float)  # CT x PT ratio
    register: Mapped[str] = mapped_column(String(16))  # interval | cumulative
    stamp: Mapped[str] = mapped_column(String(8))  # start | end
    interval_min: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    rollover: Mapped[float | None] = mapped_column(Float)


class ReadingRow(Base):
    """Live readings: one row per (organisation, meter, interval start in UTC); the key makes redelivery harmless."""

    __tablename__ = "readings"
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    meter: Mapped[str] = mapped_column(String(128), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    flag: Mapped[str] = mapped_column(String(16))  # "" | future | stale
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeadLetterRow(Base):
    """A refused message or reading; ``organisation_id`` is that of the topic, None when it names no known one."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    topic: Mapped[str] = mapped_column(String(512))
    payload: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScheduleRunRow(Base):
    """One run of the energy-aware scheduler: its input files (by SHA-256), settings and the comparison it
    produced (``result``: KPIs of every plan, savings against the conventional plan, per-line segments on real
    dates, price and carbon bands; services.schedule_runs builds it), with its headline in ``summary``."""

    __tablename__ = "schedule_runs"
    __table_args__ = (Index("ix_schedule_runs_org", "organisation_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(256))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    problem_file: Mapped[str] = mapped_column(String(512))
    problem_sha256: Mapped[str] = mapped_column(String(64))
    orders_file: Mapped[str | None] = mapped_column(String(512))
    orders_sha256: Mapped[str | None] = mapped_column(String(64))
    time_limit_s: Mapped[float] = mapped_column(Float)
    objective: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[dict] = mapped_column(JSON)  # the headline of ``result``, for lists
    result: Mapped[dict] = mapped_column(JSON)



class JobRow(Base):
    """Long work run in the background: its request, its state and progress, and its outcome.

    The row is the only record of a job's state: whichever process runs it writes here, and every server
    process reads it. ``status``: queued | running | succeeded | failed | cancelled. ``heartbeat_at`` is renewed
    while a process works on it, so a job whose process died can be told from one that is slow; ``runner``
    names that process (host:pid).
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_org_status", "organisation_id", "status"), Index("ix_jobs_status", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    progress_done: Mapped[int] = mapped_column(Integer, server_default="0")
    progress_total: Mapped[int] = mapped_column(Integer, server_default="0")
    progress_message: Mapped[str] = mapped_column(String(512), server_default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, server_default=false())
    cancel_requested_by: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    runner: Mapped[str | None] = mapped_column(String(128))
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[list | None] = mapped_column(JSON)
