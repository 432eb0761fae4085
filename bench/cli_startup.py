"""Start-up time of `zerocarbon --help` beside the floor it cannot beat (Python + typer) and beside loading the
heavy libraries the commands use (what `--help` cost when everything loaded up front).

    python bench/cli_startup.py [--runs 15]

Prints a Markdown table: median and best wall time of each command over the runs, and the ratio to the floor.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

CASES = {
    "python -c pass (interpreter)": [sys.executable, "-c", "pass"],
    "python -c 'import typer, rich' (floor)": [sys.executable, "-c", "import typer, rich.console"],
    "zerocarbon --help": [sys.executable, "-m", "zerocarbon.cli", "--help"],
    "import pandas, sqlalchemy, ortools, matplotlib, sklearn": [
        sys.executable, "-c", "import pandas, sqlalchemy, ortools.sat.python.cp_model, matplotlib.pyplot, sklearn.ensemble"],
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    runs = ap.parse_args().runs
    times: dict[str, list[float]] = {k: [] for k in CASES}
    for _ in range(runs):  # interleaved, so load on the machine hits every case alike
        for name, cmd in CASES.items():
            t = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - t)
    floor = statistics.median(times["python -c 'import typer, rich' (floor)"])
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{runs} runs each\n")
    print("| command | median s | best s | x floor |\n|---|---:|---:|---:|")
    for name, ts in times.items():
        print(f"| `{name}` | {statistics.median(ts):.3f} | {min(ts):.3f} | {statistics.median(ts) / floor:.2f} |")


if __name__ == "__main__":
    main()
