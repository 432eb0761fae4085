"""Use cases of GHG accounting: load an organisation, import activity files, compute, close, explain.

Each function opens and closes its own transaction: an import either stores every row of a file
or nothing.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import sessionmaker

from zerocarbon.core.factors import load_factor_set
from zerocarbon.core.ghg.base_year import BaseYearChange, ChangeKind, RecalculationDecision, assess_recalculation
from zerocarbon.core.ghg.inventory import InventoryResult, compute_inventory
from zerocarbon.core.model import Boundary, Organisation
from zerocarbon.errors import ClosedInventoryError, InputError, NotFoundError, Problem
from zerocarbon.io.org import read_organisation
from zerocarbon.io.tables import check_instruments_against, read_table, validate
from zerocarbon.store import repos


@dataclass(frozen=True)
class ImportReport:
    batch_id: int
    kind: str
    rows: int
    source: str


def load_organisation_file(sessions: sessionmaker, path: str | Path, actor: str = "cli") -> Organisation:
    org = read_organisation(path)
    with sessions.begin() as s:
        repos.save_organisation(s, org)
        repos.audit(s, actor, "organisation.load", org.code, sites=[x.code for x in org.sites])
    return org


def import_file(sessions: sessionmaker, org_code: str, kind: str, path: str | Path, year: int,
                factor_set: str, actor: str = "cli") -> ImportReport:
    """Validate a whole file, then store it in one transaction. Raises InputError and writes nothing."""
    path = Path(path)
    source = path.name
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    fs = load_factor_set(factor_set)
    with sessions.begin() as s:
        org_id, org = repos.load_organisation(s, org_code)
        previous = repos.find_batch(s, org_id, digest)
        if previous is not None:
            raise InputError([Problem(source, None, None,
                                      f"this file was already imported as batch {previous.id} "
                                      f"({previous.source}, {previous.imported_at:%Y-%m-%d %H:%M}); nothing written")])
        frame = validate(kind, read_table(path), source, {x.code for x in org.sites}, year, fs)
        if kind == "instrument":
            stored = repos.load_activities(s, org_id, year, ["instrument"]).get("instrument")
            problems = check_instruments_against(stored, frame)
            if problems:
                raise InputError(problems)
        batch_id = repos.save_batch(s, org_id, kind, source, digest, year, frame, actor)
        repos.audit(s, actor, "import", f"batch:{batch_id}", kind=kind, source=source, rows=len(frame),
                    sha256=digest)
    return ImportReport(batch_id, kind, len(frame), source)


def compute(sessions: sessionmaker, org_code: str, year: int, factor_set: str, gwp_set: str = "AR5",
            boundary: Boundary = Boundary.OPERATIONAL_CONTROL, recalculation_reason: str | None = None,
            actor: str = "cli") -> InventoryResult:
    """Compute and store the inventory. A closed year only changes with a recorded recalculation."""
    fs = load_factor_set(factor_set)
    with sessions.begin() as s:
        org_id, org = repos.load_organisation(s, org_code)
        existing = repos.get_inventory(s, org_id, year, boundary.value)
        data = repos.load_activities(s, org_id, year)
        result = compute_inventory(org, data, fs, year, gwp_set, boundary)
        status = "draft"
        if existing is not None and existing.status == "closed":
            changed = (existing.factor_set_fingerprint != fs.fingerprint or existing.gwp_set != gwp_set
                       or abs(existing.totals["total_location_t"] - result.totals()["total_location_t"]) > 1e-9
                       or abs(existing.totals["total_market_t"] - result.totals()["total_market_t"]) > 1e-9)
            if changed and not recalculation_reason:
                raise ClosedInventoryError(
                    f"inventory {year} is closed under factor set {existing.factor_set} "
                    f"({existing.factor_set_fingerprint[:12]}), GWP {existing.gwp_set}; recomputing would change it. "
                    "Pass a recalculation reason to record a recalculation.")
            status = "closed"
            if changed:
                repos.audit(s, actor, "inventory.recalculate", f"{org_code}:{year}", reason=recalculation_reason,
                            old_totals=existing.totals, new_totals=result.totals(),
                            old_factor_set=existing.factor_set, new_factor_set=fs.id)
        repos.save_inventory(s, org_id, result, status)
        repos.audit(s, actor, "inventory.compute", f"{org_code}:{year}", factor_set=fs.id,
                    fingerprint=fs.fingerprint, gwp_set=gwp_set, boundary=boundary.value, totals=result.totals())
    return result


def close_inventory(sessions: sessionmaker, org_code: str, year: int,
                    boundary: Boundary = Boundary.OPERATIONAL_CONTROL, actor: str = "cli") -> None:
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        row = repos.get_inventory(s, org_id, year, boundary.value)
        if row is None:
            raise NotFoundError(f"no inventory for {org_code} {year}; compute it first")
        row.status = "closed"
        repos.audit(s, actor, "inventory.close", f"{org_code}:{year}", fingerprint=row.factor_set_fingerprint)


def stored_ledger(sessions: sessionmaker, org_code: str, year: int,
                  boundary: Boundary = Boundary.OPERATIONAL_CONTROL) -> tuple[dict, pd.DataFrame]:
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        row = repos.get_inventory(s, org_id, year, boundary.value)
        if row is None:
            raise NotFoundError(f"no inventory for {org_code} {year}; compute it first")
        meta = dict(year=row.year, factor_set=row.factor_set, fingerprint=row.factor_set_fingerprint,
                    gwp_set=row.gwp_set, status=row.status, totals=row.totals, warnings=row.warnings,
                    exclusions=row.exclusions)
        return meta, repos.load_ledger(s, row.id)


def record_base_year_change(sessions: sessionmaker, org_code: str, base_year: int, kind: ChangeKind,
                            delta_t: float, reason: str, actor: str = "cli") -> None:
    """Record a structural/method/error change to base-year emissions [tCO2e, signed]."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        repos.save_base_year_change(s, org_id, base_year, kind.value, delta_t, reason)
        repos.audit(s, actor, "baseyear.record", f"{org_code}:{base_year}", kind=kind.value, delta_t=delta_t,
                    reason=reason)


def assess_base_year(sessions: sessionmaker, org_code: str, base_year: int,
                     threshold: float = 0.05) -> RecalculationDecision:
    """Does the stored base year need recalculating? (GHG Protocol Corporate Standard ch.5)"""
    meta, _ = stored_ledger(sessions, org_code, base_year)
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        changes = [BaseYearChange(ChangeKind(c.kind), c.delta_t, c.reason)
                   for c in repos.base_year_changes(s, org_id, base_year)]
    return assess_recalculation(meta["totals"]["total_market_t"], changes, threshold)
