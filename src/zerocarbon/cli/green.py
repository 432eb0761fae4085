"""`zerocarbon logistics|packaging|recycling ...` and `zerocarbon supply-chain overview`: the green supply chain."""
from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import DbOpt, JsonOpt, OrgOpt, YearOpt, console, emit_json, group

logistics_app = group("Green logistics: freight by mode (t.km, TTW/WTT, intensity) and modal-shift scenarios.")
packaging_app = group("Green packaging: HKEX KPI A2.5, packaging per unit produced, against a base year.")
recycling_app = group("Green recycling: take-back and recycling rates; avoided emissions as a memo.")
overview_app = group("The green supply chain's five dimensions and Scope 3 on one page.")

FactorSetOpt = Annotated[Optional[str], typer.Option(
    "--factors", help="factor set (default: the one the year's inventory was computed with)")]


def _sessions(db: str | None):
    from zerocarbon.services.database import open_sessions

    return open_sessions(db, create=False)


def _report(call):
    """Run a report; stored rows it cannot use are listed as such (a report writes nothing), exit code 2 like
    every other refusal of input."""
    from zerocarbon.cli.common import EXIT_BAD_INPUT, err
    from zerocarbon.errors import InputError

    try:
        return call()
    except InputError as exc:
        if not getattr(exc, "read_only", False):
            raise
        err.print(f"[bold red]error:[/] {exc.headline()}:", highlight=False)
        for p in exc.problems[:50]:
            err.print(f"  - {p}", markup=False, highlight=False, soft_wrap=True)
        if len(exc.problems) > 50:
            err.print(f"  ... and {len(exc.problems) - 50} more", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _pct(x) -> str:
    return "-" if x is None else f"{x:.1%}"


def _num(x, fmt: str = ",.3f") -> str:
    return "-" if x is None else format(x, fmt)


@logistics_app.command("report")
def logistics_report(org: OrgOpt, year: YearOpt, factors: FactorSetOpt = None, db: DbOpt = None,
                     as_json: JsonOpt = False) -> None:
    """Freight legs of the year by mode: t.km, TTW and WTT tCO2e, g CO2e per t.km."""
    from zerocarbon.services import green_supply

    rep = green_supply.logistics(_sessions(db), org, year, factors)
    if as_json:
        emit_json(rep)
        return
    if rep["status"] != "ok":
        console.print(f"{org} {year}: no shipment legs imported (no data)")
        return
    table = Table(title=f"{org} {year} freight by mode (factor set {rep['factor_set']})")
    for c in ("mode", "legs", "t.km", "TTW tCO2e", "WTT tCO2e", "total tCO2e", "gCO2e/t.km"):
        table.add_column(c, justify="right" if c != "mode" else "left")
    for m in rep["by_mode"]:
        table.add_row(m["mode"], str(m["legs"]), _num(m["tkm"], ",.0f"), _num(m["ttw_t"]), _num(m["wtt_t"]),
                      _num(m["total_t"]), _num(m["g_per_tkm"], ",.1f"))
    table.add_row("all", str(rep["legs"]), _num(rep["tkm"], ",.0f"), _num(rep["ttw_t"]), _num(rep["wtt_t"]),
                  _num(rep["total_t"]), _num(rep["g_per_tkm"], ",.1f"))
    console.print(table)
    for n in rep["notes"]:
        console.print(f"note: {n}", highlight=False)


@logistics_app.command("modal-shift")
def logistics_modal_shift(
        org: OrgOpt, year: YearOpt,
        from_mode: Annotated[str, typer.Option("--from", help="mode the legs leave: road | rail | sea | "
                                                              "inland_waterway | air")] = "road",
        to_mode: Annotated[str, typer.Option("--to", help="mode they move to")] = "rail",
        min_km: Annotated[float, typer.Option("--min-km", min=0, help="only legs longer than this [km]")] = 0.0,
        vehicle: Annotated[str, typer.Option("--vehicle", help="freight factor of the new mode (e.g. "
                                                               "container_ship_average); default the mode's")] = "",
        ratio: Annotated[float, typer.Option("--distance-ratio", help="new route length / present distance")] = 1.0,
        category: Annotated[Optional[int], typer.Option("--category", help="only Scope 3 category 4 or 9")] = None,
        factors: FactorSetOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """What moving legs to another mode would change: `--from road --to rail --min-km 500`."""
    from zerocarbon.services import green_supply

    res = green_supply.modal_shift(_sessions(db), org, year, from_mode=from_mode, min_distance_km=min_km,
                                   to_mode=to_mode, to_vehicle=vehicle, distance_ratio=ratio, category=category,
                                   factor_set=factors)
    if as_json:
        emit_json(res.as_dict())
        return
    console.print(f"{org} {year}: {res.legs_moved} {from_mode} leg(s) over {min_km:g} km moved to {res.target_vehicle} "
                  f"({', '.join(res.factor_ids)})", highlight=False)
    console.print(f"  t.km moved {res.tkm_moved:,.0f} -> {res.tkm_after:,.0f}; their tCO2e {res.moved_before_t:,.3f} -> "
                  f"{res.moved_after_t:,.3f}", highlight=False)
    console.print(f"  all freight {res.baseline_t:,.3f} -> {res.scenario_t:,.3f} tCO2e: change {res.change_t:+,.3f} "
                  f"tCO2e ({'-' if res.change_pct is None else format(res.change_pct, '+.1f')} %)", highlight=False)
    for n in res.notes:
        console.print(f"note: {n}", highlight=False)


@packaging_app.command("report")
def packaging_report(org: OrgOpt, year: YearOpt,
                     base_year: Annotated[Optional[int], typer.Option("--base-year", help="compare with this year")]
                     = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """KPI A2.5: packaging material in tonnes, by material and product, and per unit produced."""
    from zerocarbon.services import green_supply

    rep, change = _report(lambda: green_supply.packaging(_sessions(db), org, year, base_year))
    if as_json:
        emit_json({**rep.as_dict(), "base": change.as_dict() if change else None})
        return
    if not rep.by_product:
        console.print(f"{org} {year}: no packaging rows imported (no data)")
        return
    console.print(f"[bold]{org} {year}[/] {rep.kpi}: {rep.total_t:,.3f} t of packaging for {rep.units_produced:,.0f} "
                  f"units produced = {_num(rep.kg_per_unit, ',.4f')} kg/unit; recycled content "
                  f"{_pct(rep.recycled_share)}, plastic-free {_pct(rep.plastic_free_share)} of the mass")
    table = Table(title="by product")
    for c in ("product", "units produced", "t", "kg/unit", "recycled", "plastic-free"):
        table.add_column(c)
    prod = {p.product: p for p in (change.by_product if change else [])}
    if change:
        table.add_column(f"kg/unit {change.base_year}")
        table.add_column("change")
    for p in rep.by_product:
        row = [p.product, f"{p.units_produced:,.0f}", f"{p.mass_t:,.3f}", f"{p.kg_per_unit:,.4f}",
               _pct(p.recycled_share), "yes" if p.plastic_free else "no"]
        if change:
            c = prod[p.product].kg_per_unit
            row += [_num(c.base, ",.4f"), "-" if c.change is None else f"{c.change:+,.4f} ({c.change_pct:+.1f} %)"]
        table.add_row(*row)
    console.print(table)
    if change:
        k = change.kg_per_unit
        console.print(f"total against {change.base_year}: {_num(change.total_t.base)} -> {rep.total_t:,.3f} t; per unit "
                      f"{_num(k.base, ',.4f')} -> {_num(k.current, ',.4f')} kg"
                      + ("" if k.change_pct is None else f" ({k.change_pct:+.1f} %)"), highlight=False)
        if change.only_current or change.only_base:
            console.print(f"not in both years: {', '.join(change.only_current + change.only_base)}", highlight=False)


@recycling_app.command("report")
def recycling_report(org: OrgOpt, year: YearOpt, factors: FactorSetOpt = None, db: DbOpt = None,
                     as_json: JsonOpt = False) -> None:
    """Collected, recycled, recycling and take-back rates; avoided emissions (memo, not deducted)."""
    from zerocarbon.services import green_supply

    rep = _report(lambda: green_supply.recycling(_sessions(db), org, year, factors))
    if as_json:
        emit_json(rep.as_dict())
        return
    if not rep.lines:
        console.print(f"{org} {year}: no take-back rows imported (no data)")
        return
    table = Table(title=f"{org} {year} take-back and recycling (factor set {rep.factor_set})")
    for c in ("product", "material", "collected t", "recycled t", "recycling rate", "take-back rate",
              "avoided tCO2e (memo)"):
        table.add_column(c)
    for x in rep.lines:
        table.add_row(x.product, x.material, f"{x.collected_t:,.3f}", f"{x.recycled_t:,.3f}", _pct(x.recycling_rate),
                      _pct(x.takeback_rate), "no factor" if x.avoided_tco2e is None else f"{x.avoided_tco2e:,.3f}")
    console.print(table)
    console.print(f"recycling rate {_pct(rep.recycling_rate)}; take-back rate {_pct(rep.takeback_rate)}; avoided "
                  f"{rep.avoided_tco2e_memo:,.3f} tCO2e — {rep.memo}", highlight=False)
    if rep.without_factors:
        console.print("no avoided figure (the set lacks the primary or the recycled-material factor of the treatment): "
                      f"{', '.join(rep.without_factors)}", highlight=False)


@overview_app.command("overview")
def overview(org: OrgOpt, year: YearOpt, factors: FactorSetOpt = None,
             base_year: Annotated[Optional[int], typer.Option("--base-year", help="packaging base year")] = None,
             db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Green production, suppliers, logistics, recycling, packaging and Scope 3 of a year."""
    from zerocarbon.services import green_supply

    o = green_supply.overview(_sessions(db), org, year, factors, base_year)
    if as_json:
        emit_json(o)
        return
    console.print(f"[bold]{org} {year}[/] green supply chain")
    p = o["production"]
    console.print("  production: " + (f"Scope 1 {p['scope1_t']:,.1f} t, Scope 2 location {p['scope2_location_t']:,.1f} "
                                      f"t / market {p['scope2_market_t']:,.1f} t, renewable electricity "
                                      f"{_pct(p['renewable_share'])}" if p["status"] == "ok" else p["status"]),
                  highlight=False)
    s = o["suppliers"]
    console.print("  suppliers: " + (s.get("reason", s["status"]) if s["status"] != "ok" else
                                     f"{s['passing']} of {s['suppliers']} compliant on {s.get('as_of')}: "
                                     f"{_pct(s.get('share_by_count'))} by count, {_pct(s.get('share_by_spend'))} by "
                                     "spend"), highlight=False)
    lg = o["logistics"]
    console.print("  logistics: " + (f"{lg['tkm']:,.0f} t.km, {lg['total_t']:,.3f} tCO2e (TTW {lg['ttw_t']:,.3f}, WTT "
                                     f"{lg['wtt_t']:,.3f}), {_num(lg['g_per_tkm'], ',.1f')} gCO2e/t.km"
                                     if lg["status"] == "ok" else lg["status"]), highlight=False)
    r = o["recycling"]
    console.print("  recycling: " + (f"recycling rate {_pct(r['recycling_rate'])}, avoided {r['avoided_tco2e_memo']:,.3f} "
                                     "tCO2e (memo, not deducted)" if r["status"] == "ok" else r["status"]),
                  highlight=False)
    k = o["packaging"]
    console.print("  packaging: " + (f"{k['total_t']:,.3f} t, {_num(k['kg_per_unit'], ',.4f')} kg/unit produced"
                                     if k["status"] == "ok" else k["status"]), highlight=False)
    s3 = o["scope3"]
    console.print("  Scope 3: " + (f"{s3['total_t']:,.1f} tCO2e" if s3["status"] == "ok" else
                                   s3.get("reason", s3["status"])), highlight=False)
