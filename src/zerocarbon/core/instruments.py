"""Contractual-instrument reference data: instrument types and generation technologies (shipped CSV files).

Kept apart from the Scope 2 calculation so that file schemas (and the command line) can list them without
loading pandas.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

_INSTRUMENTS = resources.files("zerocarbon") / "data" / "instruments"


@lru_cache(maxsize=1)
def instrument_technologies() -> dict[str, bool]:
    """Generation technology -> renewable, as declared in ``data/instruments/technologies.csv``."""
    with (_INSTRUMENTS / "technologies.csv").open(newline="", encoding="utf-8") as f:
        return {r["technology"]: r["renewable"] == "true" for r in csv.DictReader(f)}


@lru_cache(maxsize=1)
def instrument_types() -> dict[str, float | None]:
    """Instrument type -> MWh per certificate (None: not a per-MWh certificate), from ``types.csv``."""
    with (_INSTRUMENTS / "types.csv").open(newline="", encoding="utf-8") as f:
        return {r["type"]: float(r["mwh_per_certificate"]) if r["mwh_per_certificate"] else None
                for r in csv.DictReader(f)}
