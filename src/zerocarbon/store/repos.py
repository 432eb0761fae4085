"""Persistence of core objects. Functions take an open Session; services own the transaction."""
from __future__ import annotations

import io
import json
from functools import lru_cache
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
from sqlalchemy import String, and_, bindparam, case, delete, func, insert, select, text
from sqlalchemy.orm import Session

from zerocarbon.core.ghg.inventory import KIND_COLUMNS, ActivityData, InventoryResult
from zerocarbon.core.model import Methodology, Organisation, Site
from zerocarbon.errors import NotFoundError
from zerocarbon.store.tables import (AuditRow, BaseYearChangeRow, DeadLetterRow, EmissionLineRow, EmissionRow,
                                     ImportBatchRow, InventoryRow, OrganisationRow, ReadingRow, SiteRow)


def now() -> datetime:
    return datetime.now(timezone.utc)


def audit(session: Session, actor: str, action: str, entity: str, org_id: int | None = None, **detail) -> None:
    """Append an entry to the hash-chained audit trail (store.audit), in the caller's transaction."""
    from zerocarbon.store import audit as trail

    trail.append(session, actor, action, entity, org_id, **detail)


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
    sites = tuple(_site(s) for s in session.scalars(select(SiteRow).where(SiteRow.organisation_id == row.id)
                                                    .order_by(SiteRow.code)))
    return row.id, Organisation(row.code, row.name, sites)


_ORGANISATION_ID = select(OrganisationRow.id).where(OrganisationRow.code == bindparam("code"))


_LAST_AUDIT = select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)
_SCHEMA_REVISION = text("SELECT version_num FROM alembic_version")
_DATA_VERSION = select(_LAST_AUDIT.with_only_columns(AuditRow.seq).scalar_subquery(),
                       _LAST_AUDIT.with_only_columns(AuditRow.hash).scalar_subquery(),
                       _SCHEMA_REVISION.columns(version_num=String).subquery().select().limit(1).scalar_subquery())


def data_version(session: Session) -> tuple:
    """(sequence number and hash of the last audit-trail entry, schema revision), by index lookups.

    Every change of organisations, batches, inventories and factor sets is written in the same transaction as
    an audit entry, so this changes whenever any of them changed (and with a database restored from another
    history, whose chain has other hashes, or a migration).
    """
    return tuple(session.execute(_DATA_VERSION).one())


def organisation_key(session: Session, code: str) -> int:
    """The id of organisation ``code`` alone (one column query, no sites), for reads that need nothing else;
    NotFoundError as :func:`load_organisation`."""
    org_id = session.execute(_ORGANISATION_ID, {"code": code}).scalar()
    if org_id is None:
        raise NotFoundError(f"organisation '{code}' is not in the database; run `zerocarbon org load` first")
    return org_id


def _site(s: SiteRow) -> Site:
    return Site(code=s.code, name=s.name, country=s.country, province=s.province, grid_region=s.grid_region,
                timezone=s.timezone, equity_share=s.equity_share, operational_control=s.operational_control,
                financial_control=s.financial_control, methodology=Methodology(s.methodology))


# -- batches ---------------------------------------------------------------------------------------
ACTIVE, SUPERSEDED, WITHDRAWN = "active", "superseded", "withdrawn"
# Uploaded by a member whose role may not approve: kept out of inventories until approved (-> active) or
# rejected (-> rejected, with the reason).
PENDING, REJECTED = "pending", "rejected"
STATUSES = (ACTIVE, PENDING, SUPERSEDED, WITHDRAWN, REJECTED)
# Batches whose rows are counted, or will be once approved: a new file must not repeat their records.
CLAIMING = (ACTIVE, PENDING)


def find_active_batch(session: Session, org_id: int, sha256: str,
                      statuses: tuple[str, ...] = (ACTIVE,)) -> ImportBatchRow | None:
    """The batch of this organisation in one of ``statuses`` whose file has this SHA-256, if any."""
    return session.scalar(select(ImportBatchRow).where(ImportBatchRow.organisation_id == org_id,
                                                       ImportBatchRow.sha256 == sha256,
                                                       ImportBatchRow.status.in_(statuses))
                          .order_by(ImportBatchRow.id).limit(1))


def get_batch(session: Session, org_id: int, batch_id: int, imported_by: str | None = None) -> ImportBatchRow:
    """The batch ``batch_id`` of the organisation; with ``imported_by`` only if that actor imported it, so that
    a member who may read only its own submissions gets the same NotFoundError for a batch of someone else as
    for an id that does not exist."""
    q = select(ImportBatchRow).where(ImportBatchRow.organisation_id == org_id, ImportBatchRow.id == batch_id)
    if imported_by is not None:
        q = q.where(ImportBatchRow.imported_by == imported_by)
    row = session.scalar(q)
    if row is None:
        raise NotFoundError(f"batch {batch_id} is not a batch of this organisation; see `zerocarbon import list`")
    return row


def pending_replacement(session: Session, org_id: int, batch_id: int) -> ImportBatchRow | None:
    """A batch waiting for approval that would replace ``batch_id``, if any."""
    return session.scalar(select(ImportBatchRow).where(ImportBatchRow.organisation_id == org_id,
                                                       ImportBatchRow.replaces == batch_id,
                                                       ImportBatchRow.status == PENDING).limit(1))


def batches_replacing(session: Session, org_id: int, ids) -> list[ImportBatchRow]:
    """Batches that replace (or, waiting for approval or rejected, would have replaced) one of ``ids``."""
    return list(session.scalars(select(ImportBatchRow).where(ImportBatchRow.organisation_id == org_id,
                                                             ImportBatchRow.replaces.in_(list(ids)))
                                .order_by(ImportBatchRow.id)))


def list_batches(session: Session, org_id: int, year: int | None = None, kind: str | None = None,
                 status: str | tuple[str, ...] | None = None, ids=None,
                 imported_by: str | None = None) -> list[ImportBatchRow]:
    """Batches of the organisation, oldest first; ``status`` one status or a tuple of them; ``imported_by``
    only those that actor imported."""
    q = select(ImportBatchRow).where(ImportBatchRow.organisation_id == org_id)
    if year is not None:
        q = q.where(ImportBatchRow.year == year)
    if kind is not None:
        q = q.where(ImportBatchRow.kind == kind)
    if isinstance(status, str):
        q = q.where(ImportBatchRow.status == status)
    elif status is not None:
        q = q.where(ImportBatchRow.status.in_(status))
    if imported_by is not None:
        q = q.where(ImportBatchRow.imported_by == imported_by)
    if ids is not None:
        q = q.where(ImportBatchRow.id.in_(list(ids)))
    return list(session.scalars(q.order_by(ImportBatchRow.id)))


def set_batch_status(session: Session, batch: ImportBatchRow, status: str, actor: str, reason: str | None = None,
                     successor: int | None = None) -> None:
    batch.status, batch.status_reason, batch.superseded_by = status, reason, successor
    batch.status_changed_at, batch.status_changed_by = now(), actor
    session.flush()


def closed_inventories(session: Session, org_id: int, year: int) -> list[InventoryRow]:
    return list(session.scalars(select(InventoryRow).where(InventoryRow.organisation_id == org_id,
                                                           InventoryRow.year == year,
                                                           InventoryRow.status == "closed")))


def audit_rows(session: Session, org_id: int, entity_prefix: str | None = None) -> list[AuditRow]:
    q = select(AuditRow).where(AuditRow.organisation_id == org_id)
    if entity_prefix:
        q = q.where(AuditRow.entity.startswith(entity_prefix))
    return list(session.scalars(q.order_by(AuditRow.id)))


# -- activities ------------------------------------------------------------------------------------
CHUNK = 50_000


def _column_types(frame: pd.DataFrame) -> dict[str, str]:
    out = {}
    for c in frame.columns:
        t = frame[c].dtype
        if pd.api.types.is_datetime64_any_dtype(t):
            out[c] = "date"
        elif pd.api.types.is_bool_dtype(t):
            out[c] = "bool"
        elif pd.api.types.is_integer_dtype(t):
            out[c] = "int"
        elif pd.api.types.is_float_dtype(t):
            out[c] = "float"
        else:
            out[c] = "str"
    return out


def _payload_values(s: pd.Series, kind: str) -> list:
    """Python values of one column for JSON: ISO dates, exact floats (repr), None for empty cells."""
    if kind == "date":
        days = np.datetime_as_string(s.to_numpy(dtype="datetime64[D]"))
        return [None if d == "NaT" else d for d in days.tolist()]
    if kind == "float":
        values = s.to_numpy(dtype=float)
        if not np.isfinite(values[~np.isnan(values)]).all():
            raise ValueError(f"column {s.name} holds an infinite number; refuse it when validating the file")
        return [None if v != v else v for v in values.tolist()]
    return [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v for v in s.tolist()]


def save_batch(session: Session, org_id: int, kind: str, source: str, path: str, sha256: str, year: int,
               frame: pd.DataFrame, actor: str, replaces: int | None = None, progress=None,
               status: str = ACTIVE) -> ImportBatchRow:
    """Store a validated frame as a new batch (active, or ``status``); its activity ids become
    ``b<batch>:<file>:<row>``.

    Rows go in chunks through one parameterised INSERT (DBAPI executemany): per-row ORM objects or dicts
    cost more memory than the file itself. ``progress(done_rows, total_rows)`` is called after each chunk.
    """
    types = _column_types(frame.drop(columns=["activity_id"]))
    batch = ImportBatchRow(organisation_id=org_id, kind=kind, source=source, path=path, sha256=sha256, year=year,
                           rows=len(frame), imported_at=now(), imported_by=actor, status=status, replaces=replaces,
                           columns=types)
    session.add(batch)
    session.flush()
    site_col = "retired_for_site" if kind == "instrument" else "site"
    mark = "%s" if session.get_bind().dialect.name == "postgresql" else "?"
    sql = (f"INSERT INTO activities (batch_id, kind, activity_id, site, period_start, period_end, payload) "
           f"VALUES ({', '.join([mark] * 7)})")
    prefix = f"b{batch.id}:"
    names = list(types)
    for lo in range(0, len(frame), CHUNK):
        part = frame.iloc[lo:lo + CHUNK]
        values = [_payload_values(part[c], types[c]) for c in names]
        payloads = [json.dumps(dict(zip(names, row)), ensure_ascii=False, allow_nan=False) for row in zip(*values)]
        # Ids are read back one per line, so a line break in a file name must not reach them.
        ids = [prefix + a.replace("\n", " ").replace("\r", " ") for a in part["activity_id"].tolist()]
        sites = part[site_col].tolist()
        dates = {c: ([None] * len(part) if c not in part else
                     [None if pd.isna(d) else d for d in part[c].dt.date.tolist()])
                 for c in ("period_start", "period_end")}
        session.connection().exec_driver_sql(sql, list(zip([batch.id] * len(part), [kind] * len(part), ids, sites,
                                                            dates["period_start"], dates["period_end"], payloads)))
        if progress is not None:
            progress(min(lo + CHUNK, len(frame)), len(frame))
    return batch


# Kinds whose rows become ledger rows (instruments and generation only change the factors or shares of others);
# only these get categorical ids, as row-wise code on the others would turn the shared categories into objects.
LEDGER_KINDS = {"fuel", "electricity", "heat", "refrigerant", "process_gas",
                # Scope 3 (categories 1, 2, 4 to 7, 9, 11, 12)
                "purchase", "shipment", "waste", "travel", "commute", "product_use", "product_eol"}
_ARROW = {"date": "timestamp[s]", "float": "float64", "int": "int64", "bool": "bool", "str": "string"}


@dataclass
class StoredActivities:
    """Active activity rows of one organisation and year, ready for ``compute_inventory``.

    Every frame's ``activity_id`` is categorical over one shared list of ids (``ids``), so a ledger built
    from these frames keeps integer codes into it and ``batch_of`` gives each ledger row its batch without
    touching strings. Frames also carry a ``batch_id`` column.
    """

    data: ActivityData
    ids: pd.Index
    batch_of: np.ndarray

    def batches_for(self, activity_id: pd.Series) -> np.ndarray:
        dtype = activity_id.dtype
        if isinstance(dtype, pd.CategoricalDtype) and dtype.categories is self.ids:
            codes = activity_id.cat.codes.to_numpy()
            return self.batch_of[codes] if len(self.batch_of) else codes.astype(np.int64)
        return batch_ids_from_activity_ids(activity_id)


def batch_ids_from_activity_ids(activity_id: pd.Series) -> np.ndarray:
    """Batch id of each ``b<batch>:<file>:<row>`` activity id (-1 where there is none)."""
    found = activity_id.astype(str).str.extract(r"^b(\d+):", expand=False)
    return pd.to_numeric(found, errors="coerce").fillna(-1).to_numpy(dtype=np.int64)


def _read_batch_rows(session: Session, batch: ImportBatchRow, chunk: int = 100_000) -> pa.Table | None:
    """All rows of one batch as an Arrow table, parsed from their JSON payloads in chunks by SQL aggregation.

    The database concatenates a chunk's payloads into one text, and Arrow parses it in C: no Python object
    per row or per cell, so memory stays near the size of the columns. Chunks follow the row id (keyset),
    so each is one index range whatever the table's statistics say.
    """
    conn = session.connection()
    page = "SELECT id, payload, activity_id FROM activities WHERE batch_id = :b AND id > :after ORDER BY id LIMIT :n"
    if conn.dialect.name == "postgresql":
        # Two aggregates in the same order: merging the id into each payload as jsonb costs three times more.
        sql = text(f"SELECT string_agg(payload::text, E'\\n' ORDER BY id), string_agg(activity_id, E'\\n' ORDER BY id), "
                   f"max(id) FROM ({page}) AS page")
    else:
        sql = text("SELECT group_concat(json_set(payload, '$.activity_id', activity_id), char(10)), NULL, max(id) "
                   f"FROM ({page}) AS page")
    fields = [(k, pa.type_for_alias(_ARROW[t])) for k, t in (batch.columns or {}).items()]
    fields.append(("activity_id", pa.string()))
    opts = pa_json.ParseOptions(explicit_schema=pa.schema(fields), unexpected_field_behavior="infer")
    tables = []
    after = -1
    while True:
        blob, ids, last = conn.execute(sql, {"b": batch.id, "after": after, "n": chunk}).one()
        if not blob:
            break
        t = pa_json.read_json(io.BytesIO(blob.encode("utf-8")), parse_options=opts)
        if ids is not None:
            where = t.schema.get_field_index("activity_id")
            column = pa.array(ids.split("\n"), type=pa.string())
            t = t.set_column(where, "activity_id", column) if where >= 0 else t.append_column("activity_id", column)
        tables.append(t)
        del blob, ids
        after = last
        if t.num_rows < chunk:
            break
    if not tables:
        return None
    table = pa.concat_tables(tables, promote_options="permissive")
    return table.append_column("batch_id", pa.array(np.full(table.num_rows, batch.id, dtype=np.int64)))


def load_activities(session: Session, org_id: int, year: int, kinds=None, exclude_batches=(),
                    chunk: int = 100_000, statuses: tuple[str, ...] = (ACTIVE,), only_batches=None
                    ) -> StoredActivities:
    """Rows of the active batches of ``org_id`` and ``year`` (optionally only ``kinds``), one frame per kind.

    ``statuses`` reads batches in other states too (the double-count checks of an upload also read those
    waiting for approval); ``only_batches`` limits the read to those ids."""
    batches = [b for b in list_batches(session, org_id, year=year, status=tuple(statuses),
                                       ids=only_batches)
               if (not kinds or b.kind in kinds) and b.id not in set(exclude_batches)]
    tables: dict[str, list[pa.Table]] = {}
    for b in batches:
        t = _read_batch_rows(session, b, chunk)
        if t is not None:
            tables.setdefault(b.kind, []).append(t)
    frames: dict[str, pd.DataFrame] = {}
    for kind, parts in tables.items():
        df = pa.concat_tables(parts, promote_options="permissive").to_pandas()
        for c in df.columns:
            # Batches stored before column types were kept hold dates as text.
            if c.startswith(("period_", "vintage_")) and not pd.api.types.is_datetime64_any_dtype(df[c]):
                df[c] = pd.to_datetime(df[c])
        for c in KIND_COLUMNS[kind]:
            if c not in df:
                df[c] = np.nan
        frames[kind] = df
        del parts
    tables.clear()
    ids = pd.Index(pd.concat([f["activity_id"] for f in frames.values()], ignore_index=True)) if frames \
        else pd.Index([], dtype=str)
    batch_of = np.concatenate([f["batch_id"].to_numpy(dtype=np.int64) for f in frames.values()]) if frames \
        else np.zeros(0, dtype=np.int64)
    if ids.is_unique:
        dtype = pd.CategoricalDtype(ids)
        ids = dtype.categories
        start = 0
        for kind, f in frames.items():
            if kind in LEDGER_KINDS:
                f["activity_id"] = pd.Categorical.from_codes(np.arange(start, start + len(f)), dtype=dtype)
            start += len(f)
    return StoredActivities(ActivityData(frames), ids, batch_of)


# -- inventories -----------------------------------------------------------------------------------
def get_inventory(session: Session, org_id: int, year: int, boundary: str) -> InventoryRow | None:
    return session.scalar(select(InventoryRow).where(InventoryRow.organisation_id == org_id,
                                                     InventoryRow.year == year, InventoryRow.boundary == boundary))


_SITE_FIELDS = ("code", "name", "country", "province", "grid_region", "timezone", "equity_share",
                "operational_control", "financial_control", "methodology")
_INVENTORY_FIELDS = ("id", "year", "boundary", "factor_set", "factor_set_fingerprint", "gwp_set", "status",
                     "computed_at", "totals", "warnings", "exclusions")
# Built once: on every dashboard and API read of an inventory, building the statement would cost more than
# running it. Columns rather than ORM objects, for the same reason.
_ORGANISATION_AND_INVENTORY = (
    select(OrganisationRow.id.label("org_id"), OrganisationRow.code.label("org_code"),
           OrganisationRow.name.label("org_name"),
           *(getattr(InventoryRow, f).label(f"inventory_{f}") for f in _INVENTORY_FIELDS))
    .outerjoin(InventoryRow, and_(InventoryRow.organisation_id == OrganisationRow.id,
                                  InventoryRow.year == bindparam("year"), InventoryRow.boundary == bindparam("boundary")))
    .where(OrganisationRow.code == bindparam("code")))
_SITES = (select(*(getattr(SiteRow, f) for f in _SITE_FIELDS)).where(SiteRow.organisation_id == bindparam("org_id"))
          .order_by(SiteRow.code))


@dataclass(frozen=True)
class StoredInventory:
    """What is stored about a computed inventory besides its ledger (the columns of ``inventories``)."""

    id: int
    year: int
    boundary: str
    factor_set: str
    factor_set_fingerprint: str
    gwp_set: str
    status: str
    computed_at: datetime
    totals: dict
    warnings: list
    exclusions: list


def organisation_and_inventory(session: Session, code: str, year: int,
                               boundary: str) -> tuple[int, Organisation, StoredInventory | None]:
    """The organisation with its sites and its stored inventory of ``year`` and ``boundary`` (None if not
    computed), in two queries: the reads of a stored inventory run on every dashboard and API request."""
    first = session.execute(_ORGANISATION_AND_INVENTORY, {"code": code, "year": year, "boundary": boundary}).first()
    if first is None:
        raise NotFoundError(f"organisation '{code}' is not in the database; run `zerocarbon org load` first")
    sites = tuple(Site(**dict(zip(_SITE_FIELDS[:-1], r[:-1])), methodology=Methodology(r[-1]))
                  for r in session.execute(_SITES, {"org_id": first.org_id}))
    inventory = (StoredInventory(**{f: getattr(first, f"inventory_{f}") for f in _INVENTORY_FIELDS})
                 if first.inventory_id is not None else None)
    return first.org_id, Organisation(first.org_code, first.org_name, sites), inventory


LINE_COLUMNS = ["site", "scope", "category", "method", "gas", "gwp_set", "gwp", "gwp_factor_id", "inclusion",
                "factor_ids", "formula", "memo", "calc_method", "dq"]
LEDGER_COLUMNS_STORED = ["id", "batch_id", "activity_id", "site", "scope", "category", "method", "gas", "gas_kg",
                         "gwp_set", "gwp", "gwp_factor_id", "inclusion", "co2e_t", "factor_ids", "formula", "memo",
                         "calc_method", "dq"]
# Line columns holding numbers; ``dq`` is NaN (NULL when stored) on Scope 1 and 2 lines.
_LINE_NUMBERS = ("gwp", "inclusion", "dq")
# What a ledger without the Scope 3 columns (computed by a version without Scope 3) holds in them.
_LINE_DEFAULTS = {"calc_method": "", "dq": np.nan}


class _TextColumn:
    """A ledger text column, chunk by chunk: categories turned into Python strings once, then picked by code."""

    def __init__(self, s: pd.Series):
        if isinstance(s.dtype, pd.CategoricalDtype):
            self.values = np.asarray(s.cat.categories.astype(str), dtype=object)
            self.codes = s.cat.codes.to_numpy()
        else:
            self.values, self.codes = None, s

    def chunk(self, lo: int, hi: int) -> list:
        if self.values is None:
            return self.codes.iloc[lo:hi].astype(str).tolist()
        return self.values[self.codes[lo:hi]].tolist()


def _line_codes(led: pd.DataFrame) -> np.ndarray:
    """One code per distinct combination of the line columns, numbered in order of first appearance."""
    code = np.zeros(len(led), dtype=np.int64)
    for c in LINE_COLUMNS:
        s = led[c]
        part = s.cat.codes.to_numpy().astype(np.int64) if isinstance(s.dtype, pd.CategoricalDtype) \
            else pd.factorize(s, use_na_sentinel=False)[0].astype(np.int64)
        # Re-number after each column so the combined code stays small.
        code = pd.factorize(code * (int(part.max(initial=0)) + 1) + part)[0].astype(np.int64)
    return code


def _line_value(column: str, value):
    """A line's value as stored: numbers as floats (a missing score as NULL), the rest as text."""
    if column in _LINE_NUMBERS:
        v = float(value) if value is not None else float("nan")
        return None if v != v else v
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def save_inventory(session: Session, org_id: int, result: InventoryResult, status: str = "draft",
                   activities: StoredActivities | None = None, chunk: int = 100_000) -> int:
    """Store an inventory and its ledger (replacing a stored one of the same year and boundary).

    The ledger's distinct lines (site ... memo) go to ``emission_lines`` once; each ledger row stores its line,
    batch, activity id and numbers, in chunks: COPY of Arrow-written CSV on PostgreSQL, one executemany
    INSERT per chunk on SQLite.
    """
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
    session.execute(delete(EmissionLineRow).where(EmissionLineRow.inventory_id == row.id))
    led = result.ledger
    n = len(led)
    if n == 0:
        return row.id
    missing = {c: v for c, v in _LINE_DEFAULTS.items() if c not in led}
    if missing:
        led = led.assign(**missing)
    codes = _line_codes(led)
    first = pd.Series(np.arange(n)).groupby(codes, sort=True).first().to_numpy()
    lines = led.iloc[first][LINE_COLUMNS]
    records = [dict(inventory_id=row.id, **{c: _line_value(c, v) for c, v in zip(LINE_COLUMNS, r)})
               for r in lines.itertuples(index=False, name=None)]
    line_ids = np.asarray(session.scalars(insert(EmissionLineRow).returning(EmissionLineRow.id,
                                                                           sort_by_parameter_order=True),
                                          records).all(), dtype=np.int64)
    line_of = line_ids[codes]
    batch = (activities.batches_for(led["activity_id"]) if activities is not None
             else batch_ids_from_activity_ids(led["activity_id"]))
    gas_kg, co2e_t = led["gas_kg"].to_numpy(dtype=float), led["co2e_t"].to_numpy(dtype=float)
    conn = session.connection()
    cols = "inventory_id, line_id, batch_id, activity_id, gas_kg, co2e_t"
    if conn.dialect.name == "postgresql":
        aid = led["activity_id"]
        categorical = isinstance(aid.dtype, pd.CategoricalDtype)
        names = pa.array(aid.cat.categories.astype(str), type=pa.string()) if categorical else None
        codes = aid.cat.codes.to_numpy() if categorical else None
        with conn.connection.driver_connection.cursor() as cur, \
                cur.copy(f"COPY emissions ({cols}) FROM STDIN WITH (FORMAT csv)") as cp:
            for lo in range(0, n, chunk):
                hi = min(lo + chunk, n)
                part = pa.table({
                    "inventory_id": pa.array(np.full(hi - lo, row.id, dtype=np.int64)),
                    "line_id": pa.array(line_of[lo:hi]),
                    "batch_id": pa.array(batch[lo:hi], mask=batch[lo:hi] < 0),
                    "activity_id": names.take(pa.array(codes[lo:hi])) if categorical
                    else pa.array(aid.iloc[lo:hi].astype(str).tolist(), type=pa.string()),
                    "gas_kg": pa.array(gas_kg[lo:hi]), "co2e_t": pa.array(co2e_t[lo:hi])})
                # Arrow's CSV writer prints the shortest text that reads back as the same float.
                buf = io.BytesIO()
                pa_csv.write_csv(part, buf, pa_csv.WriteOptions(include_header=False))
                cp.write(buf.getvalue())
        return row.id
    ids = _TextColumn(led["activity_id"])
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        rows = zip([row.id] * (hi - lo), line_of[lo:hi].tolist(),
                   [None if b < 0 else b for b in batch[lo:hi].tolist()], ids.chunk(lo, hi),
                   gas_kg[lo:hi].tolist(), co2e_t[lo:hi].tolist())
        conn.exec_driver_sql(f"INSERT INTO emissions ({cols}) VALUES (?, ?, ?, ?, ?, ?)", list(rows))
    return row.id


def ledger_sums(session: Session, inventory_id: int) -> list[tuple[str, str, str, str, float]]:
    """(site, scope, category, method, tCO2e) of the ledger rows inside the totals (memo items left out)."""
    q = (select(EmissionLineRow.site, EmissionLineRow.scope, EmissionLineRow.category, EmissionLineRow.method,
                func.sum(EmissionRow.co2e_t))
         .join(EmissionRow, EmissionRow.line_id == EmissionLineRow.id)
         .where(EmissionLineRow.inventory_id == inventory_id, EmissionRow.inventory_id == inventory_id,
                EmissionLineRow.memo == "")
         .group_by(EmissionLineRow.site, EmissionLineRow.scope, EmissionLineRow.category, EmissionLineRow.method))
    return [(a, b, c, d, float(t or 0.0)) for a, b, c, d, t in session.execute(q)]


def line_sums(session: Session, inventory_id: int) -> pd.DataFrame:
    """Every stored line of an inventory (site, scope, category, method, memo, calc_method, dq) with how many
    ledger rows it has (``rows``) and their tCO2e (``co2e_t``), counted and summed by the database."""
    counts = {line: (int(n), float(t or 0.0)) for line, n, t in session.execute(
        select(EmissionRow.line_id, func.count(), func.sum(EmissionRow.co2e_t))
        .where(EmissionRow.inventory_id == inventory_id).group_by(EmissionRow.line_id))}
    cols = ["id", "site", "scope", "category", "method", "memo", "calc_method", "dq"]
    lines = pd.DataFrame(session.execute(select(*(getattr(EmissionLineRow, c) for c in cols))
                                         .where(EmissionLineRow.inventory_id == inventory_id)).all(), columns=cols)
    lines["calc_method"] = lines["calc_method"].fillna("")
    lines["dq"] = pd.to_numeric(lines["dq"], errors="coerce").astype(float)
    got = [counts.get(i, (0, 0.0)) for i in lines["id"]]
    lines["rows"] = np.asarray([g[0] for g in got], dtype=np.int64)
    lines["co2e_t"] = np.asarray([g[1] for g in got], dtype=float)
    return lines


def _driver_rows(session: Session, sql: str, params: tuple, chunk: int):
    """Rows of a query as the database driver's own tuples, a chunk at a time (no SQLAlchemy row objects, which
    cost more than the query for a million rows)."""
    dbapi = session.connection().connection.driver_connection
    cur = dbapi.cursor()
    try:
        cur.execute(sql, params)
        while True:
            block = cur.fetchmany(chunk)
            if not block:
                break
            yield block
    finally:
        cur.close()


def sums_by_activity_field(session: Session, inventory_id: int, field: str, scope: str,
                           categories, chunk: int = 100_000) -> pd.DataFrame:
    """Ledger rows of ``scope`` and ``categories`` inside the totals (memo items left out), grouped by one field
    of the activity row each comes from (as imported, e.g. a purchase's ``supplier``) and by line: columns
    ``value`` ("" where the row has none), ``line_id``, ``rows`` and ``co2e_t``.

    Read as two streams joined here (the rows, then the field of their batches' activities): activities are
    indexed by batch, not by id, so a join in the database would scan a batch per ledger row on SQLite.
    """
    out_cols = ["value", "line_id", "rows", "co2e_t"]
    if not field.isidentifier():
        raise ValueError(f"not a field name: {field!r}")
    categories = list(categories)
    pg = session.get_bind().dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    rows_sql = ("SELECT e.activity_id, e.batch_id, e.line_id, e.co2e_t FROM emissions e JOIN emission_lines l "
                f"ON l.id = e.line_id WHERE e.inventory_id = {mark} AND l.inventory_id = {mark} AND l.scope = {mark} "
                f"AND l.memo = '' AND l.category IN ({', '.join([mark] * len(categories))})")
    parts = {k: [] for k in ("activity_id", "batch_id", "line_id", "co2e_t")}
    for block in _driver_rows(session, rows_sql, (inventory_id, inventory_id, scope, *categories), chunk):
        aid, batch, line, t = zip(*block)
        parts["activity_id"].append(np.asarray(aid, dtype=object))
        parts["batch_id"].append(np.asarray([-1 if b is None else b for b in batch], dtype=np.int64))
        parts["line_id"].append(np.asarray(line, dtype=np.int64))
        parts["co2e_t"].append(np.asarray(t, dtype=float))
    if not parts["line_id"]:
        return pd.DataFrame(columns=out_cols)
    rows = pd.DataFrame({k: np.concatenate(v) for k, v in parts.items()})
    batches = sorted(int(b) for b in np.unique(rows["batch_id"].to_numpy()) if b >= 0)
    ids, values = [], []
    if batches:
        pick = f"payload ->> '{field}'" if pg else f"json_extract(payload, '$.{field}')"
        sql = (f"SELECT activity_id, {pick} FROM activities WHERE batch_id IN "
               f"({', '.join([mark] * len(batches))})")
        for block in _driver_rows(session, sql, tuple(batches), chunk):
            a, v = zip(*block)
            ids += a
            values += v
    found = pd.Series(values, index=pd.Index(ids, dtype=object), dtype=object)
    found = found[~found.index.duplicated()]
    rows["value"] = rows["activity_id"].map(found).fillna("").astype(str)
    grouped = rows.groupby(["value", "line_id"], sort=True).agg(rows=("co2e_t", "size"), co2e_t=("co2e_t", "sum"))
    return grouped.reset_index()[out_cols]


def load_ledger(session: Session, inventory_id: int, site: str | None = None, scope: str | None = None,
                category: str | None = None, methods=None, chunk: int = 100_000) -> pd.DataFrame:
    """The stored ledger (optionally filtered), text columns as categoricals, read in chunks."""
    where = [EmissionLineRow.inventory_id == inventory_id]
    for col, val in (("site", site), ("scope", scope), ("category", category)):
        if val is not None:
            where.append(getattr(EmissionLineRow, col) == val)
    if methods is not None:
        where.append(EmissionLineRow.method.in_(list(methods)))
    q = select(EmissionLineRow).where(*where)
    lines = pd.DataFrame([{c: getattr(r, c) for c in ["id", *LINE_COLUMNS]} for r in session.scalars(q)],
                         columns=["id", *LINE_COLUMNS])
    # Lines stored before revision 0012 hold NULL in the Scope 3 columns.
    lines["calc_method"] = lines["calc_method"].fillna("")
    lines["dq"] = pd.to_numeric(lines["dq"], errors="coerce").astype(float)
    filtered = any(v is not None for v in (site, scope, category, methods))
    rows = (select(EmissionRow.id, EmissionRow.line_id, EmissionRow.batch_id, EmissionRow.activity_id,
                   EmissionRow.gas_kg, EmissionRow.co2e_t).where(EmissionRow.inventory_id == inventory_id))
    if filtered:
        # The lines' filter again, joined: Scope 3 rows of supplier figures can make tens of thousands of lines,
        # more ids than SQLite takes as parameters.
        rows = rows.join(EmissionLineRow, EmissionLineRow.id == EmissionRow.line_id).where(*where)
    parts = {k: [] for k in ("id", "line_id", "batch_id", "activity_id", "gas_kg", "co2e_t")}
    if len(lines):
        result = session.connection().execution_options(stream_results=True, yield_per=chunk).execute(
            rows.order_by(EmissionRow.id))
        for block in result.partitions(chunk):
            i, line, batch, aid, kg, t = zip(*block)
            parts["id"].append(np.asarray(i, dtype=np.int64))
            parts["line_id"].append(np.asarray(line, dtype=np.int64))
            parts["batch_id"].append(pd.array(batch, dtype="Int64"))
            parts["activity_id"].append(pd.array(aid, dtype="str"))
            parts["gas_kg"].append(np.asarray(kg, dtype=float))
            parts["co2e_t"].append(np.asarray(t, dtype=float))
    if not parts["id"]:
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("gas_kg", "co2e_t", *_LINE_NUMBERS) else object)
                             for c in LEDGER_COLUMNS_STORED})
    out = {"id": np.concatenate(parts["id"]), "batch_id": pd.array(np.concatenate(parts["batch_id"]), dtype="Int64"),
           "activity_id": pd.concat([pd.Series(a) for a in parts["activity_id"]], ignore_index=True),
           "gas_kg": np.concatenate(parts["gas_kg"]), "co2e_t": np.concatenate(parts["co2e_t"])}
    at = pd.Index(lines["id"]).get_indexer(np.concatenate(parts["line_id"]))
    for c in LINE_COLUMNS:
        if c in _LINE_NUMBERS:
            out[c] = lines[c].to_numpy(dtype=float)[at]
        else:
            cat = pd.Categorical(lines[c].astype(str))
            out[c] = pd.Categorical.from_codes(cat.codes[at], categories=cat.categories)
    return pd.DataFrame(out)[LEDGER_COLUMNS_STORED]


@lru_cache(maxsize=64)
def _ledger_statement(kind: str, filters: tuple[str, ...]):
    """The statement of ``kind`` (count | page) over the ledger of inventory ``:inventory_id``, filtered on the
    columns named (``methods``: an IN list), with bound parameters: built once per combination of filters."""
    if kind == "count":
        cols = [func.count(), func.sum(case((EmissionLineRow.memo == "", EmissionRow.co2e_t)))]
    else:
        line = {c: getattr(EmissionLineRow, c) for c in LINE_COLUMNS}
        line["calc_method"] = func.coalesce(EmissionLineRow.calc_method, "")  # NULL before revision 0012
        cols = [line[c] if c in line else getattr(EmissionRow, c) for c in LEDGER_COLUMNS_STORED]
    q = (select(*cols).join(EmissionLineRow, EmissionLineRow.id == EmissionRow.line_id)
         .where(EmissionRow.inventory_id == bindparam("inventory_id")))
    for col in filters:
        if col == "methods":
            q = q.where(EmissionLineRow.method.in_(bindparam("methods", expanding=True)))
        else:
            q = q.where(getattr(EmissionLineRow, col) == bindparam(col))
    if kind == "page":
        q = q.order_by(EmissionRow.id).limit(bindparam("limit")).offset(bindparam("offset"))
    return q


def _ledger_params(inventory_id: int, site, scope, category, methods) -> tuple[tuple[str, ...], dict]:
    given = {k: v for k, v in (("site", site), ("scope", scope), ("category", category)) if v is not None}
    if methods is not None:
        given["methods"] = list(methods)
    return tuple(given), {"inventory_id": inventory_id, **given}


def ledger_count(session: Session, inventory_id: int, site: str | None = None, scope: str | None = None,
                 category: str | None = None, methods=None) -> tuple[int, float]:
    """Rows of the stored ledger matching the filter (as in :func:`load_ledger`) and their tCO2e outside memo
    items, counted and summed by the database."""
    filters, params = _ledger_params(inventory_id, site, scope, category, methods)
    total, co2e_t = session.execute(_ledger_statement("count", filters), params).one()
    return int(total or 0), float(co2e_t or 0.0)


def ledger_page(session: Session, inventory_id: int, site: str | None = None, scope: str | None = None,
                category: str | None = None, methods=None, limit: int = 100, offset: int = 0) -> list[dict]:
    """Rows ``offset`` to ``offset + limit`` of the stored ledger (filtered as in :func:`load_ledger`) in
    ledger-row order, paged by the database, so a page costs the same whatever the size of the ledger.

    Each row is a dict of the columns of :func:`load_ledger` (``batch_id`` None for ledgers stored before
    batches were versioned, ``dq`` None where the ledger has NaN: rows without a data-quality score).
    """
    filters, params = _ledger_params(inventory_id, site, scope, category, methods)
    rows = session.execute(_ledger_statement("page", filters), {**params, "limit": limit, "offset": offset})
    return [dict(zip(LEDGER_COLUMNS_STORED, r)) for r in rows]


_BATCHES_DESCRIBED = (select(ImportBatchRow.id, ImportBatchRow.path, ImportBatchRow.source, ImportBatchRow.sha256,
                             ImportBatchRow.status, ImportBatchRow.kind)
                      .where(ImportBatchRow.organisation_id == bindparam("org_id"),
                             ImportBatchRow.id.in_(bindparam("ids", expanding=True)))
                      .order_by(ImportBatchRow.id))


def batches_described(session: Session, org_id: int, ids) -> dict[int, dict]:
    """Path, source, SHA-256, status and kind of the batches ``ids`` of an organisation, by batch id."""
    return {r.id: {"path": r.path, "source": r.source, "sha256": r.sha256, "status": r.status, "kind": r.kind}
            for r in session.execute(_BATCHES_DESCRIBED, {"org_id": org_id, "ids": sorted(ids)})}


def save_base_year_change(session: Session, org_id: int, base_year: int, kind: str, delta_t: float,
                          reason: str) -> None:
    session.add(BaseYearChangeRow(organisation_id=org_id, base_year=base_year, kind=kind, delta_t=delta_t,
                                  reason=reason, recorded_at=now()))


def base_year_changes(session: Session, org_id: int, base_year: int) -> list[BaseYearChangeRow]:
    return list(session.scalars(select(BaseYearChangeRow).where(BaseYearChangeRow.organisation_id == org_id,
                                                                BaseYearChangeRow.base_year == base_year)))


# -- live readings -----------------------------------------------------------------------------------
def organisation_codes(session: Session) -> dict[str, int]:
    """Every organisation of the database: code -> id."""
    return dict(session.execute(select(OrganisationRow.code, OrganisationRow.id).order_by(OrganisationRow.code)).all())


def organisation_id(session: Session, code: str) -> int:
    org_id = session.scalar(select(OrganisationRow.id).where(OrganisationRow.code == code))
    if org_id is None:
        known = ", ".join(organisation_codes(session)) or "none"
        raise NotFoundError(f"organisation '{code}' is not in the database (it holds: {known}); load it with "
                            "`zerocarbon org load`")
    return org_id


def insert_readings(session: Session, org_id: int, readings) -> None:
    """Insert readings of one organisation; an (organisation, meter, ts) already stored is skipped, so
    redelivered messages change nothing.

    One parameterised statement executed for the whole batch (DBAPI executemany): ORM or dict-based inserts
    cost more than parsing the messages at live-ingest rates. Stamps go in as the UTC text SQLite holds, or
    aware for PostgreSQL's timestamptz (store.tables.UTCDateTime).
    """
    if not readings:
        return
    sqlite = session.get_bind().dialect.name == "sqlite"
    at = now()

    def stamp(t: datetime) -> datetime:
        t = t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)
        return t.replace(tzinfo=None) if sqlite else t

    at = stamp(at)
    rows = [(org_id, r.meter, stamp(r.ts), r.value, r.unit, r.flag, at) for r in readings]
    mark = "?" if sqlite else "%s"
    sql = (f"INSERT INTO readings (organisation_id, meter, ts, value, unit, flag, received_at) VALUES "
           f"({', '.join([mark] * 7)}) ON CONFLICT (organisation_id, meter, ts) DO NOTHING")
    session.connection().exec_driver_sql(sql, rows)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def write_readings(session: Session, org_id: int, index, meter, ts, value, unit, flag,
                   same: float = 1e-9) -> tuple[int, list[tuple[int, float]]]:
    """Write one organisation's live readings given by column (``ts``: interval starts as naive UTC
    ``datetime64``; ``index``: the readings' positions in their batch, in arrival order), in the caller's
    transaction; a (meter, interval) already stored is skipped.

    PostgreSQL: ``COPY`` into a temporary staging table, then one ``INSERT ... SELECT ... ON CONFLICT DO
    NOTHING``. SQLite: one executemany of the same statement. Returns how many rows were new and the readings
    refused because their (meter, interval) holds a value differing by more than ``same`` (stored before, or
    earlier in the batch, which wins), as (index, stored value); an identical repeat is neither, so
    redelivery changes nothing. The comparison is made only when some row was not new.
    """
    n = len(index)
    if not n:
        return 0, []
    if session.get_bind().dialect.name == "postgresql":
        return _copy_readings(session, org_id, index, meter, ts, value, unit, flag, same)
    conn = session.connection()
    # The UTC text SQLite holds, as the sqlite3 adapter writes it (insert_readings): the key must match exactly.
    whole = not (ts.astype("datetime64[s]") != ts).any()
    if whole:
        stamps = [t.replace("T", " ") for t in np.datetime_as_string(ts, unit="s").tolist()]
    else:
        stamps = [t.isoformat(" ") for t in ts.astype("datetime64[us]").tolist()]
    at = now().replace(tzinfo=None).isoformat(" ")
    before = conn.exec_driver_sql("SELECT total_changes()").scalar()
    conn.exec_driver_sql("INSERT INTO readings (organisation_id, meter, ts, value, unit, flag, received_at) VALUES "
                         "(?, ?, ?, ?, ?, ?, ?) ON CONFLICT (organisation_id, meter, ts) DO NOTHING",
                         [(org_id, m, t, v, u, f, at) for m, t, v, u, f in
                          zip(meter.tolist(), stamps, value.tolist(), unit.tolist(), flag.tolist())])
    new = conn.exec_driver_sql("SELECT total_changes()").scalar() - before
    if new == n:
        return new, []
    stored = {}
    for m, t, v in conn.exec_driver_sql(
            "SELECT meter, ts, value FROM readings WHERE organisation_id = ? AND ts >= ? AND ts <= ?",
            (org_id, min(stamps), max(stamps) + "~")):
        t = t.replace("T", " ")  # rows written through SQLAlchemy carry zero microseconds: the same instant
        stored[(m, t[:19] if t[19:20] == "." and not t[20:].strip("0") else t)] = v
    clash = []
    for i, m, t, v in zip(index.tolist(), meter.tolist(), stamps, value.tolist()):
        old = stored.get((m, t))
        if old is not None and abs(old - v) > same:
            clash.append((i, old))
    return new, clash


def _copy_readings(session: Session, org_id: int, index, meter, ts, value, unit, flag,
                   same: float) -> tuple[int, list[tuple[int, float]]]:
    n = len(index)
    cur = session.connection().connection.cursor()  # psycopg 3: COPY is not part of the DBAPI
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS zc_live_stage (idx integer, meter text, ts timestamp, "
                "value float8, unit text, flag text) ON COMMIT DELETE ROWS")
    # Text rows built by column: meter ids and units are few, so they are escaped once per distinct value.
    esc = {m: m.translate(_COPY_ESCAPES) for m in set(meter.tolist()) | set(unit.tolist())}
    stamps = np.datetime_as_string(ts.astype("datetime64[us]"), unit="us").tolist()
    body = "".join(f"{i}\t{esc[m]}\t{t}\t{v!r}\t{esc[u]}\t{f}\n" for i, m, t, v, u, f in
                   zip(index.tolist(), meter.tolist(), stamps, value.tolist(), unit.tolist(), flag.tolist()))
    with cur.copy("COPY zc_live_stage (idx, meter, ts, value, unit, flag) FROM STDIN") as cp:
        cp.write(body)
    # in key order (the index pages are then visited in order); within a key, arrival order decides
    cur.execute("INSERT INTO readings (organisation_id, meter, ts, value, unit, flag, received_at) "
                "SELECT %s, meter, ts AT TIME ZONE 'UTC', value, unit, flag, %s FROM zc_live_stage "
                "ORDER BY meter, ts, idx ON CONFLICT (organisation_id, meter, ts) DO NOTHING", (org_id, now()))
    new = cur.rowcount
    clash: list[tuple[int, float]] = []
    if new < n:  # only then can a staged reading meet a different stored value
        cur.execute("SELECT s.idx, r.value FROM zc_live_stage s JOIN readings r ON r.organisation_id = %s "
                    "AND r.meter = s.meter AND r.ts = s.ts AT TIME ZONE 'UTC' WHERE abs(r.value - s.value) > %s "
                    "ORDER BY s.idx", (org_id, same))
        clash = [(int(i), float(v)) for i, v in cur.fetchall()]
    return new, clash


def insert_dead_letters(session: Session, dead) -> None:
    """``dead``: (organisation id or None, topic, payload, reason)."""
    for org_id, topic, payload, reason in dead:
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
        session.add(DeadLetterRow(organisation_id=org_id, topic=topic, payload=text[:10000], reason=reason,
                                  received_at=now()))


def dead_letters(session: Session, org_id: int | None, limit: int) -> list[DeadLetterRow]:
    """The newest ``limit`` dead letters kept with one organisation (None: those naming no known one)."""
    owner = DeadLetterRow.organisation_id.is_(None) if org_id is None else DeadLetterRow.organisation_id == org_id
    return list(session.scalars(select(DeadLetterRow).where(owner)
                                .order_by(DeadLetterRow.received_at.desc(), DeadLetterRow.id.desc()).limit(limit)))


def live_readings(session: Session, org_id: int, since: datetime | None = None) -> pd.DataFrame:
    """Live readings of one organisation with their meter's site: meter, ts (interval start, UTC-aware), value,
    unit, flag, site.

    ``since`` [UTC; naive is taken as UTC] keeps readings received at or after it.
    """
    from zerocarbon.store.tables import MeterRow

    q = (select(ReadingRow.meter, ReadingRow.ts, ReadingRow.value, ReadingRow.unit, ReadingRow.flag, MeterRow.site)
         .join(MeterRow, (MeterRow.organisation_id == ReadingRow.organisation_id) & (MeterRow.id == ReadingRow.meter))
         .where(ReadingRow.organisation_id == org_id).order_by(ReadingRow.meter, ReadingRow.ts))
    if since is not None:
        q = q.where(ReadingRow.received_at >= since)
    return pd.DataFrame(session.execute(q).all(), columns=["meter", "ts", "value", "unit", "flag", "site"])


# -- meters --------------------------------------------------------------------------------------------
def site_zones(session: Session, org_id: int) -> dict[str, str]:
    """The organisation's sites and the time zone of each (what a meter registry is checked against)."""
    return dict(session.execute(select(SiteRow.code, SiteRow.timezone).where(SiteRow.organisation_id == org_id)
                                .order_by(SiteRow.code)).all())


def save_meters(session: Session, org_id: int, meters) -> None:
    """Upsert one organisation's meter metadata (the lake holds the readings; the database says what each
    meter is)."""
    from zerocarbon.store.tables import MeterRow

    # One query for the stored rows: a registry holds thousands of meters, one SELECT each took seconds.
    stored = {r.id: r for r in session.scalars(select(MeterRow).where(MeterRow.organisation_id == org_id))}
    for m in meters:
        row = stored.get(m.id) or MeterRow(organisation_id=org_id, id=m.id)
        for f in ("site", "area", "line", "asset", "medium", "unit", "multiplier", "register", "stamp",
                  "interval_min", "timezone", "rollover"):
            setattr(row, f, getattr(m, f))
        session.add(row)
