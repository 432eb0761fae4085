"""The base of a pathway read from the organisation's stored inventory of a year (operational control).

Scope 1 and Scope 2 tonnes are the stored ledger's (market-based; location-based beside them). Electricity MWh
by meter and fuel quantities come from the activity rows the ledger's rows were computed from (joined by activity
id); fuel MWh through the heating value of the inventory's factor set; on-site PV used is generated - exported
of the year's generation rows; renewable electricity bought is what the stored renewable share leaves after PV
((share x electricity consumed) - PV used), so the base's share equals the inventory's. Purchased heat and steam
are not modelled by the pathway: their tonnes are listed under ``not_modelled``. The base year's grid factors are
those the ledger's purchased-electricity Scope 2 implies (core.pathway.inventory.implied_grid_factors), so the
model's base-year Scope 1+2 is the stored one.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import sessionmaker

from zerocarbon.core.model import Boundary
from zerocarbon.core.pathway.inventory import Sums, base_from
from zerocarbon.core.pathway.scenario import Base, BaseRequest
from zerocarbon.errors import InputError, Problem, UnitError
from zerocarbon.store import repos
from zerocarbon.units import scale

BOUNDARY = Boundary.OPERATIONAL_CONTROL
REFRIGERANT_CATEGORIES = ("fugitive_refrigerants", "process_fgases")


def missing_inventory(org: str, year: int | None) -> InputError:
    """The refusal of a year without a stored inventory, naming the command that computes it."""
    what = f"for {year}" if year else "for any year"
    y = year or "<year>"
    return InputError([Problem("base", None, "year", f"{org} has no stored inventory {what}: compute it with "
                                                     f"`zerocarbon inventory compute --org {org} --year {y} "
                                                     "--factor-set <set>`, or state `source: scenario` in the "
                                                     "scenario's base to use its own values")])


def resolve_year(sessions: sessionmaker, org: str, year: int | None) -> int:
    """``year`` when the organisation has a stored inventory of it, else (None) its latest; refused otherwise."""
    from zerocarbon.store import targets as target_store

    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        years = target_store.inventory_years(s, org_id, BOUNDARY.value)
    if year is None:
        if not years:
            raise missing_inventory(org, None)
        return max(years)
    if year not in years:
        raise missing_inventory(org, year)
    return year


def _fuel_mwh(fs, fuel: str, unit: str, basis: str, qty: float) -> float | None:
    """[MWh] of ``qty`` ``unit`` of ``fuel``: directly for an energy unit, else through the set's heating value."""
    try:
        return qty * scale(unit, "MWh")
    except UnitError:  # not an energy unit: through a heating value below
        pass
    for hv in fs.heating_values(fuel):
        energy, per = hv.unit.split("/", 1)
        try:
            return qty * scale(unit, per) * hv.value * scale(energy, "MWh")
        except UnitError:  # another dimension (mass vs volume): try the next heating value
            continue
    return None


def _fuels(ledger: pd.DataFrame, frame: pd.DataFrame | None, fs, problems: list[Problem]) -> dict:
    rows = ledger[ledger["category"].isin(["stationary_combustion", "mobile_combustion"])]
    if rows.empty:
        return {}
    t = rows.groupby(["activity_id", "category"], observed=True)["co2e_t"].sum().reset_index()
    acts = frame.set_index("activity_id") if frame is not None else pd.DataFrame()
    out: dict[tuple[str, str], list[float]] = {}
    for aid, cat, tco2e in t.itertuples(index=False):
        a = acts.loc[aid]
        use = "mobile" if cat == "mobile_combustion" else "stationary"
        mwh = _fuel_mwh(fs, str(a["fuel"]), str(a["unit"]), str(a.get("basis") or ""), float(a["quantity"]))
        if mwh is None:
            problems.append(Problem("base", None, "fuel", f"{a['fuel']} in {a['unit']} ({aid}): the factor set "
                                                          f"{fs.id} has no heating value to give its MWh"))
            continue
        acc = out.setdefault((str(a["fuel"]), use), [0.0, 0.0])
        acc[0] += mwh
        acc[1] += float(tco2e)
    return {k: (v[0], v[1]) for k, v in out.items()}


def _grid_by_meter(ledger: pd.DataFrame, frame: pd.DataFrame | None) -> dict[str, float]:
    ids = pd.unique(ledger.loc[(ledger["category"] == "purchased_electricity")
                               & (ledger["method"] == "location"), "activity_id"].astype(str))
    if frame is None or not len(ids):
        return {}
    rows = frame[frame["activity_id"].astype(str).isin(set(ids))]
    out: dict[str, float] = {}
    for meter, qty, unit in rows[["meter", "quantity", "unit"]].itertuples(index=False):
        out[str(meter)] = out.get(str(meter), 0.0) + float(qty) * scale(str(unit), "MWh")
    return out


def _pv_self(frame: pd.DataFrame | None) -> float:
    if frame is None or frame.empty:
        return 0.0
    return float(sum((g - (e if e == e else 0.0)) * scale(str(u), "MWh")
                     for g, e, u in frame[["generated", "exported", "unit"]].itertuples(index=False)))


def _totals(ledger: pd.DataFrame) -> dict[str, float]:
    led = ledger[ledger["memo"] == ""]
    s2 = led[led["scope"] == "2"]
    el = s2[s2["category"] == "purchased_electricity"]
    return {"electricity_market_t": float(el.loc[el["method"].isin(["market", "both"]), "co2e_t"].sum()),
            "electricity_location_t": float(el.loc[el["method"].isin(["location", "both"]), "co2e_t"].sum()),
            "scope1_t": float(led.loc[led["scope"] == "1", "co2e_t"].sum()),
            "scope2_market_t": float(s2.loc[s2["method"].isin(["market", "both"]), "co2e_t"].sum()),
            "scope2_location_t": float(s2.loc[s2["method"].isin(["location", "both"]), "co2e_t"].sum())}


def stored_sums(sessions: sessionmaker, org: str, year: int) -> tuple[Sums, dict]:
    """The sums of the stored inventory of ``year`` the base is built from, and their lineage."""
    from zerocarbon.services import accounting, factor_sets

    meta, ledger = accounting.stored_ledger(sessions, org, year, BOUNDARY)
    ledger = ledger.astype({c: str for c in ("activity_id", "scope", "category", "method", "gas", "memo")})
    ledger = ledger[ledger["scope"].isin(["1", "2"]) & (ledger["memo"] == "")]
    batches = {int(b) for b in pd.unique(ledger["batch_id"].dropna())}
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        acts = repos.load_activities(s, org_id, year, kinds=("electricity", "fuel"), statuses=repos.STATUSES,
                                     only_batches=batches).data.frames if batches else {}
        gen = repos.load_activities(s, org_id, year, kinds=("generation",)).data.frames.get("generation")
    fs = factor_sets.resolve(sessions, meta["factor_set"], org)
    problems: list[Problem] = []
    fuels = _fuels(ledger, acts.get("fuel"), fs, problems)
    if problems:
        raise InputError(problems)
    refr = ledger[ledger["category"].isin(REFRIGERANT_CATEGORIES)].groupby("gas")["co2e_t"].sum()
    totals = _totals(ledger)
    sums = Sums(year, _grid_by_meter(ledger, acts.get("electricity")), _pv_self(gen),
                float(meta["totals"].get("renewable_share", 0.0)), fuels,
                {str(k): float(v) for k, v in refr.items()}, totals)
    heat = ledger[ledger["category"] == "purchased_heat_steam"]
    lineage = {"year": year, "factor_set": meta["factor_set"], "fingerprint": meta["fingerprint"],
               "gwp_set": meta["gwp_set"], "status": meta["status"], "ledger_rows": int(len(ledger)),
               "ledger_rows_by_category": {str(k): int(v) for k, v in ledger["category"].value_counts().items()},
               "batches": sorted(batches), "totals": totals,
               "stored_totals": {k: meta["totals"].get(k) for k in ("scope1_t", "scope2_market_t",
                                                                     "scope2_location_t", "renewable_share")},
               "not_modelled": {"purchased_heat_steam_market_t": float(
                   heat.loc[heat["method"].isin(["market", "both"]), "co2e_t"].sum())}}
    return sums, lineage


def inventory_base(sessions: sessionmaker, org: str, request: BaseRequest, year: int | None) -> tuple[Base, dict]:
    """The base of the stored inventory of ``year`` (else the request's, else the latest stored one) mapped as
    the scenario says, and its lineage (year, factor set, ledger row counts, totals, meters without an end use)."""
    year = resolve_year(sessions, org, year if year is not None else request.year)
    sums, lineage = stored_sums(sessions, org, year)
    base, mapped = base_from(sums, request.mapping, request.assets,
                             f"stored inventory {org} {year} ({lineage['factor_set']})")
    lineage.update(mapped, pv_self_mwh=sums.pv_self_mwh, grid_mwh=sum(sums.grid_mwh_by_meter.values()),
                   renewable_share=sums.renewable_share, end_uses={k: list(v) for k, v in
                                                                    request.mapping.end_uses.items()},
                   end_use_default="<site>-M-<END_USE>; a meter matching neither goes to OTHER")
    return base, lineage
