"""The green supply chain of an organisation and year: its five dimensions on one page.

Green production (Scope 1+2 of the stored inventory and its renewable electricity share), supplier
management (compliance of the supplier register, by count and by spend, from ``services.suppliers``), green
logistics (freight by mode: t.km, TTW and WTT tCO2e, intensity per t.km; modal-shift scenarios), green
recycling (take-back and recycling rates; avoided emissions as a memo, never deducted) and green packaging
(HKEX KPI A2.5: tonnes and kg per unit produced, against a base year), plus Scope 3 by category
(``services.scope3``).

Each dimension answers with a ``status``: ``ok``, ``no data`` (nothing imported for the year: no figure, never
a zero), ``not available`` (not set up, with the reason) or ``invalid data`` (stored rows the report cannot use, named in ``problems``). The activity rows are the ``packaging``, ``takeback`` and ``shipment`` kinds imported through
``services.accounting.import_file``.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date

import pandas as pd
from sqlalchemy.orm import sessionmaker

from zerocarbon.core.model import Boundary
from zerocarbon.core.supply import modal_shift as shift
from zerocarbon.core.supply.logistics import leg_emissions
from zerocarbon.core.supply.modal_shift import ShiftRule, ShiftResult
from zerocarbon.core.supply.packaging import PackagingComparison, PackagingReport, compare, packaging_report
from zerocarbon.core.supply.recycling import RecyclingReport, recycling_report
from zerocarbon.errors import InputError, NotFoundError
from zerocarbon.services import accounting, factor_sets, scope3, suppliers
from zerocarbon.store import repos
from zerocarbon.store import suppliers as supplier_store
from zerocarbon.units import scale

OK, NO_DATA, NOT_AVAILABLE, INVALID = "ok", "no data", "not available", "invalid data"


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
def _leg_input(rows: pd.DataFrame) -> pd.DataFrame:
    """Shipment rows with their quantities in the engine's units: ``mass_t`` [t], ``distance_km`` [km] (NaN where
    none is given) and ``carrier_co2e_kg`` [kgCO2e] (NaN where the carrier reports none)."""
    out = rows.reset_index(drop=True).copy()

    def converted(value: str, unit: str, to: str) -> pd.Series:
        v = pd.to_numeric(out[value], errors="coerce") if value in out else pd.Series(float("nan"), index=out.index)
        if unit not in out:
            return v
        units = out[unit].fillna("").astype(str)
        factor = pd.Series(float("nan"), index=out.index)
        for u in units[units != ""].unique():
            factor[units == u] = scale(u, to)
        return v * factor

    out["mass_t"] = converted("mass", "mass_unit", "t")
    out["distance_km"] = converted("distance", "distance_unit", "km")
    out["carrier_co2e_kg"] = converted("carrier_co2e", "carrier_co2e_unit", "kgCO2e")
    return out


def legs(sessions: sessionmaker, org_code: str, year: int, factor_set: str | None = None
         ) -> tuple[pd.DataFrame, list[str], object]:
    """Computed freight legs of the year's ``shipment`` rows, notes on what was not computed, and the set."""
    rows = _frames(sessions, org_code, year, ("shipment",)).get("shipment")
    fs = _factor_set(sessions, org_code, year, factor_set)
    if rows is None:
        return pd.DataFrame(columns=list(shift.LEG_COLUMNS)), [], fs
    return leg_emissions(_leg_input(rows), fs, year=year), [], fs


def logistics(sessions: sessionmaker, org_code: str, year: int, factor_set: str | None = None) -> dict:
    """Freight of the year by mode: legs, t.km, TTW and WTT tCO2e, gCO2e per t.km; totals over all modes."""
    found, skipped, fs = legs(sessions, org_code, year, factor_set)
    modes = shift.summary_by_mode(found)
    tkm = sum(m.tkm for m in modes)
    total = sum(m.total_t for m in modes)
    return {"organisation": org_code, "year": year, "factor_set": fs.id, "status": OK if modes else NO_DATA,
            "legs": int(len(found)), "tkm": tkm, "ttw_t": sum(m.ttw_t for m in modes),
            "wtt_t": sum(m.wtt_t for m in modes), "total_t": total,
            "g_per_tkm": total * 1e6 / tkm if tkm > 0 else None,
            "by_mode": [asdict(m) for m in modes],
            "by_category": {str(c): float(shift.well_to_wheel_kg(g).sum() / 1000)
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
    found, skipped, fs = legs(sessions, org_code, year, factor_set)
    result = shift.modal_shift(found, rule, fs, year=year)
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


def _suppliers(sessions, org_code: str, year: int) -> dict:
    """Compliance of the supplier register with the green specification at the end of ``year`` (today for the
    current year), by count and by spend (``services.suppliers.compliance_report``)."""
    as_of = min(date(year, 12, 31), date.today())
    got = suppliers.compliance_report(sessions, org_code, as_of=as_of)
    keep = ("as_of", "spec", "suppliers", "passing", "share_by_count", "share_by_spend", "spend_by_currency", "note")
    out = {k: got.get(k) for k in keep}
    if not got.get("suppliers"):
        return {"status": NO_DATA, "reason": "the supplier register is empty (`zerocarbon supply import-suppliers`)",
                **out}
    # Compliance is judged on answers: before any supplier's answer was accepted there is nothing to judge, so no
    # figure (never "0 compliant").
    with sessions.begin() as s:
        org_id = repos.organisation_key(s, org_code)
        answered = sum(1 for _, submitted_at, _, _ in supplier_store.accepted_answers(s, org_id)
                       if submitted_at is not None and submitted_at.date() <= as_of)
    if not answered:
        return {"status": NO_DATA, "reason": f"no supplier had an accepted answer on {as_of.isoformat()} "
                                             f"({got['suppliers']} suppliers in the register); compliance is "
                                             "judged on suppliers' accepted answers", **out}
    return {"status": OK, **out}


def _scope3(sessions, org_code: str, year: int) -> dict:
    try:
        rep = scope3.report(sessions, org_code, year, suppliers=False)
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

    def dimension(build) -> dict:
        # Stored rows one report cannot use (components of one product stating different units produced) make
        # that dimension say so, with the rows named; the other dimensions are still shown.
        try:
            return build()
        except InputError as exc:
            return {"status": INVALID, "reason": str(exc).split("\n", 1)[0],
                    "problems": [str(p) for p in exc.problems[:20]]}

    def pack() -> dict:
        report, change = packaging(sessions, org_code, year, base_year)
        return {"status": OK if report.by_product else NO_DATA, **report.as_dict(),
                "base": change.as_dict() if change else None}

    def rec() -> dict:
        report = recycling(sessions, org_code, year, factor_set)
        return {"status": OK if report.lines else NO_DATA, **report.as_dict()}

    return {
        "organisation": org_code, "year": year, "base_year": base_year, "boundary": Boundary.OPERATIONAL_CONTROL.value,
        "production": _production(sessions, org_code, year),
        "suppliers": _suppliers(sessions, org_code, year),
        "logistics": dimension(lambda: logistics(sessions, org_code, year, factor_set)),
        "recycling": dimension(rec),
        "packaging": dimension(pack),
        "scope3": _scope3(sessions, org_code, year),
    }
