"""Persistence of core objects. Functions take an open Session; services own the transaction."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from zerocarbon.core.ghg.inventory import KIND_COLUMNS, ActivityData, InventoryResult
from zerocarbon.core.model import Methodology, Organisation, Site
from zerocarbon.errors import NotFoundError
from zerocarbon.store.tables import (ActivityRow, AuditRow, BaseYearChangeRow, DeadLetterRow, EmissionRow,
                                     ImportBatchRow, InventoryRow, OrganisationRow, ReadingRow, SiteRow)


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def audit(session: Session, actor: str, action: str, entity: str, **detail) -> None:
    session.add(AuditRow(at=now(), actor=actor, action=action, entity=entity, detail=detail))


# -- organisation ----------------------------------------------------------------------------------
def save_organisation(session: Session, org: Organisation) -> int:
    row = session.scalar(select(OrganisationRow).where(OrganisationRow.code == org.code))
    if row is None:
        row = OrganisationRow(code=org.code, name=org.name)
        session.add(row)
        session.flush()
    row.name = org.name
    existing = {s.code: s for s in session.scalars(select(SiteRow).where(SiteRow.organisation_id == row.id))}
    for s in org.sites:
        sr = existing.get(s.code) or SiteRow(organisation_id=row.id, code=s.code)
        for field in ("name", "country", "province", "grid_region", "timezone", "equity_share",
                      "operational_control", "financial_control"):
            setattr(sr, field, getattr(s, field))
        sr.methodology = s.methodology.value
        session.add(sr)
    session.flush()
    return row.id


def load_organisation(session: Session, code: str) -> tuple[int, Organisation]:
    row = session.scalar(select(OrganisationRow).where(OrganisationRow.code == code))
    if row is None:
        raise NotFoundError(f"organisation '{code}' is not in the database; run `zerocarbon org load` first")
    sites = tuple(
        Site(code=s.code, name=s.name, country=s.country, province=s.province, grid_region=s.grid_region,
             timezone=s.timezone, equity_share=s.equity_share, operational_control=s.operational_control,
             financial_control=s.financial_control, methodology=Methodology(s.methodology))
        for s in session.scalars(select(SiteRow).where(SiteRow.organisation_id == row.id).order_by(SiteRow.code)))
    return row.id, Organisation(row.code, row.name, sites)


# -- activities ------------------------------------------------------------------------------------
def find_batch(session: Session, org_id: int, sha256: str) -> ImportBatchRow | None:
    return session.scalar(select(ImportBatchRow).where(ImportBatchRow.organisation_id == org_id,
                                                       ImportBatchRow.sha256 == sha256))


def _jsonable(v):
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.date().isoformat()
    if isinstance(v, (np.floating, float)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def save_batch(session: Session, org_id: int, kind: str, source: str, sha256: str, year: int,
               frame: pd.DataFrame, actor: str) -> int:
    batch = ImportBatchRow(organisation_id=org_id, kind=kind, source=source, sha256=sha256, year=year,
                           rows=len(frame), imported_at=now(), imported_by=actor)
    session.add(batch)
    session.flush()
    site_col = "retired_for_site" if kind == "instrument" else "site"
    records = []
    for rec in frame.to_dict(orient="records"):
        payload = {k: _jsonable(v) for k, v in rec.items()}
        records.append(dict(batch_id=batch.id, kind=kind, activity_id=payload["activity_id"],
                            site=payload[site_col],
                            period_start=rec["period_start"].date() if "period_start" in rec else None,
                            period_end=rec["period_end"].date() if "period_end" in rec else None,
                            payload=payload))
    if records:
        session.execute(insert(ActivityRow), records)
    return batch.id


def load_activities(session: Session, org_id: int, year: int, kinds=None) -> ActivityData:
    q = (select(ActivityRow.kind, ActivityRow.payload).join(ImportBatchRow, ActivityRow.batch_id == ImportBatchRow.id)
         .where(ImportBatchRow.organisation_id == org_id, ImportBatchRow.year == year))
    if kinds:
        q = q.where(ActivityRow.kind.in_(kinds))
    rows: dict[str, list[dict]] = {}
    for kind, payload in session.execute(q):
        rows.setdefault(kind, []).append(payload)
    frames = {}
    for kind, recs in rows.items():
        df = pd.DataFrame(recs)
        for c in df.columns:
            if c.startswith(("period_", "vintage_")):
                df[c] = pd.to_datetime(df[c])
        for c in KIND_COLUMNS[kind]:
            if c not in df:
                df[c] = np.nan
        frames[kind] = df
    return ActivityData(frames)


# -- inventories -----------------------------------------------------------------------------------
def get_inventory(session: Session, org_id: int, year: int, boundary: str) -> InventoryRow | None:
    return session.scalar(select(InventoryRow).where(InventoryRow.organisation_id == org_id,
                                                     InventoryRow.year == year, InventoryRow.boundary == boundary))


def save_inventory(session: Session, org_id: int, result: InventoryResult, status: str = "draft") -> int:
    row = get_inventory(session, org_id, result.year, result.boundary.value)
    if row is None:
        row = InventoryRow(organisation_id=org_id, year=result.year, boundary=result.boundary.value)
        session.add(row)
    row.factor_set, row.factor_set_fingerprint = result.factor_set, result.factor_set_fingerprint
    row.gwp_set, row.status, row.computed_at = result.gwp_set, status, now()
    row.totals = result.totals()
    row.warnings, row.exclusions = result.warnings, result.exclusions
    session.flush()
    session.execute(delete(EmissionRow).where(EmissionRow.inventory_id == row.id))
    led = result.ledger.copy()
    for c in ("factor_ids", "formula", "gwp_factor_id", "category"):
        led[c] = led[c].astype(str)
    led["inventory_id"] = row.id
    session.execute(insert(EmissionRow), json.loads(led.to_json(orient="records")))
    return row.id


def load_ledger(session: Session, inventory_id: int) -> pd.DataFrame:
    q = select(EmissionRow).where(EmissionRow.inventory_id == inventory_id)
    return pd.read_sql(q, session.connection())


def save_base_year_change(session: Session, org_id: int, base_year: int, kind: str, delta_t: float,
                          reason: str) -> None:
    session.add(BaseYearChangeRow(organisation_id=org_id, base_year=base_year, kind=kind, delta_t=delta_t,
                                  reason=reason, recorded_at=now()))


def base_year_changes(session: Session, org_id: int, base_year: int) -> list[BaseYearChangeRow]:
    return list(session.scalars(select(BaseYearChangeRow).where(BaseYearChangeRow.organisation_id == org_id,
                                                                BaseYearChangeRow.base_year == base_year)))


# -- live readings -----------------------------------------------------------------------------------
def insert_readings(session: Session, readings) -> None:
    """Insert readings; a (meter, ts) already stored is skipped, so redelivered messages change nothing.

    One parameterised statement executed for the whole batch (DBAPI executemany): ORM or dict-based inserts
    cost more than parsing the messages at live-ingest rates.
    """
    if not readings:
        return
    at = now()
    rows = [(r.meter, r.ts, r.value, r.unit, r.flag, at) for r in readings]
    mark = "%s" if session.get_bind().dialect.name == "postgresql" else "?"
    sql = (f"INSERT INTO readings (meter, ts, value, unit, flag, received_at) VALUES "
           f"({', '.join([mark] * 6)}) ON CONFLICT (meter, ts) DO NOTHING")
    session.connection().exec_driver_sql(sql, rows)


def insert_dead_letters(session: Session, dead) -> None:
    for topic, payload, reason in dead:
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
        session.add(DeadLetterRow(topic=topic, payload=text[:10000], reason=reason, received_at=now()))


def live_readings(session: Session, since: datetime | None = None) -> pd.DataFrame:
    """Live readings with their meter's site: meter, ts (interval start, UTC), value, unit, flag, site.

    ``since`` [UTC, naive] keeps readings received at or after it.
    """
    from zerocarbon.store.tables import MeterRow

    q = (select(ReadingRow.meter, ReadingRow.ts, ReadingRow.value, ReadingRow.unit, ReadingRow.flag, MeterRow.site)
         .join(MeterRow, MeterRow.id == ReadingRow.meter).order_by(ReadingRow.meter, ReadingRow.ts))
    if since is not None:
        q = q.where(ReadingRow.received_at >= since)
    return pd.DataFrame(session.execute(q).all(), columns=["meter", "ts", "value", "unit", "flag", "site"])


def count_readings(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(ReadingRow))


# -- meters --------------------------------------------------------------------------------------------
def save_meters(session: Session, meters) -> None:
    """Upsert meter metadata (the lake holds the readings; the database says what each meter is)."""
    from zerocarbon.store.tables import MeterRow

    for m in meters:
        row = session.get(MeterRow, m.id) or MeterRow(id=m.id)
        for f in ("site", "area", "line", "asset", "medium", "unit", "multiplier", "register", "stamp",
                  "interval_min", "timezone", "rollover"):
            setattr(row, f, getattr(m, f))
        session.add(row)
