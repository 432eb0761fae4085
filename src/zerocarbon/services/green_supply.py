"""The green supply chain of an organisation and year: its five dimensions on one page.

Green production (Scope 1+2 of the stored inventory and its renewable electricity share), supplier
management (compliance of the supplier register, by count and by spend, from ``services.suppliers``), green
logistics (freight by mode: t.km, TTW and WTT tCO2e, intensity per t.km; modal-shift scenarios), green
recycling (take-back and recycling rates; avoided emissions as a memo, never deducted) and green packaging
(HKEX KPI A2.5: tonnes and kg per unit produced, against a base year), plus Scope 3 by category
(``services.scope3``).

Each dimension answers with a ``status``: ``ok``, ``no data`` (nothing imported for the year: no figure, never
a zero) or ``not available`` (the part of the platform that computes it is not installed or not set up, with
the reason). The activity rows are the ``packaging``, ``takeback`` and ``shipment`` kinds imported through
``services.accounting.import_file``.
"""
from __future__ import annotations

import importlib
from dataclasses import asdict

import pandas as pd
from sqlalchemy.orm import sessionmaker

from zerocarbon.core.model import Boundary
from zerocarbon.core.supply import modal_shift as shift
from zerocarbon.core.supply.modal_shift import ShiftRule, ShiftResult
from zerocarbon.core.supply.packaging import PackagingComparison, PackagingReport, compare, packaging_report
from zerocarbon.core.supply.recycling import RecyclingReport, recycling_report
from zerocarbon.errors import NotFoundError
from zerocarbon.services import accounting, factor_sets
from zerocarbon.store import repos

OK, NO_DATA, NOT_AVAILABLE = "ok", "no data", "not available"


def _frames(sessions: sessionmaker, org_code: str, year: int, kinds: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """Active activity rows of ``kinds`` of the organisation and year (a kind with none is absent)."""
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org_code)
        stored = repos.load_activities(s, org_id, year, kinds=kinds)
    return {k: f for k, f in stored.data.frames.items() if k in kinds and len(f)}


def _factor_set(sessions: sessionmaker, org_code: str, year: int, factor_set: str | None):
    """The set named, else the one the stored inventory of the year was computed with, else the default."""
    if not factor_set:
        try:
            factor_set = accounting.inventory_meta(sessions, org_code, year)["factor_set"]
        except NotFoundError:
            factor_set = accounting.DEFAULT_FACTOR_SET
    return factor_sets.resolve(sessions, factor_set, org_code)


# -- green packaging ----------------------------------------------------------------------------------------
def packaging(sessions: sessionmaker, org_code: str, year: int, base_year: int | None = None
              ) -> tuple[PackagingReport, PackagingComparison | None]:
    """KPI A2.5 of ``year`` and, with ``base_year``, its change against that year's packaging rows."""
    rows = _frames(sessions, org_code, year, ("packaging",)).get("packaging")
    report = packaging_report(rows, year, source=f"packaging rows of {org_code} {year}")
    comparison = None
    if base_year is not None:
        base_rows = _frames(sessions, org_code, base_year, ("packaging",)).get("packaging")
        comparison = compare(report, packaging_report(base_rows, base_year,
                                                      source=f"packaging rows of {org_code} {base_year}"))
    return report, comparison


# -- green recycling ----------------------------------------------------------------------------------------
def recycling(sessions: sessionmaker, org_code: str, year: int, factor_set: str | None = None) -> RecyclingReport:
    """Take-back and recycling rates by product and material; avoided emissions (memo) with the set's
    ``material`` factors (the named set, else the stored inventory's, else the default)."""
    rows = _frames(sessions, org_code, year, ("takeback",)).get("takeback")
    fs = _factor_set(sessions, org_code, year, factor_set)
    return recycling_report(rows, fs.factors, year, source=f"takeback rows of {org_code} {year}", factor_set=fs.id)


# -- green logistics ----------------------------------------------------------------------------------------
def _engine_legs(rows: pd.DataFrame, fs) -> pd.DataFrame | None:
    """Legs by the Scope 3 logistics engine (``core.supply.logistics``: great-circle distances, fuel- and
    carrier-based methods), in the columns of ``modal_shift.LEG_COLUMNS``; None when it is not installed."""
    try:
        engine = importlib.import_module("zerocarbon.core.supply.logistics")
    except ImportError:
        return None
    compute = getattr(engine, "leg_emissions", None)
    if compute is None:
        return None
    return compute(rows, fs)


def legs(sessions: sessionmaker, org_code: str, year: int, factor_set: str | None = None
         ) -> tuple[pd.DataFrame, list[str], str]:
    """Computed freight legs of the year's ``shipment`` rows, what could not be computed, and the set's id."""
    rows = _frames(sessions, org_code, year, ("shipment",)).get("shipment")
    fs = _factor_set(sessions, org_code, year, factor_set)
    if rows is None:
        return pd.DataFrame(columns=list(shift.LEG_COLUMNS)), [], fs.id
    computed = _engine_legs(rows, fs)
    if computed is not None:
        return computed, [], fs.id
    # Without the engine, the legs whose distance is given are computed by the distance-based method.
    has_distance = pd.to_numeric(rows["distance"], errors="coerce").notna()
    skipped = [] if has_distance.all() else [
        f"{int((~has_distance).sum())} leg(s) without a distance (great-circle, fuel- or carrier-based) are not "
        "computed here"]
    return shift.distance_based_legs(rows[has_distance], fs.factors), skipped, fs.id


def logistics(sessions: sessionmaker, org_code: str, year: int, factor_set: str | None = None) -> dict:
    """Freight of the year by mode: legs, t.km, TTW and WTT tCO2e, gCO2e per t.km; totals over all modes."""
    found, skipped, fs_id = legs(sessions, org_code, year, factor_set)
    modes = shift.summary_by_mode(found)
    tkm = sum(m.tkm for m in modes)
    total = sum(m.total_t for m in modes)
    return {"organisation": org_code, "year": year, "factor_set": fs_id, "status": OK if modes else NO_DATA,
            "legs": int(len(found)), "tkm": tkm, "ttw_t": sum(m.ttw_t for m in modes),
            "wtt_t": sum(m.wtt_t for m in modes), "total_t": total,
            "g_per_tkm": total * 1e6 / tkm if tkm > 0 else None,
            "by_mode": [asdict(m) for m in modes],
            "by_category": {str(c): float((g["ttw_kg"].sum() + g["wtt_kg"].sum()) / 1000)
                            for c, g in found.groupby("category")} if "category" in found and len(found) else {},
            "notes": skipped}


def modal_shift(sessions: sessionmaker, org_code: str, year: int, *, from_mode: str = "road",
                min_distance_km: float = 0.0, to_mode: str = "rail", to_vehicle: str = "",
                distance_ratio: float = 1.0, category: int | None = None,
                factor_set: str | None = None) -> ShiftResult:
    """The year's legs of ``from_mode`` longer than ``min_distance_km`` [km] (of Scope 3 ``category`` 4 or 9 when
    given) moved to ``to_mode`` (its ``to_vehicle`` freight factors, else the mode's default) over
    ``distance_ratio`` x their distance, recomputed; the change in tCO2e and the t.km moved."""
    rule = ShiftRule(from_mode, float(min_distance_km), to_mode, to_vehicle or "", float(distance_ratio), category)
    rule.check()
    found, skipped, fs_id = legs(sessions, org_code, year, factor_set)
    fs = factor_sets.resolve(sessions, fs_id, org_code)
    result = shift.modal_shift(found, rule, fs.factors)
    result.notes.extend(skipped)
    return result


# -- the five dimensions ------------------------------------------------------------------------------------
def _production(sessions, org_code: str, year: int) -> dict:
    try:
        meta = accounting.inventory_meta(sessions, org_code, year)
    except NotFoundError as exc:
        return {"status": NO_DATA, "reason": str(exc)}
    totals = meta["totals"]
    return {"status": OK, "inventory_status": meta["status"], "factor_set": meta["factor_set"],
            **{k: totals.get(k) for k in ("scope1_t", "scope2_location_t", "scope2_market_t", "total_location_t",
                                          "total_market_t", "renewable_share")}}


def _optional(module: str, function: str):
    """A function of a service that may not be installed (suppliers, Scope 3); None without it."""
    try:
        return getattr(importlib.import_module(f"zerocarbon.services.{module}"), function, None)
    except ImportError:
        return None


def _suppliers(sessions, org_code: str, year: int) -> dict:
    summary = _optional("suppliers", "compliance_summary")
    if summary is None:
        return {"status": NOT_AVAILABLE, "reason": "supplier management (services.suppliers) is not installed"}
    got = summary(sessions, org_code, year)
    got = asdict(got) if hasattr(got, "__dataclass_fields__") else dict(got)
    return {"status": OK if got.get("suppliers") else NO_DATA, **got}


def _scope3(sessions, org_code: str, year: int) -> dict:
    report = _optional("scope3", "report")
    if report is None:
        return {"status": NOT_AVAILABLE, "reason": "Scope 3 reporting (services.scope3) is not installed"}
    try:
        rep = report(sessions, org_code, year, suppliers=False)
    except NotFoundError as exc:
        return {"status": NO_DATA, "reason": str(exc)}
    cats = [{"category": c.category, "number": c.number, "status": c.status,
             "co2e_t": c.figure.co2e_t if c.figure else None, "dq": c.figure.dq if c.figure else None,
             "methods": c.figure.methods if c.figure else {}, "reason": c.reason} for c in rep.categories]
    return {"status": OK if rep.total else NO_DATA, "total_t": rep.total.co2e_t if rep.total else None,
            "dq": rep.total.dq if rep.total else None, "categories": cats, "memo": rep.memo}


def overview(sessions: sessionmaker, org_code: str, year: int, factor_set: str | None = None,
             base_year: int | None = None) -> dict:
    """The five dimensions and Scope 3 of an organisation and year, as plain JSON values."""
    accounting.organisation(sessions, org_code)  # NotFoundError for an unknown organisation
    pack, change = packaging(sessions, org_code, year, base_year)
    rec = recycling(sessions, org_code, year, factor_set)
    logi = logistics(sessions, org_code, year, factor_set)
    return {
        "organisation": org_code, "year": year, "base_year": base_year, "boundary": Boundary.OPERATIONAL_CONTROL.value,
        "production": _production(sessions, org_code, year),
        "suppliers": _suppliers(sessions, org_code, year),
        "logistics": logi,
        "recycling": {"status": OK if rec.lines else NO_DATA, **rec.as_dict()},
        "packaging": {"status": OK if pack.by_product else NO_DATA, **pack.as_dict(),
                      "base": change.as_dict() if change else None},
        "scope3": _scope3(sessions, org_code, year),
    }
