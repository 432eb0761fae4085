"""Use cases of GHG accounting: load an organisation, import activity files, compute, close, explain.

Each function opens and closes its own transaction: an import either stores every row of a file
or nothing.
"""
from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from zerocarbon.core.ghg import overlaps
from zerocarbon.core.ghg.base_year import BaseYearChange, ChangeKind, RecalculationDecision, assess_recalculation
from zerocarbon.core.ghg.inventory import SCOPE3_METHOD, ActivityData, InventoryResult, compute_inventory
from zerocarbon.core.model import REPORTING_LINES, Boundary, Methodology, Organisation
from zerocarbon.core.supply.packaging import packaging_report
from zerocarbon.core.supply.recycling import recycling_report
from zerocarbon.errors import (ClosedInventoryError, FactorNotFoundError, InputError, NotFoundError, Problem,
                               StateError)
from zerocarbon.io.org import read_organisation
from zerocarbon.io.tables import check_instruments_against, read_table, validate
from zerocarbon.services import factor_sets
from zerocarbon.store.footprints import footprint_frame
from zerocarbon.store import repos
from zerocarbon.store import suppliers as supplier_store
from zerocarbon.store.tables import ActivityRow


@dataclass(frozen=True)
class ImportReport:
    batch_id: int
    kind: str
    rows: int
    source: str
    path: str = ""
    sha256: str = ""
    replaces: int | None = None
    warnings: list[str] = field(default_factory=list)  # rows imported that may correct an earlier record
    status: str = "active"  # active, or pending when the uploader's role may not approve imports


@dataclass(frozen=True)
class BatchInfo:
    """One imported file as stored: a version of activity data."""

    id: int
    kind: str
    year: int
    source: str
    path: str
    sha256: str
    rows: int
    imported_at: datetime
    imported_by: str
    status: str  # active | pending | superseded | withdrawn | rejected (repos.STATUSES)
    replaces: int | None
    superseded_by: int | None
    status_reason: str | None
    status_changed_at: datetime | None
    status_changed_by: str | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    detail: dict


@dataclass(frozen=True)
class BatchDetail:
    batch: BatchInfo
    versions: list[BatchInfo]  # the chain of replacements this batch belongs to, oldest first
    audit: list[AuditEntry]  # every audit entry about these versions


def _info(row) -> BatchInfo:
    return BatchInfo(row.id, row.kind, row.year, row.source, row.path, row.sha256, row.rows, row.imported_at,
                     row.imported_by, row.status, row.replaces, row.superseded_by, row.status_reason,
                     row.status_changed_at, row.status_changed_by)


def _entry(row) -> AuditEntry:
    return AuditEntry(row.id, row.at, row.actor, row.action, row.entity, dict(row.detail or {}))


def organisation(sessions: sessionmaker, org_code: str) -> Organisation:
    """The stored organisation and its sites."""
    with sessions.begin() as s:
        return repos.load_organisation(s, org_code)[1]


def load_organisation_file(sessions: sessionmaker, path: str | Path, *, actor: str) -> Organisation:
    org = read_organisation(path)
    with sessions.begin() as s:
        org_id = repos.save_organisation(s, org)
        repos.audit(s, actor, "organisation.load", org.code, org_id=org_id, sites=[x.code for x in org.sites])
    return org


def _read(kind: str, path: Path, org: Organisation, year: int, fs, sheet: str | None) -> tuple[pd.DataFrame, str]:
    """Validated frame of a file and its SHA-256. ``sheet`` is passed on only when given."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    raw = read_table(path) if sheet is None else read_table(path, sheet=sheet)
    return validate(kind, raw, path.name, {x.code for x in org.sites}, year, fs), digest


def _require_open_year(s, org_id: int, org_code: str, year: int, action: str) -> None:
    closed = repos.closed_inventories(s, org_id, year)
    if closed:
        raise ClosedInventoryError(
            f"{org_code} {year} is closed ({', '.join(sorted(r.boundary for r in closed))} inventory); {action} would "
            f"change its activity data. Reopen it first: `zerocarbon inventory reopen --org {org_code} --year {year} "
            "--reason ...`")


def _where(existing_id: str, batch_id: int, batches: dict, own: str | None = None) -> str:
    _, _, row = str(existing_id).rpartition(":")
    b = batches.get(batch_id)
    if own is not None and (b is None or b.imported_by != own):
        return "data of the organisation (ask its energy manager)"
    name = b.source if b else "?"
    path = f", {b.path}" if b and b.path != b.source else ""
    return f"{name} row {row} (batch {batch_id}{path})"


WARNINGS_SHOWN = 50
_THIS_BATCH = "\x00batch\x00"  # the id of the batch being imported, which exists only once it is stored
# Used when a command names no factor set and nothing recorded names one.
DEFAULT_FACTOR_SET = "CN-2025.1"
# The Scope 3 categories the ledger computes (GHG Protocol Scope 3 Standard numbering; services.scope3 reports them).
SCOPE3_CATEGORIES = ("c1_purchased_goods", "c2_capital_goods", "c3_fuel_energy", "c4_upstream_transport",
                     "c5_waste", "c6_business_travel", "c7_commuting", "c9_downstream_transport",
                     "c11_use_of_sold_products", "c12_end_of_life")
# Every category a ledger row can have (Scope 1 and 2 ones have a report line in every standard).
LEDGER_CATEGORIES = tuple(dict.fromkeys([*(c for _, c in REPORTING_LINES[Methodology.GHG_PROTOCOL]),
                                         *SCOPE3_CATEGORIES]))
# Reporting and base years accepted: from the UNFCCC's reference year to the end of the century.
FIRST_YEAR, LAST_YEAR = 1990, 2100


def _refuse_double_counting(s, org_id: int, year: int, kind: str, frame: pd.DataFrame, source: str,
                            replacing: int | None = None, statuses: tuple[str, ...] = repos.CLAIMING,
                            also_exclude: tuple[int, ...] = (), within: bool = True,
                            own: str | None = None) -> list[str]:
    """Refuse rows that repeat each other or a stored record of a batch in ``statuses`` (by default active or
    waiting for approval), except those of the batch replaced and of ``also_exclude``.

    Returns warnings about rows that may correct an earlier record (same site, material and period, another
    quantity, no reference on both to tell them apart): they are imported, and the warning says how to correct
    a file instead. With ``own`` (the actor of a member who may read only its own submissions) batches that
    actor did not import are not named.
    """
    problems: list[Problem] = []
    warnings: list[str] = []
    rule = overlaps.RULES.get(kind)
    column = "period_start" if rule is not None and rule.periods == "overlap" else None

    def rownum(activity_id) -> int:
        return int(str(activity_id).rpartition(":")[2])

    if within:
        for i, j, reason in overlaps.within(kind, frame):
            problems.append(Problem(source, rownum(frame.at[i, "activity_id"]), column,
                                    f"{reason}: row {rownum(frame.at[j, 'activity_id'])} of this file already has it"))
        for i, j, reason in overlaps.possible_corrections_within(kind, frame, limit=WARNINGS_SHOWN):
            warnings.append(f"{source} row {rownum(frame.at[i, 'activity_id'])}: {reason}; it may be a correction "
                            f"of row {rownum(frame.at[j, 'activity_id'])} of this file: if so, keep only the "
                            "corrected row; if they are separate records, give each its reference (column "
                            "'reference')")
    exclude = ([replacing] if replacing is not None else []) + list(also_exclude)
    if kind == "instrument":
        stored = repos.load_activities(s, org_id, year, ["instrument"], exclude_batches=exclude,
                                       statuses=statuses).data.get("instrument")
        problems += check_instruments_against(stored, frame)
    elif rule is not None:
        existing = repos.load_activities(s, org_id, year, [kind], exclude_batches=exclude,
                                         statuses=statuses).data.get(kind)
        clashes = overlaps.against(kind, frame, existing)
        corrections = [] if clashes else overlaps.possible_corrections(kind, frame, existing, limit=WARNINGS_SHOWN)
        pairs = clashes + corrections
        batches = {b.id: b for b in repos.list_batches(
            s, org_id, ids={int(existing.at[j, "batch_id"]) for _, j, _ in pairs})} if pairs else {}
        for i, j, reason in clashes:
            batch = int(existing.at[j, "batch_id"])
            where = _where(existing.at[j, "activity_id"], batch, batches, own)
            b = batches.get(batch)
            if own is not None and (b is None or b.imported_by != own):
                hint = ""
            elif b is not None and b.status == repos.PENDING:
                hint = "; it waits for approval: ask the energy manager to reject it, or wait for its approval"
            else:
                hint = f"; to correct that file, replace its batch (`zerocarbon import replace {batch} FILE`)"
            problems.append(Problem(source, rownum(frame.at[i, "activity_id"]), column,
                                    f"{reason}: already imported as {where}{hint}"))
        for i, j, reason in corrections:
            batch = int(existing.at[j, "batch_id"])
            b = batches.get(batch)
            if own is not None and (b is None or b.imported_by != own):
                warnings.append(f"{source} row {rownum(frame.at[i, 'activity_id'])}: {reason}. It may be a "
                                "correction of data the organisation already has; both are counted once approved")
                continue
            warnings.append(f"{source} row {rownum(frame.at[i, 'activity_id'])}: {reason}. It may be a correction "
                            f"of batch {batch} row {rownum(existing.at[j, 'activity_id'])} "
                            f"({b.path if b else '?'}); both are counted now. To correct that file, replace its "
                            f"batch (`zerocarbon import replace {batch} FILE`) and withdraw this one (`zerocarbon "
                            f"import undo {_THIS_BATCH} --reason ...`); separate records should each give their "
                            "reference (column 'reference')")
    if problems:
        raise InputError(problems)
    return warnings


# Supply-chain kinds whose rows the inventory computes (Scope 3 ledger rows), and those only the green supply
# chain reports use (packaging per unit produced, take-back and recycling).
LEDGER_SUPPLY_KINDS = ("purchase", "shipment", "waste", "travel", "commute", "product_use", "product_eol")
REPORT_SUPPLY_KINDS = ("packaging", "takeback")


def _refuse_what_compute_refuses(s, org_id: int, org: Organisation, kind: str, frame: pd.DataFrame, fs, year: int,
                                 source: str, replacing: int | None = None) -> None:
    """Refuse (InputError naming file, row and column; nothing written) supply-chain rows that ``compute`` or the
    packaging and recycling reports would refuse later, which would block the whole inventory until the batch is
    withdrawn: the same calculation is run on the new rows, against the stored supplier footprints (PACT) and,
    for purchases naming a supplier, the organisation's supplier register (when it has suppliers)."""
    if kind in LEDGER_SUPPLY_KINDS:
        problems: list[Problem] = []
        if kind == "purchase" and "supplier" in frame:
            codes = supplier_store.supplier_codes(s, org_id)
            named = frame["supplier"].fillna("").astype(str).str.strip()
            unknown = (named != "") & ~named.isin(codes) if codes else pd.Series(False, index=frame.index)
            for i in frame.index[unknown.to_numpy()][:20]:
                _, _, row = str(frame.at[i, "activity_id"]).rpartition(":")
                problems.append(Problem(source, int(row) if row.isdigit() else None, "supplier",
                                        f"supplier '{named.at[i]}' is not in the supplier register of "
                                        f"{org.code} ({len(codes)} suppliers; see `zerocarbon supply list`); "
                                        "register it first (`zerocarbon supply import-suppliers`) or correct the code"))
        if problems:
            raise InputError(problems)
        gwp_sets = fs.gwp_sets()
        compute_inventory(org, ActivityData({kind: frame, "pcf": footprint_frame(s, org_id)}), fs, year,
                          "AR5" if "AR5" in gwp_sets or not gwp_sets else gwp_sets[0])
    elif kind == "packaging":
        # Components of one product and period share its units produced, across files: the new rows first, so a
        # refusal names a row of this file.
        stored = repos.load_activities(s, org_id, year, ["packaging"], statuses=repos.CLAIMING,
                                       exclude_batches=[replacing] if replacing is not None else []
                                       ).data.get("packaging")
        rows = frame if stored is None or stored.empty else pd.concat([frame, stored], ignore_index=True)
        try:
            packaging_report(rows, year, source=source)
        except InputError as exc:
            # The report names rows by activity id; an import refusal names the row of this file it concerns.
            new_rows = [(str(a), _row_of(a)) for a in frame["activity_id"]]
            raise InputError([Problem(source, next((r for a, r in new_rows if f"{a} has" in p.reason), p.row),
                                      p.column, p.reason) for p in exc.problems]) from None
    elif kind == "takeback":
        recycling_report(frame, fs.factors, year, source=source, factor_set=fs.id)


def import_file(sessions: sessionmaker, org_code: str, kind: str, path: str | Path, year: int,
                factor_set: str, *, actor: str, sheet: str | None = None,
                progress: Callable[[int, int], None] | None = None, source: str | None = None,
                needs_approval: bool = False, sees_only_own: bool = False) -> ImportReport:
    """Validate a whole file, then store it as a new batch in one transaction: active, or with
    ``needs_approval`` (the uploader's role may not approve imports) pending until ``approve_batch``.

    Refused (InputError, nothing written) when a cell is wrong, when the same file is already active or
    pending, and when a row counts again what another row of the file or of an active or pending batch counts
    (``core.ghg.overlaps``). ``progress(done_rows, total_rows)`` is called while rows are stored; ``source`` is
    what the batch records as the file's path (default: ``path`` as given). ``sees_only_own``: the uploader may
    read only its own submissions, so refusals do not name the organisation's other batches.
    """
    path = Path(path)
    shown = source or str(path)  # an upload's own name rather than its temporary path
    fs = factor_sets.resolve(sessions, factor_set, org_code)
    with sessions.begin() as s:
        org_id, org = repos.load_organisation(s, org_code)
        _require_open_year(s, org_id, org_code, year, "importing")
        frame, digest = _read(kind, path, org, year, fs, sheet)
        own = actor if sees_only_own else None
        previous = repos.find_active_batch(s, org_id, digest, repos.CLAIMING)
        if previous is not None:
            if own is not None and previous.imported_by != own:
                raise InputError([Problem(path.name, None, None, "the organisation already has this file; "
                                          "nothing written")])
            raise InputError([Problem(path.name, None, None,
                                      f"this file was already imported as batch {previous.id} ({previous.path}, "
                                      f"{previous.imported_at:%Y-%m-%d %H:%M}, {previous.status}); to correct it "
                                      f"use `zerocarbon import replace {previous.id} FILE`; nothing written")])
        warnings = _refuse_double_counting(s, org_id, year, kind, frame, path.name, own=own)
        _refuse_what_compute_refuses(s, org_id, org, kind, frame, fs, year, path.name)
        status = repos.PENDING if needs_approval else repos.ACTIVE
        batch = repos.save_batch(s, org_id, kind, path.name, shown, digest, year, frame, actor, progress=progress,
                                 status=status)
        warnings = [w.replace(_THIS_BATCH, str(batch.id)) for w in warnings]
        repos.audit(s, actor, "import", f"batch:{batch.id}", org_id=org_id, kind=kind, source=path.name,
                    path=shown, rows=len(frame), sha256=digest, year=year, factor_set=fs.id,
                    factor_set_fingerprint=fs.fingerprint, warnings=len(warnings), status=status)
    return ImportReport(batch.id, kind, len(frame), path.name, shown, digest, warnings=warnings, status=status)


def import_factor_set(sessions: sessionmaker, org_code: str, batch_id: int) -> str | None:
    """Name of the factor set a batch was validated against when imported, if recorded (imports record it
    in their audit entry)."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        for a in repos.audit_rows(s, org_id, f"batch:{batch_id}"):
            if a.entity == f"batch:{batch_id}" and a.action == "import" and (a.detail or {}).get("factor_set"):
                return a.detail["factor_set"]
    return None


def replace_batch(sessions: sessionmaker, org_code: str, batch_id: int, path: str | Path,
                  factor_set: str | None = None, *, actor: str, reason: str | None = None,
                  sheet: str | None = None, progress: Callable[[int, int], None] | None = None,
                  source: str | None = None, needs_approval: bool = False) -> ImportReport:
    """Swap an active batch for a corrected file in one transaction.

    The new file is checked like an import, against every active or pending batch except the one it replaces,
    and validated against ``factor_set`` (default: the set the replaced batch was imported with, else
    DEFAULT_FACTOR_SET). The old batch is kept, marked superseded and pointing at its successor. With
    ``needs_approval`` the new batch is stored pending (``reason`` kept as its status reason) and the old one
    stays active until the new one is approved. A batch has at most one replacement waiting for approval.
    """
    path = Path(path)
    shown = source or str(path)  # an upload's own name rather than its temporary path
    if factor_set is None:
        factor_set = import_factor_set(sessions, org_code, batch_id) or DEFAULT_FACTOR_SET
    fs = factor_sets.resolve(sessions, factor_set, org_code)
    with sessions.begin() as s:
        org_id, org = repos.load_organisation(s, org_code)
        old = _active_batch(s, org_id, org_code, batch_id, "replaced", f"replacing batch {batch_id}")
        waiting = repos.pending_replacement(s, org_id, batch_id)
        if waiting is not None:
            raise StateError(f"batch {batch_id} already has a replacement waiting for approval (batch {waiting.id}, "
                             f"{waiting.source}); approve or reject it first")
        frame, digest = _read(old.kind, path, org, old.year, fs, sheet)
        if digest == old.sha256:
            raise InputError([Problem(path.name, None, None, f"the file is identical to batch {batch_id} "
                                      "(same SHA-256); nothing to replace")])
        other = repos.find_active_batch(s, org_id, digest, repos.CLAIMING)
        if other is not None:
            raise InputError([Problem(path.name, None, None, f"this file is already {other.status} as batch "
                                      f"{other.id} ({other.path}); nothing written")])
        warnings = _refuse_double_counting(s, org_id, old.year, old.kind, frame, path.name, replacing=batch_id)
        _refuse_what_compute_refuses(s, org_id, org, old.kind, frame, fs, old.year, path.name, replacing=batch_id)
        status = repos.PENDING if needs_approval else repos.ACTIVE
        new = repos.save_batch(s, org_id, old.kind, path.name, shown, digest, old.year, frame, actor,
                               replaces=batch_id, progress=progress, status=status)
        warnings = [w.replace(_THIS_BATCH, str(new.id)) for w in warnings]
        if needs_approval:
            new.status_reason = reason
        else:
            repos.set_batch_status(s, old, repos.SUPERSEDED, actor, reason, successor=new.id)
            repos.audit(s, actor, "import.replace", f"batch:{batch_id}", org_id=org_id, replaced_by=new.id,
                        kind=old.kind, year=old.year, old_path=old.path, old_sha256=old.sha256, old_rows=old.rows,
                        path=shown, sha256=digest, rows=len(frame), reason=reason)
        repos.audit(s, actor, "import", f"batch:{new.id}", org_id=org_id, kind=old.kind, source=path.name,
                    path=shown, rows=len(frame), sha256=digest, year=old.year, replaces=batch_id,
                    factor_set=fs.id, factor_set_fingerprint=fs.fingerprint, warnings=len(warnings), status=status,
                    **({"reason": reason} if needs_approval else {}))
    return ImportReport(new.id, old.kind, len(frame), path.name, shown, digest, replaces=batch_id,
                        warnings=warnings, status=status)


def _active_batch(s, org_id: int, org_code: str, batch_id: int, verb: str, doing: str):
    """The batch, if it is active and its year open; StateError or ClosedInventoryError otherwise."""
    batch = repos.get_batch(s, org_id, batch_id)
    if batch.status != repos.ACTIVE:
        raise StateError(f"batch {batch_id} is {batch.status}"
                         + (f" (its successor is batch {batch.superseded_by})" if batch.superseded_by else "")
                         + f"; only an active batch can be {verb} (see `zerocarbon import list`)")
    _require_open_year(s, org_id, org_code, batch.year, doing)
    return batch


def undo_batch(sessions: sessionmaker, org_code: str, batch_id: int, reason: str, *, actor: str) -> BatchInfo:
    """Withdraw an active batch: kept, marked withdrawn with the reason, no longer used by inventories."""
    if not reason or not reason.strip():
        raise InputError([Problem("--reason", None, None, "give the reason for withdrawing the batch")])
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        batch = _active_batch(s, org_id, org_code, batch_id, "withdrawn", f"withdrawing batch {batch_id}")
        repos.set_batch_status(s, batch, repos.WITHDRAWN, actor, reason)
        repos.audit(s, actor, "import.undo", f"batch:{batch_id}", org_id=org_id, kind=batch.kind, year=batch.year,
                    path=batch.path, sha256=batch.sha256, rows=batch.rows, reason=reason)
        return _info(batch)


def _pending_batch(s, org_id: int, batch_id: int, verb: str):
    batch = repos.get_batch(s, org_id, batch_id)
    if batch.status != repos.PENDING:
        raise StateError(f"batch {batch_id} is {batch.status}; only a batch waiting for approval can be {verb} "
                         "(see `zerocarbon import list --status pending`)")
    return batch


def approve_batch(sessions: sessionmaker, org_code: str, batch_id: int, *, actor: str) -> BatchInfo:
    """Make a batch waiting for approval active, so inventories use it; if it replaces a batch, that one becomes
    superseded in the same transaction.

    Its rows are checked again against every active batch (other than the one it replaces): refused with the
    rows that would be counted twice (InputError), when the batch it replaces is no longer active (StateError),
    or when its year is closed (ClosedInventoryError).
    """
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        batch = _pending_batch(s, org_id, batch_id, "approved")
        _require_open_year(s, org_id, org_code, batch.year, f"approving batch {batch_id}")
        old = repos.get_batch(s, org_id, batch.replaces) if batch.replaces is not None else None
        if old is not None and old.status != repos.ACTIVE:
            raise StateError(f"batch {batch_id} replaces batch {old.id}, which is {old.status} now; reject it and "
                             "upload the file as a new batch")
        rows = repos.load_activities(s, org_id, batch.year, [batch.kind], statuses=(repos.PENDING,),
                                     only_batches=[batch.id]).data.get(batch.kind)
        if rows is not None and len(rows):
            _refuse_double_counting(s, org_id, batch.year, batch.kind, rows.reset_index(drop=True), batch.source,
                                    replacing=batch.replaces, statuses=(repos.ACTIVE,), also_exclude=(batch.id,),
                                    within=False)
        reason = batch.status_reason
        repos.set_batch_status(s, batch, repos.ACTIVE, actor)
        repos.audit(s, actor, "import.approve", f"batch:{batch_id}", org_id=org_id, kind=batch.kind,
                    year=batch.year, path=batch.path, sha256=batch.sha256, rows=batch.rows,
                    imported_by=batch.imported_by, replaces=batch.replaces)
        if old is not None:
            repos.set_batch_status(s, old, repos.SUPERSEDED, actor, reason, successor=batch.id)
            repos.audit(s, actor, "import.replace", f"batch:{old.id}", org_id=org_id, replaced_by=batch.id,
                        kind=old.kind, year=old.year, old_path=old.path, old_sha256=old.sha256, old_rows=old.rows,
                        path=batch.path, sha256=batch.sha256, rows=batch.rows, reason=reason,
                        submitted_by=batch.imported_by)
        return _info(batch)


def reject_batch(sessions: sessionmaker, org_code: str, batch_id: int, reason: str, *, actor: str) -> BatchInfo:
    """Refuse a batch waiting for approval: kept, marked rejected with the reason, never used by inventories."""
    if not reason or not reason.strip():
        raise InputError([Problem("--reason", None, None, "give the reason for rejecting the batch")])
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        batch = _pending_batch(s, org_id, batch_id, "rejected")
        repos.set_batch_status(s, batch, repos.REJECTED, actor, reason)
        repos.audit(s, actor, "import.reject", f"batch:{batch_id}", org_id=org_id, kind=batch.kind, year=batch.year,
                    path=batch.path, sha256=batch.sha256, rows=batch.rows, imported_by=batch.imported_by,
                    reason=reason)
        return _info(batch)


def list_batches(sessions: sessionmaker, org_code: str, year: int | None = None, kind: str | None = None,
                 status: str | None = None, *, imported_by: str | None = None) -> list[BatchInfo]:
    """Batches of the organisation, oldest first; with ``imported_by`` only those that actor imported (a member
    who may read only its own submissions)."""
    with sessions.begin() as s:
        org_id = repos.organisation_key(s, org_code)
        return [_info(b) for b in repos.list_batches(s, org_id, year, kind, status, imported_by=imported_by)]


def show_batch(sessions: sessionmaker, org_code: str, batch_id: int, *, imported_by: str | None = None
               ) -> BatchDetail:
    """A batch, the versions it replaced or was replaced by, and their audit entries.

    With ``imported_by`` the batch must have been imported by that actor (NotFoundError otherwise, as for an
    unknown id), and only the versions that actor imported are shown, with their audit entries."""
    with sessions.begin() as s:
        org_id = repos.organisation_key(s, org_code)
        batch = repos.get_batch(s, org_id, batch_id, imported_by)
        chain = [batch]

        def visible(b) -> bool:
            return imported_by is None or b.imported_by == imported_by

        while chain[0].replaces is not None:
            before = repos.get_batch(s, org_id, chain[0].replaces)
            if not visible(before):
                break
            chain.insert(0, before)
        while chain[-1].superseded_by is not None:
            after = repos.get_batch(s, org_id, chain[-1].superseded_by)
            if not visible(after):
                break
            chain.append(after)
        # Replacements that wait for approval or were rejected are versions too, though not in the chain.
        known = {b.id for b in chain}
        chain += [b for b in repos.batches_replacing(s, org_id, known) if b.id not in known and visible(b)]
        chain.sort(key=lambda b: b.id)
        entities = {f"batch:{b.id}" for b in chain}
        audit = [_entry(a) for a in repos.audit_rows(s, org_id, "batch:") if a.entity in entities]
        return BatchDetail(_info(batch), [_info(b) for b in chain], audit)


def activity_row(sessions: sessionmaker, org_code: str, batch_id: int, activity_id: str, *,
                 imported_by: str | None = None) -> dict | None:
    """The stored fields of one activity row of a batch (quantity, unit, period, site, meter or fuel...), as
    imported; None when the batch holds no row with that id. The batch is found as by :func:`show_batch`: one
    of another organisation, or with ``imported_by`` one that actor did not import, is a NotFoundError."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        repos.get_batch(s, org_id, batch_id, imported_by)
        stored = s.execute(select(ActivityRow.payload, ActivityRow.site, ActivityRow.period_start,
                                  ActivityRow.period_end)
                           .where(ActivityRow.batch_id == batch_id, ActivityRow.activity_id == activity_id)
                           .limit(1)).first()
    if stored is None:
        return None
    payload, site, start, end = stored
    fields = {"site": site, "period_start": start, "period_end": end}
    fields.update(payload or {})
    return {k: v for k, v in fields.items() if v is not None and v != ""}


def audit_trail(sessions: sessionmaker, org_code: str) -> list[AuditEntry]:
    """Every recorded change of this organisation's data, oldest first."""
    with sessions.begin() as s:
        org_id = repos.organisation_key(s, org_code)
        return [_entry(a) for a in repos.audit_rows(s, org_id)]


def reopen_inventory(sessions: sessionmaker, org_code: str, year: int, reason: str, *, actor: str) -> list[str]:
    """Reopen a closed year so its batches can be replaced or withdrawn; returns the boundaries reopened."""
    if not reason or not reason.strip():
        raise InputError([Problem("--reason", None, None, "give the reason for reopening a closed year")])
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        closed = repos.closed_inventories(s, org_id, year)
        if not closed:
            raise NotFoundError(f"{org_code} {year} has no closed inventory to reopen")
        for row in closed:
            row.status = "draft"
            repos.audit(s, actor, "inventory.reopen", f"{org_code}:{year}", org_id=org_id, boundary=row.boundary,
                        reason=reason, totals=row.totals, factor_set=row.factor_set,
                        fingerprint=row.factor_set_fingerprint)
        return sorted(r.boundary for r in closed)


def server_engine() -> str | None:
    """What the server computes the inventory's combustion, grid-electricity and purchase rows on:
    ``$ZEROCARBON_ENGINE`` (duckdb | spark), else in process."""
    from zerocarbon.store.engines import server_engine as configured
    return configured()


def compute(sessions: sessionmaker, org_code: str, year: int, factor_set: str, gwp_set: str = "AR5",
            boundary: Boundary = Boundary.OPERATIONAL_CONTROL, recalculation_reason: str | None = None,
            *, actor: str, progress: Callable[[str], None] | None = None, engine: str | None = None,
            spark_master: str | None = None) -> InventoryResult:
    """Compute and store the inventory. A closed year only changes with a recorded recalculation.

    ``engine`` (duckdb | spark): what computes the combustion, grid-electricity and purchase (Scope 3
    categories 1 and 2) rows, from one SQL definition each (``services.inventory_engine``); by default they are
    computed here, with numpy. The stored inventory is the same either way.

    ``progress(step)`` is called with "load", "compute" and "save" as each step starts, inside the transaction:
    an exception it raises (e.g. a cancelled job's) stores nothing.
    """
    step = progress or (lambda _: None)
    from zerocarbon.services import inventory_engine
    from zerocarbon.store import engines

    # Checked before anything is read: a wrong engine or master is a usage error, not a failed computation.
    if spark_master and not engine:
        raise InputError([Problem("--spark-master", None, None, "a Spark master is given but no engine; add "
                                                                "--engine spark")])
    on = engines.engine(engine, spark_master) if engine else None
    rows = inventory_engine.on_engine(on) if on else None
    purchase_rows = inventory_engine.purchases_on(on) if on else None
    fs = factor_sets.resolve(sessions, factor_set, org_code)
    # Checked once here: an unknown set would otherwise fail on every row that needs a GWP.
    if gwp_set not in fs.gwp_sets():
        raise FactorNotFoundError(f"GWP set '{gwp_set}' is not in factor set {fs.id}; choose one of "
                                  f"{', '.join(fs.gwp_sets())}")
    with sessions.begin() as s:
        org_id, org = repos.load_organisation(s, org_code)
        existing = repos.get_inventory(s, org_id, year, boundary.value)
        step("load")
        stored = repos.load_activities(s, org_id, year)
        # Supplier product footprints (PACT) that purchase rows name by ``pcf_id``: supplier-specific Scope 3.
        stored.data.frames["pcf"] = footprint_frame(s, org_id)
        step("compute")
        result = compute_inventory(org, stored.data, fs, year, gwp_set, boundary, scope12_rows=rows,
                                   purchase_rows=purchase_rows)
        status = "draft"
        if existing is not None and existing.status == "closed":
            changed = (existing.factor_set_fingerprint != fs.fingerprint or existing.gwp_set != gwp_set
                       or abs(existing.totals["total_location_t"] - result.totals()["total_location_t"]) > 1e-9
                       or abs(existing.totals["total_market_t"] - result.totals()["total_market_t"]) > 1e-9)
            if changed and not recalculation_reason:
                raise ClosedInventoryError(
                    f"inventory {year} is closed under factor set {existing.factor_set} "
                    f"({existing.factor_set_fingerprint[:12]}), GWP {existing.gwp_set}; recomputing would change it. "
                    "To recalculate it, give the reason, which is recorded: `zerocarbon inventory compute --org "
                    f"{org_code} --year {year} --recalculate \"reason\"`")
            status = "closed"
            if changed:
                repos.audit(s, actor, "inventory.recalculate", f"{org_code}:{year}", org_id=org_id,
                            reason=recalculation_reason,
                            old_totals=existing.totals, new_totals=result.totals(),
                            old_factor_set=existing.factor_set, new_factor_set=fs.id)
        # The ledger keeps what it needs of the activities (ids as codes); free their columns before writing it.
        stored.data.frames.clear()
        step("save")
        repos.save_inventory(s, org_id, result, status, activities=stored)
        repos.audit(s, actor, "inventory.compute", f"{org_code}:{year}", org_id=org_id, factor_set=fs.id,
                    fingerprint=fs.fingerprint, gwp_set=gwp_set, boundary=boundary.value, totals=result.totals(),
                    engine=engine or "in-process")
    return result


def close_inventory(sessions: sessionmaker, org_code: str, year: int,
                    boundary: Boundary = Boundary.OPERATIONAL_CONTROL, *, actor: str) -> None:
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        row = repos.get_inventory(s, org_id, year, boundary.value)
        if row is None:
            raise NotFoundError(f"no inventory for {org_code} {year}; compute it first")
        row.status = "closed"
        repos.audit(s, actor, "inventory.close", f"{org_code}:{year}", org_id=org_id,
                    fingerprint=row.factor_set_fingerprint)


def _meta(row) -> dict:
    return dict(year=row.year, factor_set=row.factor_set, fingerprint=row.factor_set_fingerprint,
                gwp_set=row.gwp_set, status=row.status, totals=row.totals, warnings=row.warnings,
                exclusions=row.exclusions)


@dataclass(frozen=True)
class SiteTotals:
    """tCO2e of one site in a stored inventory (memo items not counted)."""

    site: str
    scope1: float
    scope2_location: float
    scope2_market: float


def _stored_inventory(s, org_code: str, year: int, boundary: Boundary) -> tuple[int, Organisation, object]:
    """Organisation id, organisation and stored inventory row; NotFoundError when either is missing."""
    org_id, org, row = repos.organisation_and_inventory(s, org_code, year, boundary.value)
    if row is None:
        raise NotFoundError(f"no inventory for {org_code} {year}; compute it first")
    return org_id, org, row


# Aggregates of stored ledgers, by database, inventory and time of computation: a ledger is only ever
# rewritten as a whole by `compute`, which sets a new computed_at, so an entry is found only while the ledger
# it was summed from is the stored one, whichever server process stored it.
_LEDGER_AGGREGATES: OrderedDict[tuple, object] = OrderedDict()
_LEDGER_AGGREGATES_KEPT = 512


_LEDGER_AGGREGATES_LOCK = threading.Lock()  # the server runs requests in threads


def _ledger_aggregate(s, row, what: tuple, query: Callable[[], object]):
    """``query()`` (an aggregate of the stored ledger of inventory ``row``), or its result kept from before."""
    if row.computed_at is None:
        return query()
    key = (str(s.get_bind().url), row.id, row.computed_at, what)
    with _LEDGER_AGGREGATES_LOCK:
        found = _LEDGER_AGGREGATES.get(key)
        if found is not None:
            _LEDGER_AGGREGATES.move_to_end(key)
            return found
    found = query()
    with _LEDGER_AGGREGATES_LOCK:
        _LEDGER_AGGREGATES[key] = found
        while len(_LEDGER_AGGREGATES) > _LEDGER_AGGREGATES_KEPT:
            _LEDGER_AGGREGATES.popitem(last=False)
    return found


def _ledger_sums(s, row) -> list[tuple[str, str, str, str, float]]:
    return _ledger_aggregate(s, row, ("sums",), lambda: repos.ledger_sums(s, row.id))


def _site_totals(sums) -> list[SiteTotals]:
    acc: dict[str, list[float]] = {}
    for site, scope, _, method, t in sums:
        a = acc.setdefault(site, [0.0, 0.0, 0.0])
        if scope == "1":
            a[0] += t
        elif scope == "2":
            a[1] += t if method in ("location", "both") else 0.0
            a[2] += t if method in ("market", "both") else 0.0
    return [SiteTotals(site, *acc[site]) for site in sorted(acc)]


def _inventory_meta(org: Organisation, row, sums) -> dict:
    meta = _meta(row)
    meta["report_lines"] = org.methodology_report(sums)
    meta["methodology"] = {site.code: site.methodology.value for site in org.sites}
    return meta


def site_totals(sessions: sessionmaker, org_code: str, year: int,
                boundary: Boundary = Boundary.OPERATIONAL_CONTROL) -> list[SiteTotals]:
    """Per site: Scope 1 and Scope 2 by method, summed by the database (no ledger rows are loaded)."""
    with sessions.begin() as s:
        _, _, row = _stored_inventory(s, org_code, year, boundary)
        sums = _ledger_sums(s, row)
    return _site_totals(sums)


def inventory_meta(sessions: sessionmaker, org_code: str, year: int,
                   boundary: Boundary = Boundary.OPERATIONAL_CONTROL) -> dict:
    """Status, factor set and totals of a stored inventory, without its ledger.

    ``meta["report_lines"]``: per site, tCO2e on the report lines of the standard the site reports under
    (GHG Protocol scopes and categories, or the GB/T 32150 categories with location-based electricity).
    """
    with sessions.begin() as s:
        _, org, row = _stored_inventory(s, org_code, year, boundary)
        return _inventory_meta(org, row, _ledger_sums(s, row))


def inventory_summary(sessions: sessionmaker, org_code: str, year: int,
                      boundary: Boundary = Boundary.OPERATIONAL_CONTROL) -> tuple[dict, list[SiteTotals]]:
    """:func:`inventory_meta` and :func:`site_totals` together, from one aggregate query of the ledger."""
    with sessions.begin() as s:
        _, org, row = _stored_inventory(s, org_code, year, boundary)
        sums = _ledger_sums(s, row)
        return _inventory_meta(org, row, sums), _site_totals(sums)


def data_version(sessions: sessionmaker) -> tuple:
    """A value that changes whenever organisations, batches, inventories or stored factor sets change (any
    organisation's), read by one cheap query: what a rendered read of stored data is kept under."""
    with sessions.begin() as s:
        return repos.data_version(s)


def _check_filter(org_code: str, org: Organisation, site: str | None, category: str | None) -> None:
    sites = sorted(x.code for x in org.sites)
    if site is not None and site not in sites:
        raise NotFoundError(f"{org_code} has no site '{site}'; its sites: {', '.join(sites)}")
    if category is not None and category not in LEDGER_CATEGORIES:
        raise NotFoundError(f"no ledger category '{category}'; the categories: {', '.join(LEDGER_CATEGORIES)}")


def _batches_meta(s, org_id: int, ids: set[int]) -> dict[int, dict]:
    return repos.batches_described(s, org_id, ids) if ids else {}


def stored_ledger(sessions: sessionmaker, org_code: str, year: int,
                  boundary: Boundary = Boundary.OPERATIONAL_CONTROL, site: str | None = None,
                  scope: str | None = None, category: str | None = None,
                  method: str | None = None) -> tuple[dict, pd.DataFrame]:
    """Meta data and ledger of a stored inventory, optionally only rows of a site, scope, category or Scope 2
    method (``method`` keeps the rows counted under it: its own and those of both methods).

    ``meta["batches"]`` describes every batch the ledger rows come from (path, SHA-256, status).
    """
    with sessions.begin() as s:
        org_id, org, row = repos.organisation_and_inventory(s, org_code, year, boundary.value)
        _check_filter(org_code, org, site, category)
        if row is None:
            raise NotFoundError(f"no inventory for {org_code} {year}; compute it first")
        ledger = repos.load_ledger(s, row.id, site=site, scope=scope, category=category,
                                   methods=None if method is None else ["both", method])
        ids = {int(b) for b in pd.unique(ledger["batch_id"].dropna())} if len(ledger) else set()
        meta = _meta(row)
        meta["batches"] = _batches_meta(s, org_id, ids)
        return meta, ledger


@dataclass(frozen=True)
class LedgerSlice:
    """One page of a stored inventory's ledger, in ledger-row order.

    ``rows``: the page, a dict per row with the columns of :func:`stored_ledger`'s ledger (``batch_id`` an int,
    or None for ledgers stored before batches were versioned); ``total``: rows matching the
    filter; ``co2e_t`` [tCO2e]: their sum outside memo items; ``batches``: the batches of the rows on the page;
    ``sites``: the organisation's site codes.
    """

    meta: dict
    total: int
    co2e_t: float
    rows: list[dict]
    batches: dict[int, dict]
    sites: list[str]


def ledger_page(sessions: sessionmaker, org_code: str, year: int,
                boundary: Boundary = Boundary.OPERATIONAL_CONTROL, site: str | None = None,
                scope: str | None = None, category: str | None = None, method: str | None = None,
                limit: int = 100, offset: int = 0) -> LedgerSlice:
    """The rows ``offset`` to ``offset + limit`` of what :func:`stored_ledger` returns sorted by ledger row,
    with the same filters and errors; the database pages, so only the page is read."""
    with sessions.begin() as s:
        org_id, org, row = repos.organisation_and_inventory(s, org_code, year, boundary.value)
        _check_filter(org_code, org, site, category)
        if row is None:
            raise NotFoundError(f"no inventory for {org_code} {year}; compute it first")
        methods = None if method is None else ("both", method)
        where = dict(site=site, scope=scope, category=category, methods=methods)
        total, co2e_t = _ledger_aggregate(s, row, ("count", site, scope, category, methods),
                                          lambda: repos.ledger_count(s, row.id, **where))
        page = repos.ledger_page(s, row.id, **where, limit=limit, offset=offset) if offset < total else []
        ids = {r["batch_id"] for r in page if r["batch_id"] is not None}
        return LedgerSlice(_meta(row), total, co2e_t, page, _batches_meta(s, org_id, ids) if ids else {},
                           sorted(x.code for x in org.sites))


@dataclass
class Explanation:
    """The ledger rows behind one number of a stored inventory, largest first.

    ``rows``: the first ``limit`` rows as dicts (ledger columns, ``batch_id`` as an int or None for ledgers
    stored before batches were versioned, ``row`` the activity file's row); ``total_co2e_t`` [tCO2e] sums
    every selected row outside memo items; ``batches`` describes each batch the rows come from.
    """

    filter: dict
    total_co2e_t: float
    rows: list[dict]
    rows_total: int
    batches: dict[int, dict]


def _batch_of(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _row_of(activity_id) -> int | None:
    # activity ids are b<batch>:<file>:<row>
    row = str(activity_id).rpartition(":")[2]
    return int(row) if row.isdigit() else None


def explain(sessions: sessionmaker, org_code: str, year: int, boundary: Boundary = Boundary.OPERATIONAL_CONTROL,
            site: str | None = None, scope: str | None = None, category: str | None = None,
            method: str = "location", limit: int = 30) -> Explanation:
    """Where a number of a stored inventory comes from: its ledger rows filtered by site, scope, category and
    Scope 2 method (see :func:`stored_ledger`), with the file and row each came from.

    Scope 3 rows (``scope="3"`` or a Scope 3 category) are in no Scope 2 view: they are explained as they are
    stored (method ``SCOPE3_METHOD``, each with its calc_method and data-quality score), whatever ``method``."""
    if scope == "3" or category in SCOPE3_CATEGORIES:
        method = SCOPE3_METHOD
    meta, led = stored_ledger(sessions, org_code, year, boundary, site=site, scope=scope, category=category,
                              method=method)
    trail = led.sort_values("co2e_t", ascending=False)
    rows = trail.head(limit).drop(columns=["id"]).to_dict(orient="records")
    for r in rows:
        r["batch_id"] = _batch_of(r["batch_id"])
        r["row"] = _row_of(r["activity_id"])
        r["dq"] = None if r.get("dq") is None or r["dq"] != r["dq"] else float(r["dq"])  # no score: Scope 1, 2
    return Explanation({"site": site, "scope": scope, "category": category, "method": method},
                       float(trail.loc[trail["memo"] == "", "co2e_t"].sum()), rows, len(trail), meta["batches"])


def record_base_year_change(sessions: sessionmaker, org_code: str, base_year: int, kind: ChangeKind,
                            delta_t: float, reason: str, *, actor: str) -> None:
    """Record a structural/method/error change to base-year emissions [tCO2e, signed].

    Refused (InputError) unless ``delta_t`` is a finite number, ``base_year`` lies in FIRST_YEAR..LAST_YEAR and
    ``reason`` says something.
    """
    problems = []
    if not math.isfinite(delta_t):
        problems.append(Problem("--delta-t", None, None, f"'{delta_t}' is not a finite number of tCO2e"))
    if not FIRST_YEAR <= base_year <= LAST_YEAR:
        problems.append(Problem("--base-year", None, None, f"{base_year} is not a plausible base year "
                                                           f"({FIRST_YEAR}..{LAST_YEAR})"))
    if not reason or not reason.strip():
        problems.append(Problem("--reason", None, None, "give the reason for the change (what changed, its source)"))
    if problems:
        raise InputError(problems)
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        repos.save_base_year_change(s, org_id, base_year, kind.value, delta_t, reason)
        repos.audit(s, actor, "baseyear.record", f"{org_code}:{base_year}", org_id=org_id, kind=kind.value,
                    delta_t=delta_t,
                    reason=reason)


def assess_base_year(sessions: sessionmaker, org_code: str, base_year: int,
                     threshold: float = 0.05) -> RecalculationDecision:
    """Does the stored base year need recalculating? (GHG Protocol Corporate Standard ch.5)"""
    meta = inventory_meta(sessions, org_code, base_year)
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        changes = [BaseYearChange(ChangeKind(c.kind), c.delta_t, c.reason)
                   for c in repos.base_year_changes(s, org_id, base_year)]
    return assess_recalculation(meta["totals"]["total_market_t"], changes, threshold)
