"""A seeded laptop-plant week for the scheduler (the demo group's Hefei plant, one line group).

Sourced inputs (``data/reference/factory``):
- Anhui time-of-use tariff, summer (Jul-Sep), 1-10 kV two-part industrial, 2026-07 prices: flat 0.6352,
  valley 0.3596 (02-09 h, 11-13 h), peak 1.011 (16-24 h), critical peak 1.1754 (20-22 h, 15 Jul-31 Aug)
  CNY/kWh (皖发改价格〔2025〕302号 as applied by State Grid Anhui; critical-peak rule UNVERIFIED);
- wave-solder heat-up from cold: 35 kWh over 200 min; idle with the pot molten: 5 kW (measured, thesis
  excerpt) — used for the SMT lines' warm-up energy;
- grid carbon intensity: MEE/NBS 华东 regional factor (latest published year), constant by hour because
  no sourced hourly profile exists for China; hourly values are accepted by the problem format.

Generator parameters (assumptions, not data): line powers, rates, changeovers, order sizes and dates,
a 250 kW-peak PV share for this line group, the 300 kW cap. Week: Mon 2026-08-03 to Sun 2026-08-09,
lines may work Mon 00:00 to Sat 24:00.
"""
from __future__ import annotations

import csv
import math
from importlib import resources

import numpy as np

from zerocarbon.core.factors import load_factor_set
from zerocarbon.core.model import Site

STAGES = ["SMT", "ASSY", "TEST", "PACK"]
FAMILIES = ["consumer", "commercial", "gaming"]
LINES = [
    # id, stage, run, idle, standby kW, warm-up min, warm-up kWh, units/h per family, changeover min, kWh
    ("SMT1", "SMT", 60, 40, 5, 60, 35, {"consumer": 200, "commercial": 180, "gaming": 150}, 45, 20),
    ("SMT2", "SMT", 60, 40, 5, 60, 35, {"consumer": 200, "commercial": 180}, 45, 20),
    ("ASSY1", "ASSY", 35, 20, 3, 10, 3, {"consumer": 180, "commercial": 160, "gaming": 140}, 20, 5),
    ("ASSY2", "ASSY", 35, 20, 3, 10, 3, {"consumer": 180, "commercial": 160, "gaming": 140}, 20, 5),
    ("TEST1", "TEST", 80, 25, 4, 15, 8, {"consumer": 260, "commercial": 240, "gaming": 220}, 10, 2),
    ("PACK1", "PACK", 20, 10, 2, 5, 1, {"consumer": 320, "commercial": 300, "gaming": 280}, 5, 1),
]
WEEK_START = "2026-08-03T00:00:00+08:00"
HORIZON = 7 * 1440
WORK_END = 6 * 1440


def anhui_summer_prices(hours: int, critical_peak: bool = True) -> list[float]:
    rows = []
    path = resources.files("zerocarbon") / "data" / "reference" / "factory" / "tou_tariffs.csv"
    with path.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["province"] == "Anhui" and r["season_months"] in ("7-9", "7/15-8/31") and r["price_cny_per_kwh"]:
                rows.append(r)
    by_hour = [0.0] * 24
    for r in sorted(rows, key=lambda r: r["period"] == "critical_peak"):
        if r["period"] == "critical_peak" and not critical_peak:
            continue
        for h in range(int(r["hour_start"]), int(r["hour_end"])):
            by_hour[h] = float(r["price_cny_per_kwh"])
    return [by_hour[h % 24] for h in range(hours)]


def laptop_week(seed: int = 7, n_orders: int = 220) -> dict:
    rng = np.random.default_rng(seed)
    hours = HORIZON // 60
    lines = []
    for lid, stage, run, idle, stby, wmin, wkwh, rates, co_min, co_kwh in LINES:
        lines.append({"id": lid, "stage": stage, "run_kw": run, "idle_kw": idle, "standby_kw": stby,
                      "warmup_min": wmin, "warmup_kwh": wkwh, "rates": rates, "calendar": [[0, WORK_END]],
                      "changeover": [{"from": a, "to": b, "minutes": co_min, "kwh": co_kwh}
                                     for a in rates for b in rates if a != b]})
    orders = []
    for i in range(n_orders):
        fam = str(rng.choice(FAMILIES, p=[0.55, 0.35, 0.10]))
        release = int(rng.integers(0, 4 * 1440) // 60 * 60)
        due = min(WORK_END, release + int(rng.integers(24, 60)) * 60)
        orders.append({"id": f"O{i + 1:03d}", "family": fam, "quantity": int(rng.integers(40, 200)),
                       "release_min": release, "due_min": due, "weight": int(rng.choice([1, 1, 1, 2, 3]))})
    fs = load_factor_set("CN-2025.1")
    grid = fs.grid_factor("location", 2026, Site("HF", "Hefei", country="CN", province="安徽", grid_region="east")).factor
    pv = [round(250 * max(0.0, math.sin(math.pi * ((h % 24) - 6) / 13)), 1) for h in range(hours)]
    return {"name": "laptop-week-hefei", "start": WEEK_START, "horizon_min": HORIZON, "stages": STAGES,
            "transfer_min": 30, "power_cap_kw": 300, "lines": lines, "orders": orders,
            "series": {"price": anhui_summer_prices(hours), "carbon": [grid.value] * hours, "pv_kw": pv},
            "sources": {"price": "Anhui TOU summer 2026-07 (see data/reference/factory/tou_tariffs.csv)",
                        "carbon": f"{grid.factor_id} ({grid.unit}), constant by hour",
                        "pv_kw": "generator assumption: 250 kW peak, sine from 06 to 19 h"}}


def large_plant_week(seed: int = 11, n_lines: int = 43, n_orders: int = 1300) -> dict:
    """A single-stage week on 43 final-assembly lines (LCFC ran 43 assembly lines, per the Lenovo DRL
    paper, INFORMS J. Applied Analytics 52(1), 2022). Families, rates and orders are generator parameters."""
    rng = np.random.default_rng(seed)
    families = [f"F{i}" for i in range(6)]
    lines = []
    for i in range(n_lines):
        fams = sorted(set(rng.choice(families, size=3, replace=True)))
        rate = int(rng.integers(120, 200))
        lines.append({"id": f"A{i + 1:02d}", "stage": "ASSY", "run_kw": 35, "idle_kw": 20, "standby_kw": 3,
                      "warmup_min": 10, "warmup_kwh": 3, "rates": {f: rate for f in fams},
                      "calendar": [[0, WORK_END]],
                      "changeover": [{"from": a, "to": b, "minutes": 30, "kwh": 5} for a in fams for b in fams if a != b]})
    eligible = {f for ln in lines for f in ln["rates"]}
    orders = []
    for i in range(n_orders):
        fam = str(rng.choice(sorted(eligible)))
        release = int(rng.integers(0, 4 * 1440) // 60 * 60)
        orders.append({"id": f"L{i + 1:04d}", "family": fam, "quantity": int(rng.integers(150, 700)),
                       "release_min": release, "due_min": min(WORK_END, release + int(rng.integers(24, 72)) * 60),
                       "weight": 1})
    hours = HORIZON // 60
    return {"name": "large-plant-43-lines", "start": WEEK_START, "horizon_min": HORIZON, "stages": ["ASSY"],
            "transfer_min": 0, "lines": lines, "orders": orders,
            "series": {"price": anhui_summer_prices(hours)}}
