"""The carbon-credits file (CSV/XLSX): one row per credit batch as the registry shows it (docs/claims.md).

All or nothing: every problem (file, row, column, reason) is collected and raised in one :class:`InputError`.
Rows are numbered as a spreadsheet shows them (the header is row 1).
"""
from __future__ import annotations

import math
import re
from datetime import date

from zerocarbon.core.neutrality import PROJECT_TYPES, Credit, overlaps, serial_count
from zerocarbon.errors import InputError, Problem
from zerocarbon.io.tables import read_upload

MAX_FILE_BYTES = 5 * 2**20
# Column -> accepted headers (English, snake case or with spaces, and Chinese).
COLUMNS = {
    "credit_id": ("credit_id", "id", "批次编号"),
    "programme": ("programme", "program", "standard", "减排机制"),
    "project_id": ("project_id", "project", "项目编号"),
    "project_type": ("project_type", "type", "项目类型"),
    "vintage": ("vintage", "vintage_year", "产生年份"),
    "serial_start": ("serial_start", "起始序列号"),
    "serial_end": ("serial_end", "结束序列号"),
    "serials": ("serials", "serial_list", "序列号"),
    "quantity_t": ("quantity_t", "quantity_tco2e", "quantity", "数量"),
    "verified_by": ("verified_by", "verifier", "核查机构"),
    "verification_date": ("verification_date", "核查日期"),
    "issued_date": ("issued_date", "issuance_date", "签发日期"),
    "additionality": ("additionality", "additionality_basis", "额外性依据"),
    "storage_years": ("storage_years", "storage_horizon_years", "封存年限"),
    "reversal_provision": ("reversal_provision", "buffer", "逆转保障"),
    "corresponding_adjustment": ("corresponding_adjustment", "相应调整"),
    "retirement_date": ("retirement_date", "注销日期"),
    "retirement_beneficiary": ("retirement_beneficiary", "beneficiary", "注销受益方"),
    "retired_for_subject": ("retired_for_subject", "retired_for", "注销用途主体"),
    "retired_for_period": ("retired_for_period", "注销用途年份"),
    "note": ("note", "备注"),
}
REQUIRED = ("credit_id", "programme", "project_id", "project_type", "vintage", "quantity_t")
CA_VALUES = ("applied", "not_applied", "not_applicable", "unknown")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
_RANGE = re.compile(r"^\s*(\d{1,18})\s*(?:-\s*(\d{1,18}))?\s*$")


def _int(text: str) -> int | None:
    return int(text) if re.fullmatch(r"\d{1,18}", text.strip()) else None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def _serials(r: dict, bad) -> tuple[tuple[int, int], ...]:
    """Serial ranges from serial_start/serial_end or from serials ("1001-1500; 2001; 3001-3010")."""
    if r["serials"] and (r["serial_start"] or r["serial_end"]):
        bad("serials", "give serials or serial_start/serial_end, not both")
        return ()
    if r["serials"]:
        out = []
        for part in re.split(r"[;,\s]+(?=\d)", r["serials"].strip()):
            m = _RANGE.match(part)
            if not m or int(m.group(2) or m.group(1)) < int(m.group(1)):
                bad("serials", f"'{part}' is not a serial or an increasing range a-b")
                return ()
            out.append((int(m.group(1)), int(m.group(2) or m.group(1))))
    else:
        start, end = _int(r["serial_start"]), _int(r["serial_end"])
        if start is None or end is None:
            bad("serial_start" if start is None else "serial_end",
                "give the numeric serial range (serial_start and serial_end) or serials")
            return ()
        if end < start:
            bad("serial_end", f"{end} is before serial_start {start}")
            return ()
        out = [(start, end)]
    ranges = tuple(sorted(out))
    if any(a[1] >= b[0] for a, b in zip(ranges, ranges[1:])):
        bad("serials", "ranges overlap within the row")
    return ranges


def _row(source: str, row: int, r: dict, problems: list[Problem]) -> Credit | None:
    def bad(col: str, reason: str) -> None:
        problems.append(Problem(source, row, col, reason))

    before = len(problems)
    if not _REF.match(r["credit_id"]):
        bad("credit_id", f"'{r['credit_id']}' is not an id (1-64 letters, digits, '.', '_', ':', '/', '-')"
            if r["credit_id"] else "is empty")
    for col in ("programme", "project_id"):
        if not r[col]:
            bad(col, "is empty")
    kind = r["project_type"].lower()
    if kind not in PROJECT_TYPES:
        bad("project_type", f"'{r['project_type']}' is not avoidance or removal")
    vintage = _int(r["vintage"])
    if vintage is None or not 1990 <= vintage <= 2100:
        bad("vintage", f"'{r['vintage']}' is not a year")
    try:
        qty = float(r["quantity_t"].replace(",", ""))
    except ValueError:
        qty = math.nan
    if not math.isfinite(qty) or qty <= 0:
        bad("quantity_t", f"'{r['quantity_t']}' is not a positive number of tCO2e")
    serials = _serials(r, bad)
    if serials and math.isfinite(qty) and qty > 0 and serial_count(serials) != qty:
        bad("quantity_t", f"{qty:g} tCO2e but the serials count {serial_count(serials)} credits (1 credit = 1 tCO2e)")
    dates = {}
    for col in ("verification_date", "issued_date", "retirement_date"):
        dates[col] = _date(r[col]) if r[col] else None
        if r[col] and dates[col] is None:
            bad(col, f"'{r[col]}' is not a date YYYY-MM-DD")
    storage = None
    if r["storage_years"]:
        storage = _int(r["storage_years"])
        if storage is None:
            bad("storage_years", f"'{r['storage_years']}' is not a whole number of years")
    ca = (r["corresponding_adjustment"] or "unknown").lower()
    if ca not in CA_VALUES:
        bad("corresponding_adjustment", f"'{r['corresponding_adjustment']}' is not one of {', '.join(CA_VALUES)}")
    period = None
    if r["retired_for_period"]:
        period = _int(r["retired_for_period"])
        if period is None:
            bad("retired_for_period", f"'{r['retired_for_period']}' is not a year")
    if dates["retirement_date"] and not (r["retirement_beneficiary"] and r["retired_for_subject"] and period):
        bad("retirement_beneficiary", "a retired credit needs retirement_beneficiary, retired_for_subject and "
                                      "retired_for_period, as the registry's retirement record shows them")
    if len(problems) > before:
        return None
    return Credit(r["credit_id"], r["programme"].upper(), r["project_id"], kind, vintage, serials, qty,
                  r["verified_by"], dates["verification_date"], dates["issued_date"], r["additionality"], storage,
                  r["reversal_provision"], ca, dates["retirement_date"], r["retirement_beneficiary"],
                  r["retired_for_subject"], period, r["note"])


def read_credits(source: str, data: bytes) -> list[Credit]:
    """The credits of an uploaded file, every row valid and no serial range used twice in the file."""
    df = read_upload(source, data, COLUMNS, REQUIRED, MAX_FILE_BYTES)
    problems: list[Problem] = []
    credits: list[tuple[int, Credit]] = []
    ids: dict[str, int] = {}
    for i, r in enumerate(df.to_dict("records")):
        row = i + 2
        c = _row(source, row, {k: str(v) for k, v in r.items()}, problems)
        if r["credit_id"] in ids:
            problems.append(Problem(source, row, "credit_id", f"{r['credit_id']} is listed twice (row "
                                                              f"{ids[r['credit_id']]})"))
        ids.setdefault(r["credit_id"], row)
        if c is None:
            continue
        for other_row, o in credits:
            if o.programme == c.programme and o.project_id == c.project_id:
                for a, b in overlaps(c.serials, o.serials):
                    problems.append(Problem(source, row, "serials", f"serials {a}-{b} are also in row {other_row} "
                                                                    f"(credit {o.ref}): double counting"))
        credits.append((row, c))
    if problems:
        raise InputError(problems)
    return [c for _, c in credits]
