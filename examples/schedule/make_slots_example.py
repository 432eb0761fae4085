"""Write one_line_day_15min.json: one SMT line over one day of 96 quarter-hour slots, for the exact slot model.

Run from the repository root: ``PYTHONPATH=src python examples/schedule/make_slots_example.py`` (numpy, fixed seed
2026; the file is written again byte for byte).

Sourced series: the Anhui summer time-of-use tariff (``data/reference/factory/tou_tariffs.csv``, each hourly price
held for its four quarter-hours) and the CN-2025.1 location-based grid factor for an Anhui site (East China grid),
constant by slot because no sourced intraday profile exists for China. Generator parameters (assumptions, not
data): the line, the orders and their power profiles (a first quarter-hour heating peak, then steady power), and
the PV of this line's share of the roof (80 kW peak, sine from 06 to 19 h).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from zerocarbon.core.factors import load_factor_set
from zerocarbon.core.model import Site
from zerocarbon.services.demo_plant import anhui_summer_prices

OUT = Path(__file__).with_name("one_line_day_15min.json")
STEP = 15
SLOTS = 1440 // STEP
PROFILES = {"consumer": [90, 60], "gaming": [110, 75]}  # kW per quarter-hour from the start; the last value holds


def example(seed: int = 2026, n_orders: int = 14) -> dict:
    rng = np.random.default_rng(seed)
    orders = []
    for i in range(n_orders):
        fam = "gaming" if rng.random() < 0.3 else "consumer"
        due = int(rng.choice([720, 1080, 1440, 1440, 1440]))
        orders.append({"id": f"D{i + 1:02d}", "family": fam, "quantity": int(rng.integers(60, 200)),
                       "release_min": int(rng.choice([0, 0, 360])), "due_min": due, "power_kw": PROFILES[fam]})
    grid = load_factor_set("CN-2025.1").grid_factor(
        "location", 2026, Site("HF", "Hefei", country="CN", province="安徽", grid_region="east")).factor
    hourly = anhui_summer_prices(24)
    price = [hourly[s * STEP // 60] for s in range(SLOTS)]
    pv = [round(80 * max(0.0, math.sin(math.pi * ((s * STEP + STEP / 2) / 60 - 6) / 13)), 1) for s in range(SLOTS)]
    return {"name": "smt-line-day-15min", "start": "2026-08-03T00:00:00+08:00", "horizon_min": 1440,
            "stages": ["SMT"], "start_on_grid": True,
            "lines": [{"id": "SMT1", "stage": "SMT", "run_kw": 60, "idle_kw": 40, "standby_kw": 5, "warmup_min": 30,
                       "warmup_kwh": 20, "rates": {"consumer": 200, "gaming": 150}}],
            "orders": orders,
            "series": {"step_min": STEP, "currency": "CNY", "price": price, "carbon": [grid.value] * SLOTS,
                       "pv_kw": pv},
            "sources": {"price": "Anhui TOU summer 2026-07 (data/reference/factory/tou_tariffs.csv), CNY/kWh, "
                                 "each hour's price held for its four quarter-hours",
                        "carbon": f"{grid.factor_id} ({grid.unit}), constant by slot",
                        "pv_kw": "generator assumption: 80 kW peak, sine from 06 to 19 h, mean per quarter-hour",
                        "power_kw": "generator assumption: first quarter-hour heating peak, then steady power"}}


if __name__ == "__main__":
    OUT.write_text(json.dumps(example(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
