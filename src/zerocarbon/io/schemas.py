"""Column schemas of every activity file, declared as data (name, type, unit, required, meaning).

``docs/data-formats.md`` is generated from these tables (``zerocarbon schema``), so code and docs
cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # str | float | date | bool | int
    required: bool
    description: str
    example: str
    check: str = ""  # nonneg | fraction | positive


def C(name, type_, required, description, example, check=""):  # noqa: N802 - table-like declarations
    return Column(name, type_, required, description, example, check)


COMMON = [
    C("site", "str", True, "site code, as declared in the organisation file", "TJ01"),
    C("period_start", "date", True, "first day of the period (inclusive), ISO date", "2025-01-01"),
    C("period_end", "date", True, "last day of the period (inclusive), ISO date", "2025-01-31"),
]

SCHEMAS: dict[str, list[Column]] = {
    "fuel": COMMON + [
        C("fuel", "str", True, "fuel key of the factor set (`zerocarbon factors list`)", "natural_gas"),
        C("use", "str", True, "stationary | mobile", "stationary"),
        C("quantity", "float", True, "amount of fuel", "1.25", "nonneg"),
        C("unit", "str", True, "unit of quantity: energy (GJ, mmBtu), mass (t), volume (L), gas amount "
                               "at stated conditions (Nm3 = 0 degC, Sm3 = 15 degC, scf, 万Nm3)", "万Nm3"),
        C("basis", "str", False, "NCV (=LHV) or GCV (=HHV); required when unit is an energy unit", "NCV"),
        C("biogenic", "bool", False, "true for biomass fuels: CO2 reported outside the scopes", "false"),
    ],
    "electricity": COMMON + [
        C("meter", "str", True, "meter id (revenue meter of the grid connection)", "TJ01-M-MAIN"),
        C("quantity", "float", True, "electricity bought from the grid", "1520000", "nonneg"),
        C("unit", "str", True, "energy unit", "kWh"),
    ],
    "heat": COMMON + [
        C("quantity", "float", True, "purchased heat or steam", "1200", "nonneg"),
        C("unit", "str", True, "energy unit", "GJ"),
        C("supplier_factor", "float", True, "supplier's emission factor of the heat", "0.11", "nonneg"),
        C("supplier_factor_unit", "str", True, "unit of supplier_factor: CO2 mass per energy", "t/GJ"),
        C("factor_source", "str", True, "where the supplier factor comes from (document, year)", "supplier letter 2025"),
    ],
    "refrigerant": COMMON + [
        C("gas", "str", True, "refrigerant: a gas or blend with a GWP in the set (R-410A, HFC-134a, SF6)", "R-410A"),
        C("method", "str", True, "mass_balance | screening", "mass_balance"),
        C("unit", "str", True, "mass unit of the amounts below", "kg"),
        C("inventory_start", "float", False, "stock in storage at period start (mass balance)", "120", "nonneg"),
        C("inventory_end", "float", False, "stock in storage at period end (mass balance)", "80", "nonneg"),
        C("purchased", "float", False, "purchased or received (mass balance)", "50", "nonneg"),
        C("recovered_or_sold", "float", False, "returned, recycled, sold or destroyed (mass balance)", "0", "nonneg"),
        C("capacity_change", "float", False, "charge of new minus retired equipment (mass balance; may be negative)", "0"),
        C("charge", "float", False, "equipment charge (screening)", "350", "nonneg"),
        C("annual_leak_rate", "float", False, "fraction of charge lost per year (screening)", "0.05", "fraction"),
        C("parameter_source", "str", False, "source of the leak rate or log (screening: required)", "maintenance log"),
    ],
    "process_gas": COMMON + [
        C("gas", "str", True, "CHF3, CH2F2, CF4, C2F6, C3F8, c-C4F8, C5F8, SF6 or NF3", "NF3"),
        C("consumed", "float", True, "gas fed to the process", "120", "nonneg"),
        C("unit", "str", True, "mass unit", "kg"),
        C("heel", "float", True, "fraction left in the cylinder (h)", "0.10", "fraction"),
        C("utilisation", "float", True, "fraction of gas used up in the process (U)", "0.8", "fraction"),
        C("abatement_fraction", "float", True, "fraction fed through abatement (a)", "0.9", "fraction"),
        C("destruction_efficiency", "float", True, "destruction efficiency of abatement (d)", "0.95", "fraction"),
        C("byproduct_cf4_rate", "float", False, "kg CF4 formed per kg gas (B)", "0.02", "fraction"),
        C("byproduct_c2f6_rate", "float", False, "kg C2F6 formed per kg gas (B)", "0", "fraction"),
        C("parameter_source", "str", True, "source of h, U, a, d, B (standard table, measurement)", "GB/T 32151.24 Annex"),
    ],
    "generation": COMMON + [
        C("technology", "str", True, "pv | wind | other", "pv"),
        C("generated", "float", True, "generated on site", "410000", "nonneg"),
        C("exported", "float", False, "exported to the grid (not self-consumed)", "12000", "nonneg"),
        C("unit", "str", True, "energy unit", "kWh"),
    ],
    "instrument": [
        C("instrument_id", "str", True, "unique id of the instrument (certificate batch, contract)", "GEC-2025-000123"),
        C("type", "str", True, "GEC | green_power_contract | I-REC | PPA", "GEC"),
        C("registry", "str", True, "issuing registry (serial numbers are unique within it)", "CN-GEC"),
        C("market", "str", True, "market boundary, country code", "CN"),
        C("volume", "float", True, "electricity the instrument represents", "5000", "positive"),
        C("unit", "str", True, "energy unit of volume (GEC: 1 certificate = 1 MWh)", "MWh"),
        C("vintage_start", "date", True, "first day of generation covered", "2025-01-01"),
        C("vintage_end", "date", True, "last day of generation covered", "2025-06-30"),
        C("serial_start", "int", False, "first certificate serial number", "1000001"),
        C("serial_end", "int", False, "last certificate serial number", "1005000"),
        C("retired_for_site", "str", True, "site the instrument is retired (cancelled) for", "TJ01"),
        C("retired_for_year", "int", True, "reporting year it is retired for", "2025"),
        C("emission_factor", "float", False, "kg CO2 per kWh of the contracted supply (0 for renewables)", "0", "nonneg"),
    ],
}

KINDS = tuple(SCHEMAS)
ENERGY_UNIT_KINDS = {"electricity", "heat", "generation", "instrument"}
MASS_UNIT_KINDS = {"refrigerant", "process_gas"}


def schema_markdown() -> str:
    lines = ["# Activity data formats", "",
             "Generated from `zerocarbon.io.schemas` by `zerocarbon schema`. CSV (UTF-8, header row) or XLSX "
             "(first sheet, header row). Row numbers in error messages count the header as row 1.", "",
             "Imports are all-or-nothing: if any row is wrong, nothing is written and every problem is listed "
             "with file, row, column and reason.", ""]
    for kind, cols in SCHEMAS.items():
        lines += [f"## {kind}", "", "| column | type | required | meaning | example |", "|---|---|---|---|---|"]
        for c in cols:
            lines.append(f"| `{c.name}` | {c.type} | {'yes' if c.required else 'no'} | {c.description} | `{c.example}` |")
        lines.append("")
    return "\n".join(lines)
