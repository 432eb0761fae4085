"""Benchmark: Scope 3 of 1M purchase lines and 1M shipment legs, the user's path against a hand-written DuckDB query.

Dataset (generated, seed 1) over the 20 sites of ``bench/inventory_1m.py``, reporting year 2023:
  purchases  1M lines, category 1 (90 %) and 2 (10 %), 500 suppliers:
             80 % spend-based (CNY, USD or EUR of 2019..2023, one of 40 NAICS-6 codes of the EEIO factors),
             15 % average-data (quantity in t or kg of one of 10 materials),
              5 % supplier-specific (the supplier's kg CO2e for the line, with evidence)
  shipments  1M legs, category 4 (85 %) and 9 (15 %):
             90 % distance-based (mass x given distance over 8 mode/vehicle factors, TTW + WTT),
             10 % carrier-reported (the carrier's kg CO2e for the leg)
written as CSV files in the importer's formats (``--files`` files per kind).

(a) the user's path: every command its own process (wall time and peak RSS from ``os.wait4``, as
    ``bench/inventory_stored.py``): ``zerocarbon org load``, ``zerocarbon import purchase|shipment FILE`` of every
    file into a fresh SQLite database, ``zerocarbon inventory compute``; then, in a process of its own, the core
    ``compute_inventory`` alone on the same stored activity frames (loaded before the clock starts; best of
    ``--repeat``).
(b) one hand-written DuckDB SQL query over the same CSV files and the shipped factor and economics CSVs doing
    the same arithmetic: spend / (units per USD of the price year) x (CPI of the factor's price year / CPI of the
    price year) x EEIO factor (with margins); quantity in t x material factor (primary); mass [t] x distance [km] x
    (TTW + WTT) per t.km; supplier and carrier figures as given; sums by category and method (best of
    ``--repeat``, CSV reading included).
Both give the same Scope 3 tCO2e per category and method (asserted, relative 1e-9). Printed and written to
``bench/out/scope3.json``: every step's time and peak RSS and the ratios to (b).

Usage: python bench/scope3.py [--purchases 1000000] [--shipments 1000000] [--files 10] [--repeat 3]
       [--out DIR]  (smoke run: --purchases 10000 --shipments 10000 --files 1 --repeat 1)
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
OUT = HERE / "out"
SRC = HERE.parent / "src"
sys.path.insert(0, str(HERE))
from inventory_1m import SITES, YEAR  # noqa: E402
from inventory_stored import child_env, machine, run_cli  # noqa: E402

DATA = SRC / "zerocarbon" / "data"
# NAICS-6 codes of the shipped EEIO factors (US EPA Supply Chain GHG Emission Factors v1.3) bought here.
NAICS = ["334111", "334112", "334118", "334413", "334418", "334419", "335311", "335921", "335929", "332510",
         "332710", "332722", "332999", "331110", "331313", "331420", "326111", "326199", "325211", "325510",
         "322211", "322220", "327211", "327993", "333511", "333514", "333922", "333995", "336390", "541330",
         "541511", "541512", "541611", "561320", "561612", "484121", "488510", "493110", "811212", "541380"]
CURRENCIES = ["CNY", "USD", "EUR"]
MATERIALS = ["aluminium_cans_foil", "steel_cans", "glass", "hdpe", "pet", "paper_board", "paper", "wood",
             "electrical_items_it", "plastics_average"]
# (mode, vehicle) of the shipped freight factors (DESNZ 2024).
VEHICLES = [("road", "hgv_average_laden"), ("road", "van_average"), ("rail", "freight_train"),
            ("sea", "container_ship_average"), ("sea", "bulk_carrier_average"), ("air", "long_haul"),
            ("air", "short_haul"), ("road", "hgv_artic_all_average_laden")]
PURCHASE_COLUMNS = ["site", "period_start", "period_end", "category", "item", "supplier", "spend", "currency",
                    "price_year", "eeio_code", "quantity", "unit", "material", "supplier_co2e", "supplier_co2e_unit",
                    "evidence"]
SHIPMENT_COLUMNS = ["site", "period_start", "period_end", "category", "shipment", "leg", "mode", "vehicle", "mass",
                    "mass_unit", "distance", "distance_unit", "carrier_co2e", "carrier_co2e_unit", "carrier"]


def purchases(n: int, rng) -> pd.DataFrame:
    kind = rng.choice(3, n, p=[0.80, 0.15, 0.05])  # 0 spend, 1 average-data, 2 supplier-specific
    spend, avg, sup = kind == 0, kind == 1, kind == 2
    month = rng.integers(1, 13, n)
    df = pd.DataFrame({
        "site": np.array([s[0] for s in SITES])[rng.integers(0, len(SITES), n)],
        "period_start": [f"{YEAR}-{m:02d}-01" for m in month], "period_end": [f"{YEAR}-{m:02d}-28" for m in month],
        "category": np.where(rng.random(n) < 0.9, "1", "2"),
        "item": [f"item {i}" for i in rng.integers(0, 5000, n)],
        "supplier": [f"S-{i:04d}" for i in rng.integers(1, 501, n)]})
    df["spend"] = np.where(spend, np.round(rng.uniform(100, 200_000, n), 2), np.nan)
    df["currency"] = np.where(spend, np.array(CURRENCIES)[rng.integers(0, len(CURRENCIES), n)], "")
    df["price_year"] = np.where(spend, rng.integers(2019, 2024, n), 0)
    df["eeio_code"] = np.where(spend, np.array(NAICS)[rng.integers(0, len(NAICS), n)], "")
    unit = np.array(["t", "kg"])[rng.integers(0, 2, n)]
    df["quantity"] = np.where(avg, np.round(np.where(unit == "t", rng.uniform(0.01, 50, n),
                                                     rng.uniform(1, 50_000, n)), 3), np.nan)
    df["unit"] = np.where(avg, unit, "")
    df["material"] = np.where(avg, np.array(MATERIALS)[rng.integers(0, len(MATERIALS), n)], "")
    df["supplier_co2e"] = np.where(sup, np.round(rng.uniform(1, 100_000, n), 3), np.nan)
    df["supplier_co2e_unit"] = np.where(sup, "kgCO2e", "")
    df["evidence"] = np.where(sup, [f"EPD-{i}" for i in rng.integers(1, 2000, n)], "")
    df["price_year"] = df["price_year"].astype(object).where(spend, "")
    return df[PURCHASE_COLUMNS]


def shipments(n: int, rng, offset: int = 0) -> pd.DataFrame:
    carrier = rng.random(n) < 0.10
    vi = rng.integers(0, len(VEHICLES), n)
    month = rng.integers(1, 13, n)
    df = pd.DataFrame({
        "site": np.array([s[0] for s in SITES])[rng.integers(0, len(SITES), n)],
        "period_start": [f"{YEAR}-{m:02d}-01" for m in month], "period_end": [f"{YEAR}-{m:02d}-28" for m in month],
        "category": np.where(rng.random(n) < 0.85, "4", "9"),
        # One leg per shipment id: the importer refuses a shipment leg given twice.
        "shipment": [f"SH{offset + i:08d}" for i in range(n)], "leg": "1",
        "mode": np.array([v[0] for v in VEHICLES])[vi], "vehicle": np.array([v[1] for v in VEHICLES])[vi],
        "mass": np.round(rng.uniform(0.05, 40, n), 3), "mass_unit": "t",
        "distance": np.round(rng.uniform(5, 12_000, n), 1), "distance_unit": "km"})
    df["carrier_co2e"] = np.where(carrier, np.round(rng.uniform(1, 50_000, n), 3), np.nan)
    df["carrier_co2e_unit"] = np.where(carrier, "kgCO2e", "")
    df["carrier"] = np.where(carrier, [f"Carrier {i}" for i in rng.integers(1, 40, n)], "")
    return df[SHIPMENT_COLUMNS]


def write_files(n_p: int, n_s: int, files: int, folder: Path) -> dict[str, list[Path]]:
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    org = ["code: B", "name: bench", "sites:"]
    org += [f"  - {{code: {c}, name: {c}, province: {p}, grid_region: {r}}}" for c, p, r in SITES]
    (folder / "organisation.yaml").write_text("\n".join(org) + "\n", encoding="utf-8")
    out: dict[str, list[Path]] = {"purchase": [], "shipment": []}
    for kind, n in (("purchase", n_p), ("shipment", n_s)):
        done = 0
        for i, size in enumerate(np.diff(np.linspace(0, n, files + 1).astype(int))):
            df = purchases(size, rng) if kind == "purchase" else shipments(size, rng, offset=done)
            done += size
            p = folder / f"{kind}_{i + 1}.csv"
            df.to_csv(p, index=False, float_format="%.17g")
            out[kind].append(p)
    return out


# -- (b) the hand-written DuckDB query ------------------------------------------------------------------------------
def duckdb_sql(purchase_glob: str, shipment_glob: str) -> str:
    factors = [str(DATA / "factors" / "eeio_epa_v13.csv"), str(DATA / "factors" / "scope3_desnz2024.csv")]
    fx, cpi = DATA / "reference" / "economics" / "fx_annual.csv", DATA / "reference" / "economics" / "price_index.csv"
    return f"""
WITH f AS (SELECT kind, subject, use, value, year FROM read_csv({factors!r}, header = true, all_varchar = true,
                                                                union_by_name = true)),
fx AS (SELECT currency, CAST(year AS INTEGER) AS year,
              CASE WHEN unit = 'USD/' || currency THEN 1 / CAST(value AS DOUBLE) ELSE CAST(value AS DOUBLE) END AS per_usd
       FROM read_csv('{fx}', header = true, all_varchar = true)
       UNION ALL SELECT 'USD', y, 1.0 FROM range(1990, 2101) t(y)),
cpi AS (SELECT CAST(year AS INTEGER) AS year, CAST(value AS DOUBLE) AS value
        FROM read_csv('{cpi}', header = true, all_varchar = true) WHERE "index" = 'US_CPI_U'),
p AS (SELECT * FROM read_csv('{purchase_glob}', header = true, all_varchar = true)),
s AS (SELECT * FROM read_csv('{shipment_glob}', header = true, all_varchar = true)),
purchase_kg AS (
  SELECT CASE WHEN p.category = '2' THEN 'c2_capital_goods' ELSE 'c1_purchased_goods' END AS category,
         CASE WHEN p.supplier_co2e IS NOT NULL THEN 'supplier_specific'
              WHEN p.material IS NOT NULL THEN 'average_data' ELSE 'spend_based' END AS method,
         CASE WHEN p.supplier_co2e IS NOT NULL THEN CAST(p.supplier_co2e AS DOUBLE)
              WHEN p.material IS NOT NULL
                THEN CAST(p.quantity AS DOUBLE) * (CASE p.unit WHEN 'kg' THEN 0.001 ELSE 1.0 END)
                     * CAST(m.value AS DOUBLE)
              ELSE CAST(p.spend AS DOUBLE) / fx.per_usd * (c_to.value / c_from.value) * CAST(e.value AS DOUBLE)
         END AS kg
  FROM p
  LEFT JOIN f e ON e.kind = 'eeio' AND e.use = 'with_margins' AND e.subject = p.eeio_code
  LEFT JOIN fx ON fx.currency = p.currency AND fx.year = CAST(p.price_year AS INTEGER)
  LEFT JOIN cpi c_from ON c_from.year = CAST(p.price_year AS INTEGER)
  LEFT JOIN cpi c_to ON c_to.year = CAST(e.year AS INTEGER)
  LEFT JOIN f m ON m.kind = 'material' AND m.use = 'primary' AND m.subject = p.material),
shipment_kg AS (
  SELECT CASE WHEN s.category = '9' THEN 'c9_downstream_transport' ELSE 'c4_upstream_transport' END AS category,
         CASE WHEN s.carrier_co2e IS NOT NULL THEN 'carrier_reported' ELSE 'distance_based' END AS method,
         CASE WHEN s.carrier_co2e IS NOT NULL THEN CAST(s.carrier_co2e AS DOUBLE)
              ELSE CAST(s.mass AS DOUBLE) * CAST(s.distance AS DOUBLE)
                   * (CAST(ttw.value AS DOUBLE) + CAST(wtt.value AS DOUBLE)) END AS kg
  FROM s
  LEFT JOIN f ttw ON ttw.kind = 'freight' AND ttw.use = 'ttw' AND ttw.subject = s.mode || '.' || s.vehicle
  LEFT JOIN f wtt ON wtt.kind = 'freight' AND wtt.use = 'wtt' AND wtt.subject = s.mode || '.' || s.vehicle)
SELECT category, method, SUM(kg) / 1000 AS co2e_t, COUNT(*) AS n, COUNT(kg) AS n_computed
FROM (SELECT * FROM purchase_kg UNION ALL SELECT * FROM shipment_kg)
GROUP BY category, method ORDER BY category, method
"""


def run_duckdb(folder: Path) -> dict:
    import duckdb

    sql = duckdb_sql(str(folder / "purchase_*.csv"), str(folder / "shipment_*.csv"))
    t = time.perf_counter()
    rows = duckdb.connect().execute(sql).fetchall()
    seconds = time.perf_counter() - t
    missing = [r for r in rows if r[3] != r[4]]
    if missing:
        raise SystemExit(f"the DuckDB query found no factor for some rows: {missing}")
    return {"seconds": seconds, "sums": {f"{c}|{m}": t_ for c, m, t_, _, _ in rows}}


def run_core(url: str) -> dict:
    """compute_inventory alone, on the activity frames stored by the imports (loaded before the clock starts)."""
    import resource

    from zerocarbon.core.ghg.inventory import compute_inventory
    from zerocarbon.services import factor_sets
    from zerocarbon.services.database import open_sessions
    from zerocarbon.store import repos

    sessions = open_sessions(url, create=False)
    fs = factor_sets.resolve(sessions, "CN-2025.1", "B")
    with sessions.begin() as s:
        org_id, org = repos.load_organisation(s, "B")
        stored = repos.load_activities(s, org_id, YEAR)
    t = time.perf_counter()
    result = compute_inventory(org, stored.data, fs, YEAR, "AR5")
    seconds = time.perf_counter() - t
    led = result.ledger[(result.ledger["scope"] == "3").to_numpy()]
    sums = led.groupby(["category", "calc_method"], observed=True)["co2e_t"].sum()
    return {"seconds": seconds, "ledger_rows": len(result.ledger), "scope3_rows": len(led),
            "sums": {f"{c}|{m}": float(v) for (c, m), v in sums.items()},
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(what: str, arg: str, repeat: int) -> None:
    runs = [run_duckdb(Path(arg)) if what == "duckdb" else run_core(arg) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    if what == "duckdb":
        import resource

        best["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(best))


def in_child(what: str, arg: str, repeat: int) -> dict:
    import subprocess

    out = subprocess.run([sys.executable, __file__, "--child", what, "--child-arg", arg, "--repeat", str(repeat)],
                         capture_output=True, text=True, env=child_env())
    if out.returncode != 0:
        raise SystemExit(f"{what} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine_info() -> dict:
    """``inventory_stored.machine()`` plus the CPU model /proc/cpuinfo names."""
    info = machine()
    try:
        info["cpu_model"] = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                                 if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return info


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--purchases", type=int, default=1_000_000)
    ap.add_argument("--shipments", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=10, help="CSV files per kind")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the core compute and of DuckDB (best is kept)")
    ap.add_argument("--out", default=str(OUT / "scope3"), help="folder for the files and the SQLite database")
    ap.add_argument("--child", choices=["duckdb", "core"], help=argparse.SUPPRESS)
    ap.add_argument("--child-arg", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child, a.child_arg, a.repeat)
        return
    folder = Path(a.out)
    files = write_files(a.purchases, a.shipments, a.files, folder / "files")
    print(f"{a.purchases:,} purchase lines and {a.shipments:,} shipment legs in {2 * a.files} CSV files; "
          f"{machine_info()}", flush=True)
    db = folder / "bench.sqlite"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    env = child_env()
    steps = [("org load", run_cli(["org", "load", str(folder / "files" / "organisation.yaml"), "--db", url], env))]
    for kind, paths in files.items():
        for p in paths:
            steps.append((f"import {kind} {p.name}", run_cli(["import", kind, str(p), "--org", "B", "--year",
                                                              str(YEAR), "--db", url, "--json"], env)))
    steps.append(("inventory compute", run_cli(["inventory", "compute", "--org", "B", "--year", str(YEAR),
                                                "--db", url, "--json"], env)))
    for label, s in steps:
        print(f"  {label:34s} {s['seconds']:8.2f} s  peak {s['peak_rss_mb']:7.0f} MB", flush=True)
    core = in_child("core", url, a.repeat)
    print(f"  core compute_inventory alone        {core['seconds']:8.2f} s  peak {core['peak_rss_mb']:7.0f} MB "
          f"({core['ledger_rows']:,} ledger rows)", flush=True)
    duck = in_child("duckdb", str(folder / "files"), a.repeat)
    print(f"  (b) DuckDB hand-written query       {duck['seconds']:8.2f} s  peak {duck['peak_rss_mb']:7.0f} MB",
          flush=True)
    for key in sorted(set(core["sums"]) | set(duck["sums"])):
        got, want = core["sums"].get(key), duck["sums"].get(key)
        if key.startswith("c3_"):
            continue  # no fuel or electricity here: nothing in category 3 (and DuckDB does not compute it)
        assert got is not None and want is not None and abs(got - want) <= 1e-9 * abs(want), (key, got, want)
    imports = sum(s["seconds"] for label, s in steps if label.startswith("import"))
    compute = steps[-1][1]["seconds"]
    ratios = {"compute_cli_vs_duckdb": compute / duck["seconds"],
              "imports_and_compute_cli_vs_duckdb": (imports + compute) / duck["seconds"],
              "core_compute_vs_duckdb": core["seconds"] / duck["seconds"]}
    print(f"  same tCO2e per category and method in both; ratios to DuckDB: CLI compute "
          f"{ratios['compute_cli_vs_duckdb']:.1f}x, imports + compute {ratios['imports_and_compute_cli_vs_duckdb']:.1f}x, "
          f"core compute {ratios['core_compute_vs_duckdb']:.2f}x", flush=True)
    results = {"purchases": a.purchases, "shipments": a.shipments, "files": 2 * a.files, "machine": machine_info(),
               "steps": [{"step": label, "seconds": s["seconds"], "peak_rss_mb": s["peak_rss_mb"]}
                         for label, s in steps],
               "imports_seconds_total": imports, "database_mb": db.stat().st_size / 1024 ** 2,
               "core": {k: v for k, v in core.items() if k != "sums"},
               "duckdb": {k: v for k, v in duck.items() if k != "sums"}, "ratios": ratios,
               "scope3_t": {k: v for k, v in sorted(duck["sums"].items())}}
    OUT.mkdir(exist_ok=True)
    (OUT / "scope3.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
