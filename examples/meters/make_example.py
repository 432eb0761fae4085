"""Write the example meter files of ACME's Tianjin plant (TJ01) into this folder (or the folder given).

    python examples/meters/make_example.py [OUT_DIR]

The plant is fictitious and every number below is a generator parameter, not a measurement. TJ01 runs two
12-hour shifts (day 08-20, night 20-08) from Monday 08:00 to Saturday 08:00, with a meal break of 45 minutes
in each shift. Three production lines have their own sub-meters: two SMT lines (placement machines and a
reflow oven) and a burn-in/run-in test line. Until Friday 3 July 2026 the SMT lines are left powered at
weekends with their reflow ovens hot (idle running); from Saturday 4 July they go to standby at weekends and
warm up from Monday 06:00. The example has no holiday shutdown: days with the ovens off would not fit the
daily energy-vs-output baseline the README fits, and the baseline command has no way to leave days out.
The revenue meter measures the lines plus the rest of the plant (four more SMT lines without sub-meters, run
like the two metered ones, other lines, clean-room air handling, compressed air, lighting, offices). The example has no weather-driven load, so it needs no temperature file.

Files written (the committed copies are this script's output with the fixed seed; numpy's Generator,
numpy 2.x as pinned in requirements.lock):

- readings_2026-06.csv   plant SCADA export, default layout (meter,timestamp,value,unit), interval-start
                         local stamps, all four meters, 1-28 June 2026
- utility_TJ01-M-MAIN_2026.csv   the utility's export of the revenue meter, 1 January - 31 July 2026:
                         day-first stamps marking the interval end, one meter per file
- production_2026-06.csv 15-minute good units per line (wide: timestamp + one column per line), June
- production_daily_2026.csv  daily good units per line, 1 January - 31 July 2026
"""
from __future__ import annotations

import csv
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

SEED = 2026
FIRST, LAST = date(2026, 1, 1), date(2026, 7, 31)  # the revenue meter's history, local days included
SUBMETERS_FROM, SUBMETERS_TO = date(2026, 6, 1), date(2026, 6, 28)  # four weeks, Monday to Sunday
WEEKEND_STANDBY_FROM = date(2026, 7, 4)  # first weekend with the SMT lines in standby

# line id: (producing kW, idle kW, standby kW, good units per producing hour)
LINES = {"SMT1": (110.0, 75.0, 6.0, 200.0), "SMT2": (105.0, 72.0, 6.0, 180.0), "TEST1": (160.0, 40.0, 5.0, 160.0)}
# the rest of the plant behind the revenue meter [kW]: day shift, night shift, weekend (clean-room air handling,
# compressed air and lighting kept on)
REST_KW = {"day": 1850.0, "night": 1600.0, "weekend": 900.0}
# four more SMT lines in the same hall without sub-meters, run (and left idle at weekends) like SMT1 and SMT2
OTHER_SMT_LINES, OTHER_SMT_IDLE_KW, OTHER_SMT_STANDBY_KW = 4, 74.0, 6.0
NIGHT_OUTPUT = 0.93  # night-shift output relative to the day shift
STOP_SHARE = 0.04  # share of producing quarter-hours lost to short stops (line powered, no output)


def quarter_hours() -> list[datetime]:
    start = datetime.combine(FIRST, datetime.min.time())
    return [start + timedelta(minutes=15 * i) for i in range(((LAST - FIRST).days + 1) * 96)]


def in_shift(t: datetime) -> bool:
    """Monday 08:00 to Saturday 08:00."""
    return 8 <= t.weekday() * 24 + t.hour < 5 * 24 + 8


def meal_break(t: datetime) -> bool:
    minute = t.hour * 60 + t.minute
    return 12 * 60 <= minute < 12 * 60 + 45 or minute < 45


def generate() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED)
    stamps = quarter_hours()
    n = len(stamps)
    shift = np.array([in_shift(t) for t in stamps])
    window = shift & ~np.array([meal_break(t) for t in stamps])
    night = np.array([t.hour < 8 or t.hour >= 20 for t in stamps])
    weekend = ~shift
    after_fix = np.array([t.date() >= WEEKEND_STANDBY_FROM for t in stamps])
    monday_warmup = np.array([t.weekday() == 0 and 6 <= t.hour < 8 for t in stamps])
    day_level = rng.normal(1.0, 0.015, n // 96).repeat(96)  # day-to-day variation of the rest of the plant
    out: dict[str, np.ndarray] = {}
    kwh_lines = np.zeros(n)
    for line, (run_kw, idle_kw, standby_kw, rate) in LINES.items():
        producing = window & (rng.random(n) >= STOP_SHARE)
        if line.startswith("SMT"):
            # Ovens stay hot all week, and at weekends until the fix (after it, they warm up from Monday 06:00).
            powered = ~(weekend & after_fix & ~monday_warmup)
        else:
            powered = shift
        kw = np.where(producing, run_kw * rng.normal(1.0, 0.04, n), np.where(powered, idle_kw, standby_kw))
        kwh = np.round(kw * 0.25, 2)
        units = np.where(producing, np.round(rate * 0.25 * np.where(night, NIGHT_OUTPUT, 1.0)
                                             * rng.normal(1.0, 0.05, n)), 0)
        out[line] = kwh
        out[f"units_{line}"] = units
        kwh_lines += kwh
    rest_kw = np.where(weekend, REST_KW["weekend"], np.where(night, REST_KW["night"], REST_KW["day"]))
    smt_idle = weekend & ~(after_fix & ~monday_warmup)
    rest_kw = rest_kw + OTHER_SMT_LINES * np.where(smt_idle, OTHER_SMT_IDLE_KW,
                                                   np.where(weekend, OTHER_SMT_STANDBY_KW, 0.0))
    rest = rest_kw * day_level * rng.normal(1.0, 0.03, n) * 0.25
    out["TJ01-M-MAIN"] = np.round(kwh_lines + rest, 2)
    out["stamps"] = np.array(stamps, dtype=object)
    return out


def write(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = generate()
    stamps = data["stamps"]
    june = [i for i, t in enumerate(stamps) if SUBMETERS_FROM <= t.date() <= SUBMETERS_TO]
    with open(folder / "readings_2026-06.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["meter", "timestamp", "value", "unit"])
        for meter, key in (("TJ01-M-MAIN", "TJ01-M-MAIN"), *((f"TJ01-{x}", x) for x in LINES)):
            for i in june:
                w.writerow([meter, stamps[i].strftime("%Y-%m-%d %H:%M"), f"{data[key][i]:.2f}", "kWh"])
    with open(folder / "utility_TJ01-M-MAIN_2026.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Reading end", "Active import kWh"])
        for t, v in zip(stamps, data["TJ01-M-MAIN"]):
            w.writerow([(t + timedelta(minutes=15)).strftime("%d/%m/%Y %H:%M"), f"{v:.2f}"])
    with open(folder / "production_2026-06.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["timestamp", *LINES])
        for i in june:
            w.writerow([stamps[i].strftime("%Y-%m-%d %H:%M"), *(f"{data[f'units_{x}'][i]:.0f}" for x in LINES)])
    with open(folder / "production_daily_2026.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["timestamp", *LINES])
        for d in range(len(stamps) // 96):
            day = slice(d * 96, (d + 1) * 96)
            w.writerow([stamps[d * 96].strftime("%Y-%m-%d %H:%M"),
                        *(f"{data[f'units_{x}'][day].sum():.0f}" for x in LINES)])


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
