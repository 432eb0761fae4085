"""Benchmark: inventory with lineage over 1M activity rows.

Three engines compute the same ledger (one row per activity x gas x Scope 2 method, with factor ids)
and the same totals, each in its own process so peak memory is its own:
  engine  zerocarbon.core.ghg.inventory.compute_inventory (pandas/numpy, vectorised)
  loop    a row-by-row Python loop over the same resolved factors (baseline a)
  duckdb  one hand-written DuckDB SQL query over the same resolved factors (baseline b)
Factor resolution (pint conversions, factor-set rules) is done once per distinct key in all three,
outside nothing: the loop and DuckDB baselines get it precomputed for free, so they are favoured.

Usage: python bench/inventory_1m.py [--rows 1000000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parent / "out"
SITES = [("S%02d" % i, prov, reg) for i, (prov, reg) in enumerate(
    [("天津", "north"), ("安徽", "east"), ("广东", "south"), ("四川", "southwest"), ("湖北", "central")] * 4)]
FUELS = [("gas_diesel_oil", "stationary", "t"), ("gas_diesel_oil", "mobile", "t"), ("natural_gas", "stationary", "万Nm3"),
         ("motor_gasoline", "mobile", "t"), ("lpg", "stationary", "t")]
YEAR = 2023


def make_data(rows: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    n_e = int(rows * 0.7)
    n_f = rows - n_e
    month = rng.integers(1, 13, n_e)
    site = rng.integers(0, len(SITES), n_e)
    elec = pd.DataFrame({
        "activity_id": [f"electricity.csv:{i + 2}" for i in range(n_e)],
        "site": np.array([s[0] for s in SITES])[site], "meter": "M",
        "period_start": pd.to_datetime([f"{YEAR}-{m:02d}-01" for m in month]),
        "period_end": pd.to_datetime([f"{YEAR}-{m:02d}-28" for m in month]),
        "quantity": rng.uniform(1e3, 1e5, n_e), "unit": rng.choice(["kWh", "MWh"], n_e, p=[0.9, 0.1])})
    fi = rng.integers(0, len(FUELS), n_f)
    fuel = pd.DataFrame({
        "activity_id": [f"fuel.csv:{i + 2}" for i in range(n_f)],
        "site": np.array([s[0] for s in SITES])[rng.integers(0, len(SITES), n_f)],
        "period_start": pd.Timestamp(f"{YEAR}-01-01"), "period_end": pd.Timestamp(f"{YEAR}-01-31"),
        "fuel": np.array([f[0] for f in FUELS])[fi], "use": np.array([f[1] for f in FUELS])[fi],
        "quantity": rng.uniform(0.1, 10, n_f), "unit": np.array([f[2] for f in FUELS])[fi], "basis": "",
        "biogenic": False})
    inst = pd.DataFrame([{
        "activity_id": f"instrument.csv:{i + 2}", "instrument_id": f"G{i}", "type": "GEC", "registry": "CN-GEC",
        "market": "CN", "volume_kwh": 2e8, "vintage_start": pd.Timestamp(f"{YEAR}-01-01"),
        "vintage_end": pd.Timestamp(f"{YEAR}-12-31"), "serial_start": np.nan, "serial_end": np.nan,
        "retired_for_site": s[0], "retired_for_year": YEAR, "emission_factor_kg_per_kwh": 0.0}
        for i, s in enumerate(SITES[::2])])
    return elec, fuel, inst


def setup(rows):
    from zerocarbon.core.factors import load_factor_set
    from zerocarbon.core.model import Organisation, Site

    org = Organisation("B", "bench", tuple(Site(c, c, province=p, grid_region=r) for c, p, r in SITES))
    return org, load_factor_set("CN-2025.1"), *make_data(rows)


def resolved(org, fs, elec, fuel, inst):
    """Precomputed lookups the baselines use: per fuel key routes, per site factors and cover."""
    from zerocarbon.core.ghg.combustion import fuel_route
    from zerocarbon.core.ghg.electricity import allocate_instruments
    from zerocarbon.core.ghg.gases import gwp_for
    from zerocarbon.units import scale

    routes = []
    for f, u, unit in FUELS:
        for g in fuel_route(fs, f, u, unit, "").gases:
            routes.append((f, u, unit, g.gas, g.kg_per_activity_unit, ";".join(x.factor_id for x in g.factors),
                           gwp_for(fs, g.gas, "AR5").value))
    kwh = elec["quantity"] * elec["unit"].map({"kWh": 1.0, "MWh": 1000.0})
    claims, _ = allocate_instruments(kwh.groupby(elec["site"]).sum().to_dict(), inst, YEAR,
                                     {s.code: "CN" for s in org.sites})
    sites = []
    for s in org.sites:
        loc = fs.grid_factor("location", YEAR, s).factor
        res = fs.grid_factor("residual", YEAR, s).factor
        sites.append((s.code, loc.value, loc.factor_id, res.value, res.factor_id, claims[s.code].fraction))
    units = {u: scale(u, "kWh") for u in ("kWh", "MWh")}
    return routes, sites, units


def run_engine(org, fs, elec, fuel, inst):
    from zerocarbon.core.ghg.inventory import ActivityData, compute_inventory

    inv = compute_inventory(org, ActivityData({"electricity": elec, "fuel": fuel, "instrument": inst}), fs, YEAR)
    t = inv.totals()
    return len(inv.ledger), t["total_location_t"], t["total_market_t"]


def run_loop(org, fs, elec, fuel, inst):
    routes, sites, units = resolved(org, fs, elec, fuel, inst)
    by_key = {}
    for f, u, unit, gas, k, fid, gwp in routes:
        by_key.setdefault((f, u, unit), []).append((gas, k, fid, gwp))
    site = {s[0]: s for s in sites}
    ledger = []
    for aid, st, f, u, q, unit in zip(fuel["activity_id"], fuel["site"], fuel["fuel"], fuel["use"], fuel["quantity"],
                                       fuel["unit"]):
        for gas, k, fid, gwp in by_key[(f, u, unit)]:
            kg = q * k
            ledger.append((aid, st, "1", "both", gas, kg, gwp, fid, kg * gwp / 1000))
    for aid, st, q, unit in zip(elec["activity_id"], elec["site"], elec["quantity"], elec["unit"]):
        _, loc, loc_id, res, res_id, frac = site[st]
        kwh = q * units[unit]
        ledger.append((aid, st, "2", "location", "CO2", kwh * loc, 1.0, loc_id, kwh * loc / 1000))
        m = kwh * (1 - frac) * res
        ledger.append((aid, st, "2", "market", "CO2", m, 1.0, res_id, m / 1000))
    s1 = sum(r[8] for r in ledger if r[2] == "1")
    s2l = sum(r[8] for r in ledger if r[3] == "location")
    s2m = sum(r[8] for r in ledger if r[3] == "market")
    return len(ledger), s1 + s2l, s1 + s2m


def run_duckdb(org, fs, elec, fuel, inst):
    import duckdb

    routes, sites, units = resolved(org, fs, elec, fuel, inst)
    con = duckdb.connect()
    con.register("fuel", fuel[["activity_id", "site", "fuel", "use", "quantity", "unit"]])
    con.register("elec", elec[["activity_id", "site", "quantity", "unit"]])
    con.register("routes", pd.DataFrame(routes, columns=["fuel", "use", "unit", "gas", "k", "fid", "gwp"]))
    con.register("sites", pd.DataFrame(sites, columns=["site", "loc", "loc_id", "res", "res_id", "frac"]))
    con.register("units", pd.DataFrame(list(units.items()), columns=["unit", "to_kwh"]))
    con.execute("""
        CREATE TABLE ledger AS
        SELECT f.activity_id, f.site, '1' AS scope, 'both' AS method, r.gas, f.quantity * r.k AS gas_kg, r.gwp,
               r.fid AS factor_ids, f.quantity * r.k * r.gwp / 1000 AS co2e_t
          FROM fuel f JOIN routes r USING (fuel, use, unit)
        UNION ALL
        SELECT e.activity_id, e.site, '2', m.method, 'CO2',
               e.quantity * u.to_kwh * CASE m.method WHEN 'location' THEN s.loc ELSE (1 - s.frac) * s.res END,
               1.0, CASE m.method WHEN 'location' THEN s.loc_id ELSE s.res_id END,
               e.quantity * u.to_kwh * CASE m.method WHEN 'location' THEN s.loc ELSE (1 - s.frac) * s.res END / 1000
          FROM elec e JOIN sites s USING (site) JOIN units u USING (unit)
               CROSS JOIN (VALUES ('location'), ('market')) m(method)
    """)
    n, tl, tm = con.execute("""
        SELECT count(*), sum(co2e_t) FILTER (WHERE method IN ('both', 'location')),
               sum(co2e_t) FILTER (WHERE method IN ('both', 'market')) FROM ledger""").fetchone()
    return n, tl, tm


def child(mode: str, rows: int) -> dict:
    args = setup(rows)
    fn = {"engine": run_engine, "loop": run_loop, "duckdb": run_duckdb}[mode]
    t0 = time.perf_counter()
    n, tl, tm = fn(*args)
    dt = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "rows": rows, "ledger_rows": n, "seconds": dt, "peak_rss_mb": peak_mb,
            "total_location_t": tl, "total_market_t": tm}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", default=None)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.rows)))
        return
    results = {}
    for mode in ("engine", "duckdb", "loop"):
        runs = []
        for _ in range(a.repeat if mode != "loop" else 1):
            out = subprocess.run([sys.executable, __file__, "--child", mode, "--rows", str(a.rows)],
                                 capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout))
        best = min(runs, key=lambda r: r["seconds"])
        results[mode] = best
        print(f"{mode:7s} {best['seconds']:7.2f} s  peak {best['peak_rss_mb']:7.0f} MB  ledger {best['ledger_rows']:,}"
              f"  loc {best['total_location_t']:,.3f} t  mkt {best['total_market_t']:,.3f} t", flush=True)
    for mode in ("loop", "duckdb"):
        assert abs(results[mode]["total_location_t"] - results["engine"]["total_location_t"]) < 1e-6 * results["engine"]["total_location_t"]
        assert abs(results[mode]["total_market_t"] - results["engine"]["total_market_t"]) < 1e-6 * results["engine"]["total_market_t"]
    e = results["engine"]["seconds"]
    print(f"engine / duckdb = {e / results['duckdb']['seconds']:.2f}x ; loop / engine = {results['loop']['seconds'] / e:.1f}x")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpu, Python {platform.python_version()}")
    OUT.mkdir(exist_ok=True)
    (OUT / "inventory_1m.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
