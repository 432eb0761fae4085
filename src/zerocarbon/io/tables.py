"""Read activity files (CSV, XLSX) and validate them cell by cell against ``io.schemas``.

Validation collects *every* problem (file, row, column, reason) and raises one
:class:`~zerocarbon.errors.InputError`; nothing is returned half-checked. Row numbers follow the
spreadsheet convention: the header is row 1, the first data row is row 2.
"""
from __future__ import annotations

import io
import tempfile
from pathlib import Path
from zipfile import BadZipFile

import numpy as np
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from zerocarbon.core.factors import FactorSet
from zerocarbon.core.ghg.combustion import fuel_route, is_combustion_use, normalise_basis
from zerocarbon.core.ghg.electricity import claim_reason, double_claims
from zerocarbon.core.instruments import instrument_technologies, instrument_types
from zerocarbon.core.ghg.fugitive import negative_mass_balances
from zerocarbon.core.ghg.scope3 import supplier_unit_mismatch
from zerocarbon.errors import FactorNotFoundError, InputError, Problem, ZerocarbonError
from zerocarbon.limits import MAX_ROWS_ENV, max_rows
from zerocarbon.io.schemas import (CHOICES, CURRENCIES, ENERGY_UNIT_KINDS, FALSE, MASS_UNIT_KINDS, SCHEMAS, SPEND,
                                   SUPPLY_KINDS, TRUE, UNIT_COLUMNS, Column, header_map, number_text)
from zerocarbon.units import parse_unit, scale, scales

# Excel in Chinese saves "CSV" in the system code page (GBK); GB18030 is its superset.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def read_table(path: str | Path, sheet: str | None = None) -> pd.DataFrame:
    """Every cell as text (so validation, not the reader, decides what a cell means).

    CSV: UTF-8 (with or without BOM) or GB18030/GBK, detected in that order. XLSX: the only sheet
    that has cells, or ``sheet``; a workbook with several is refused without ``sheet`` rather than
    read in part.
    """
    path = Path(path)
    limit = max_rows()
    if path.is_dir():
        raise InputError([Problem(str(path), None, None, "is a folder, not a file; give the CSV or XLSX file to import")])
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, "file not found")])
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            if sheet is not None:
                raise InputError([Problem(str(path), None, None, f"--sheet '{sheet}' applies to XLSX workbooks; "
                                                                 "this is a CSV file")])
            # One row past the limit is enough to refuse the file: the rest is never parsed.
            df = pd.read_csv(io.StringIO(_decode(path)), dtype=str, keep_default_na=False, nrows=limit + 1)
        elif suffix in (".xlsx", ".xlsm"):
            sheet = _pick_sheet(path, sheet)
            df = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False, engine="openpyxl",
                               nrows=limit + 1)
            _refuse_formulas_without_values(path, sheet, df)
        else:
            raise InputError([Problem(str(path), None, None, f"unsupported file type '{suffix}'; use .csv or .xlsx")])
    except pd.errors.EmptyDataError:
        raise InputError([Problem(str(path), None, None, "file is empty")]) from None
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, OSError, KeyError, BadZipFile,
            InvalidFileException) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError([Problem(str(path), None, None, f"cannot be read as {suffix}: {exc}")]) from None
    if len(df) > limit:
        raise InputError([Problem(str(path), None, None, f"has more than {limit:,} data rows, the most one file may "
                                                         f"hold ({MAX_ROWS_ENV}); split it into several files")])
    df.columns = [str(c).strip() for c in df.columns]
    return df.map(lambda v: v.strip() if isinstance(v, str) else v)


def read_upload(source: str, data: bytes, columns: dict[str, tuple[str, ...]], required: tuple[str, ...],
                max_bytes: int) -> pd.DataFrame:
    """The table of an uploaded CSV/XLSX named ``source`` as text cells under canonical column names.

    ``columns`` maps each canonical name to the headers accepted for it (English and Chinese, lower case with
    underscores); an unknown or repeated header, a missing required column or a file without data rows is
    refused with every problem at once. Optional columns that are absent come back empty."""
    if len(data) > max_bytes:
        raise InputError([Problem(source, None, None, f"is larger than {max_bytes // 2**20} MB")])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{Path(source).suffix.lower() or '.csv'}"
        path.write_bytes(data)
        try:
            df = read_table(path)
        except InputError as exc:
            raise InputError([Problem(source, p.row, p.column, p.reason) for p in exc.problems]) from None
    alias = {a: canon for canon, names in columns.items() for a in names}
    rename, problems = {}, []
    for c in df.columns:
        key = str(c).strip().lower().replace(" ", "_")
        if key not in alias:
            problems.append(Problem(source, 1, str(c), f"unknown column; the columns are {', '.join(columns)}"))
        elif alias[key] in rename.values():
            problems.append(Problem(source, 1, str(c), f"column '{alias[key]}' is given twice"))
        else:
            rename[c] = alias[key]
    df = df.rename(columns=rename)
    problems += [Problem(source, 1, c, "required column is missing") for c in required if c not in df.columns]
    if not problems and len(df) == 0:
        problems.append(Problem(source, None, None, "has no data rows"))
    if problems:
        raise InputError(problems)
    for c in columns:
        if c not in df.columns:
            df[c] = ""
    return df


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError([Problem(str(path), None, None, "file is UTF-16 (Excel 'Unicode text'); save it as "
                                                         "'CSV UTF-8' instead")])
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError([Problem(str(path), None, None, "text is neither UTF-8 nor GB18030/GBK; save it as 'CSV UTF-8'")])


def _pick_sheet(path: Path, sheet: str | None) -> str:
    """The sheet to read; refuses to guess between several sheets that hold cells."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        names = wb.sheetnames
        if sheet is not None:
            if sheet not in names:
                raise InputError([Problem(str(path), None, None, f"no sheet '{sheet}' in the workbook; its sheets: "
                                                                 + ", ".join(f"'{n}'" for n in names))])
            return sheet
        # A blank sheet (as older Excel adds by default) holds nothing to lose, so it does not count.
        used = [ws.title for ws in wb.worksheets
                if any(v is not None for row in ws.iter_rows(values_only=True) for v in row)]
    finally:
        wb.close()
    if len(used) > 1:
        raise InputError([Problem(str(path), None, None, f"the workbook has {len(used)} sheets with data ("
                                                         + ", ".join(f"'{n}'" for n in used)
                                                         + "); pass --sheet NAME to say which one to import")])
    return used[0] if used else names[0]


def _refuse_formulas_without_values(path: Path, sheet: str, df: pd.DataFrame) -> None:
    """A formula cell is read by its value as Excel last saved it; a workbook written by a program other than
    a spreadsheet (or never recalculated) has none, and the cell would read as empty."""
    if not (df == "").to_numpy().any():
        return
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=False)
    formulas = []
    try:
        # Positions relative to the first row and column read (the header's), as pandas reads them.
        first_row = first_col = None
        for row in wb[sheet].iter_rows():
            for c in row:
                if getattr(c, "row", None) is None:  # an empty cell of a read-only sheet has no position
                    continue
                if first_row is None:
                    first_row, first_col = c.row, c.column
                if c.data_type == "f":
                    formulas.append((c.row - first_row - 1, c.column - first_col, c.value))
    finally:
        wb.close()
    problems = []
    for i, j, formula in formulas:
        if 0 <= i < len(df) and 0 <= j < df.shape[1] and df.iat[i, j] == "":
            problems.append(Problem(str(path), i + 2, str(df.columns[j]).strip(),
                                    f"the cell holds a formula ({formula}) without a saved value: open and save the "
                                    "file in Excel (or WPS, LibreOffice) so the value is stored, or paste values "
                                    "instead of formulas"))
    if problems:
        raise InputError(problems)


class _Checker:
    def __init__(self, source: str, raw: pd.DataFrame):
        self.source, self.raw, self.problems = source, raw, []
        self.rownum = np.arange(2, len(raw) + 2)

    def add(self, mask, column: str | None, reason: str | callable) -> None:
        idx = np.flatnonzero(np.asarray(mask))
        for i in idx[:200]:
            text = reason(i) if callable(reason) else reason
            self.problems.append(Problem(self.source, int(self.rownum[i]), column, text))

    def number(self, col: str, whole: bool = False) -> pd.Series:
        """Parsed numbers; anything that is not a finite number (inf, nan, 1e309) is a problem and NaN."""
        s = self.raw[col]
        out = pd.to_numeric(s.replace("", np.nan), errors="coerce").astype(float)
        bad = out.isna() & (s != "")
        self.add(bad, col, lambda i: f"'{s.iat[i]}' is not a number")
        infinite = np.isinf(out.to_numpy())
        self.add(infinite, col, lambda i: f"'{s.iat[i]}' is not a finite number")
        out[infinite] = np.nan
        if whole:
            self.add(out.notna() & (out % 1 != 0), col, lambda i: f"'{s.iat[i]}' is not a whole number")
        return out

    def date(self, col: str) -> pd.Series:
        s = self.raw[col]
        out = pd.to_datetime(s.replace("", np.nan), errors="coerce", format="ISO8601")
        bad = out.isna() & (s != "")
        self.add(bad, col, lambda i: f"'{s.iat[i]}' is not an ISO date (YYYY-MM-DD)")
        return out

    def boolean(self, col: str, unstated: bool = False) -> pd.Series:
        """True/False per row; with ``unstated``, a blank cell stays None (not said) instead of False."""
        s = self.raw[col].str.lower()
        bad = ~s.isin(TRUE | FALSE)
        self.add(bad, col, lambda i: f"'{self.raw[col].iat[i]}' is not true/false")
        if not unstated:
            return s.isin(TRUE)
        return s.isin(TRUE).astype("boolean").mask(s == "")


def validate(kind: str, raw: pd.DataFrame, source: str, sites: set[str], year: int | None = None,
             factor_set: FactorSet | None = None) -> pd.DataFrame:
    """Return a typed frame for ``kind`` with an ``activity_id`` of ``source:row``; or raise InputError."""
    if kind not in SCHEMAS:
        raise InputError([Problem(source, None, None, f"unknown activity kind '{kind}'; one of {', '.join(SCHEMAS)}")])
    schema = SCHEMAS[kind]
    raw = _canonical_headers(kind, raw, source)
    ck = _Checker(source, raw)
    if raw.empty:
        raise InputError([Problem(source, None, None, "file has a header but no data rows")])
    names = {c.name for c in schema}
    for c in schema:
        if c.required and c.name not in raw.columns:
            ck.problems.append(Problem(source, 1, c.name, "required column is missing"))
    for extra in sorted(set(raw.columns) - names):
        ck.problems.append(Problem(source, 1, extra, f"unknown column (expected: {', '.join(c.name for c in schema)})"))
    if ck.problems:
        raise InputError(ck.problems)
    for c in schema:
        if c.name not in raw.columns:
            raw[c.name] = ""
    out = pd.DataFrame(index=raw.index)
    for c in schema:
        if c.required:
            ck.add(raw[c.name] == "", c.name, "value is required")
        if c.type in ("float", "int"):
            v = ck.number(c.name, whole=c.type == "int")
            if c.check == "nonneg":
                ck.add(v < 0, c.name, lambda i, v=v: f"negative value {v.iat[i]} is not allowed")
            elif c.check == "positive":
                ck.add(v <= 0, c.name, lambda i, v=v: f"value {v.iat[i]} must be greater than zero")
            elif c.check == "fraction":
                ck.add((v < 0) | (v > 1), c.name, lambda i, v=v: f"{v.iat[i]} is not a fraction between 0 and 1")
            out[c.name] = v
        elif c.type == "date":
            out[c.name] = ck.date(c.name)
        elif c.type == "bool":
            out[c.name] = ck.boolean(c.name, unstated=c.check == "unstated")
        else:
            out[c.name] = raw[c.name].astype(str)
    for c in schema:
        if c.max:
            _check_ceiling(ck, out, c)
    _check_kind(kind, out, ck, sites, year, factor_set)
    # Duplicate rows: identical in every column, i.e. the same fact entered twice.
    dup = raw.duplicated(keep="first").to_numpy()
    first_of = {}
    for i, key in enumerate(map(tuple, raw.itertuples(index=False))):
        first_of.setdefault(key, i)
    ck.add(dup, None, lambda i: f"duplicate of row {ck.rownum[first_of[tuple(raw.iloc[i])]]}")
    if ck.problems:
        # In row order, and within a row in the order of the file's columns, whichever check found them.
        place = {c: j for j, c in enumerate(raw.columns)}
        raise InputError(sorted(ck.problems, key=lambda p: (p.row or 0, place.get(p.column, len(place)))))
    out.insert(0, "activity_id", [f"{source}:{r}" for r in ck.rownum])
    return _finish(kind, out)


def _canonical_headers(kind: str, raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Rename accepted aliases (Chinese headers) to the schema's column names."""
    known = header_map(kind)
    renamed = [known.get(c, c) for c in raw.columns]
    problems = []
    for name in sorted({n for n in renamed if renamed.count(n) > 1}):
        given = [c for c, n in zip(raw.columns, renamed) if n == name]
        problems.append(Problem(source, 1, name, "the column appears more than once (as "
                                                 + ", ".join(f"'{g}'" for g in given) + ")"))
    if problems:
        raise InputError(problems)
    return raw.set_axis(renamed, axis=1)


def _check_ceiling(ck: _Checker, out: pd.DataFrame, c: Column) -> None:
    """Refuse magnitudes beyond the column's ceiling, after converting each row's unit into the ceiling's."""
    v = out[c.name].to_numpy(dtype=float)
    units = out[c.unit_column] if c.unit_column else pd.Series("", index=out.index)
    for u in pd.unique(units):
        rows = (units == u).to_numpy() & ~np.isnan(v)
        match = _ceiling_for(c.max, u) if c.unit_column else (c.max[0], 1.0)
        if match is None or not rows.any():
            continue
        ceiling, factor = match
        with np.errstate(over="ignore"):
            over = rows & (np.abs(v) * factor > ceiling.value)
        given = f" {u}" if u else ""
        limit = f"{number_text(ceiling.value)} {ceiling.unit}".strip()
        ck.add(over, c.name, lambda i, given=given, limit=limit, why=ceiling.reason:
               f"{number_text(v[i])}{given} is beyond the ceiling of {limit} per row ({why})")


def _ceiling_for(ceilings, unit: str):
    """The ceiling of ``unit``'s dimension and the factor into its unit, or None if ``unit`` has none."""
    for m in ceilings:
        try:
            return m, scale(unit, m.unit)
        except ZerocarbonError:  # blank, unknown or another dimension: the unit checks report those
            continue
    return None


def _unit_check(ck: _Checker, out: pd.DataFrame, col: str, dimension_of: str, what: str) -> None:
    want = parse_unit(dimension_of).dimensionality
    for u in pd.unique(out[col]):
        if u == "":
            continue
        mask = (out[col] == u).to_numpy()
        try:
            ok = parse_unit(u).dimensionality == want
            if not ok:
                ck.add(mask, col, f"unit '{u}' is not {what}")
        except ZerocarbonError as exc:
            ck.add(mask, col, str(exc))


def _check_kind(kind: str, out: pd.DataFrame, ck: _Checker, sites: set[str], year: int | None,
                fs: FactorSet | None) -> None:
    site_col = "retired_for_site" if kind == "instrument" else "site"
    ck.add(~out[site_col].isin(sites) & (out[site_col] != ""), site_col,
           lambda i: f"unknown site '{out[site_col].iat[i]}' (known: {', '.join(sorted(sites))})")
    if "period_start" in out:
        ck.add(out["period_end"] < out["period_start"], "period_end", "period ends before it starts")
        if year is not None:
            outside = (out["period_start"].dt.year != year) | (out["period_end"].dt.year != year)
            ck.add(outside & out["period_start"].notna() & out["period_end"].notna(), "period_start",
                   lambda i: f"period {out['period_start'].iat[i]:%Y-%m-%d}..{out['period_end'].iat[i]:%Y-%m-%d} "
                             f"is outside reporting year {year}")
    if kind in ENERGY_UNIT_KINDS:
        _unit_check(ck, out, "unit", "kWh", "an energy unit")
    if kind in MASS_UNIT_KINDS:
        _unit_check(ck, out, "unit", "kg", "a mass unit")
    if kind == "heat":
        for u in pd.unique(out["supplier_factor_unit"]):
            mask = (out["supplier_factor_unit"] == u).to_numpy()
            try:
                scale(u, "kg/GJ")
            except ZerocarbonError:
                ck.add(mask, "supplier_factor_unit", f"'{u}' is not a mass per energy unit (e.g. t/GJ)")
    if kind == "fuel":
        _check_fuel(out, ck, fs)
    if kind in SUPPLY_KINDS:
        _check_supply_kind(kind, out, ck)
        if fs is not None:
            _check_supply_factors(kind, out, ck, fs)
    if kind == "refrigerant":
        mb = out["method"] == "mass_balance"
        sc = out["method"] == "screening"
        ck.add(~(mb | sc), "method", lambda i: f"'{out['method'].iat[i]}' is not mass_balance or screening")
        for col in ("inventory_start", "inventory_end", "purchased"):
            ck.add(mb & out[col].isna(), col, "required for the mass-balance method")
        for col in ("charge", "annual_leak_rate"):
            ck.add(sc & out[col].isna(), col, "required for the screening method")
        ck.add(sc & (out["parameter_source"] == ""), "parameter_source", "the leak rate needs a source")
        at = np.flatnonzero(mb.to_numpy())
        negative = {int(at[i]): reason for i, reason in negative_mass_balances(out[mb])}
        ck.add(np.isin(np.arange(len(out)), list(negative)), "inventory_end", lambda i: negative[i])
        if fs is not None:
            _check_gwp_known(out, ck, fs)
    if kind == "process_gas" and fs is not None:
        _check_gwp_known(out, ck, fs)
    if kind == "instrument":
        ck.add(out["vintage_end"] < out["vintage_start"], "vintage_end", "vintage ends before it starts")
        if year is not None:
            ck.add(out["retired_for_year"] != year, "retired_for_year",
                   lambda i: f"retired for {out['retired_for_year'].iat[i]:.0f}, not the reporting year {year}")
        half = out["serial_start"].isna() ^ out["serial_end"].isna()
        ck.add(half, "serial_end", "give both serial_start and serial_end, or neither")
        ck.add(out["serial_end"] < out["serial_start"], "serial_end", "serial range ends before it starts")
        _check_instrument_kinds(out, ck)
        _check_claims_within(out, ck)


# -- Scope 3 and supply-chain kinds ------------------------------------------------------------------------------
def unit_problem(want: str, what: str, text: str) -> str | None:
    """What is wrong with the unit ``text`` of a column that must be ``what`` (``want``: a unit of the dimension, or
    ``currency``, ``co2e`` (a CO2e mass, or per unit), ``""`` any unit pint knows); None if nothing."""
    supported = f"the supported currencies are {', '.join(CURRENCIES)} and 万元 (10,000 CNY)"
    try:
        dims = parse_unit(text).dimensionality
    except ZerocarbonError as exc:
        return f"'{text}' is not a supported currency: {supported}" if want == "currency" else str(exc)
    if want == "":
        return None
    if want == "currency":
        ok = len(dims) == 1 and next(iter(dims)).startswith("[currency_") and next(iter(dims.values())) == 1
    elif want == "co2e":
        ok = dims.get("[co2e]") == 1 and (dims == parse_unit("kgCO2e").dimensionality or "/" in text)
    else:
        ok = dims == parse_unit(want).dimensionality
    if not ok and want == "currency":
        return f"unit '{text}' is not {what}: {supported}"
    return None if ok else f"unit '{text}' is not {what}"


def text_problem(kind: str, column: str, text: str) -> str | None:
    """What is wrong with a text cell of a supply-chain kind that has a rule of its own; None if nothing."""
    if column in UNIT_COLUMNS.get(kind, {}):
        return unit_problem(*UNIT_COLUMNS[kind][column], text)
    choices = CHOICES.get((kind, column))
    if choices is not None and text not in choices:
        return f"'{text}' is not one of {', '.join(choices)}"
    if column == "eeio_code" and not (len(text) == 6 and text.isdigit()):
        return f"'{text}' is not a NAICS-6 code (six digits, e.g. 334111)"
    if column in ("market", "hotel") and not (len(text) == 2 and text.isalpha() and text.isupper()):
        return f"'{text}' is not an ISO 3166-1 alpha-2 country code (e.g. CN, US, GB)"
    return None


def _given(out: pd.DataFrame, col: str) -> np.ndarray:
    s = out[col]
    if pd.api.types.is_float_dtype(s) or pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
        return s.notna().to_numpy(dtype=bool)
    return (s.fillna("").astype(str) != "").to_numpy()


def _together(out: pd.DataFrame, cols: tuple[str, ...], why: str) -> list[tuple]:
    """A row giving one of ``cols`` gives them all: a problem at each missing one."""
    have = np.array([_given(out, c) for c in cols])
    some = have.any(axis=0)
    return [(some & ~have[i], c, why) for i, c in enumerate(cols)]


SPEND_WHY = "required with the spend-based method (spend, currency, price_year and eeio_code come together)"


def row_rules(kind: str, out: pd.DataFrame) -> list[tuple[np.ndarray, str, object]]:
    """Rules between the columns of one row of a supply-chain kind, vectorised: (rows, column, reason) triples.

    ``out`` holds typed cells (blank text "", blank numbers NaN). Both the importer and the row models
    (:mod:`zerocarbon.io.models`) apply these, so both word a refusal the same way.
    """
    given = {c: _given(out, c) for c in out.columns}
    rules: list[tuple[np.ndarray, str, object]] = []
    if kind in ("purchase", "travel"):
        rules += _together(out, SPEND, SPEND_WHY)
    spend_ok = np.logical_and.reduce([given[c] for c in SPEND]) if kind in ("purchase", "travel") else None
    if kind in ("purchase", "travel"):
        rules.append((given["exchange_rate"] & ~given["spend"], "exchange_rate",
                      "an exchange rate belongs to a spend: give spend, currency, price_year and eeio_code with it"))
    if kind == "purchase":
        unit, cu = out["unit"].astype(str), out["supplier_co2e_unit"].astype(str)
        rules += [(given["material"] & ~given["quantity"], "quantity",
                   "required with material (average-data method: quantity, unit and material)"),
                  (given["quantity"] & ~given["unit"], "unit", "required with quantity"),
                  (given["pcf_id"] & ~given["quantity"], "quantity",
                   "required with pcf_id (the amount in the footprint's declared unit)")]
        supplier = given["supplier_co2e"] | given["supplier_scope12_co2e"]
        rules += [(supplier & ~given["supplier_co2e_unit"], "supplier_co2e_unit",
                   "required with supplier_co2e or supplier_scope12_co2e"),
                  (supplier & ~given["evidence"], "evidence",
                   "supplier figures need evidence (EPD, verified report or PACT file); without it they are refused")]
        per_unit = supplier & cu.str.contains("/", regex=False).to_numpy()
        rules.append((per_unit & ~given["quantity"], "quantity",
                      lambda i: f"required: supplier_co2e_unit '{cu.iat[i]}' is per unit of quantity"))
        mismatch = np.zeros(len(out), bool)
        for u, c in set(zip(unit[per_unit & given["unit"]], cu[per_unit & given["unit"]])):
            try:
                scale(u, c.split("/", 1)[1])
            except ZerocarbonError:
                mismatch |= ((unit == u) & (cu == c)).to_numpy() & per_unit
        rules.append((mismatch, "unit", lambda i: supplier_unit_mismatch(unit.iat[i], cu.iat[i])))
        average_ok = given["quantity"] & given["unit"] & given["material"]
        rules.append((given["supplier_scope12_co2e"] & ~(average_ok | spend_ok), "supplier_scope12_co2e",
                      "the hybrid method adds the supplier's inputs: give quantity, unit and material, or spend, "
                      "currency, price_year and eeio_code"))
        complete = (spend_ok | average_ok | (given["supplier_co2e"] & given["supplier_co2e_unit"] & given["evidence"])
                    | (given["pcf_id"] & given["quantity"]))
        rules.append((~complete, "spend", "no complete method: give spend, currency, price_year and eeio_code "
                                          "(spend-based); quantity, unit and material (average-data); supplier_co2e, "
                                          "supplier_co2e_unit and evidence (supplier-specific); or pcf_id and quantity "
                                          "(supplier product footprint)"))
    if kind == "shipment":
        rules.append((given["distance"] & ~given["distance_unit"], "distance_unit", "required with distance"))
        for c in ("origin_lat", "origin_lon", "destination_lat", "destination_lon"):
            rules.append((~given["distance"] & ~given[c], c,
                          "required when no distance is given (great-circle distance between the coordinates)"))
        rules += _together(out, ("fuel", "fuel_quantity", "fuel_unit"),
                           "required with the fuel-based method (fuel, fuel_quantity and fuel_unit come together)")
        rules.append((given["carrier_co2e"] & ~given["carrier_co2e_unit"], "carrier_co2e_unit",
                      "required with carrier_co2e"))
    if kind == "travel":
        rules += _together(out, ("distance", "distance_unit", "travellers"),
                           "required with the distance-based method (distance, distance_unit and travellers come "
                           "together)")
        rules += _together(out, ("hotel", "nights"), "a hotel stay gives both hotel (country) and nights")
        complete = (spend_ok | (given["distance"] & given["distance_unit"] & given["travellers"])
                    | (given["hotel"] & given["nights"]))
        rules.append((~complete, "distance", "no complete method: give distance, distance_unit and travellers; hotel "
                                             "and nights; or spend, currency, price_year and eeio_code"))
    if kind == "takeback":
        col, rec, pom = (out[c].to_numpy(dtype=float) for c in ("collected", "recycled", "placed_on_market"))
        with np.errstate(invalid="ignore"):
            # A negative mass is refused as such (column check); no comparison is made with it.
            col, pom = np.where(col < 0, np.nan, col), np.where(pom < 0, np.nan, pom)
            rec = np.where(rec < 0, np.nan, rec)
            rules.append((rec > col, "recycled", lambda i: f"recycled {number_text(rec[i])} is more than collected "
                                                           f"{number_text(col[i])}"))
            rules.append((col > pom, "collected", lambda i: f"collected {number_text(col[i])} is more than "
                                                            f"placed_on_market {number_text(pom[i])}"))
    return rules


def _check_supply_kind(kind: str, out: pd.DataFrame, ck: _Checker) -> None:
    for c in SCHEMAS[kind]:
        if c.type != "str":
            continue
        for text in pd.unique(out[c.name]):
            if text == "":
                continue
            why = text_problem(kind, c.name, text)
            if why:
                ck.add((out[c.name] == text).to_numpy(), c.name, why)
    for mask, column, why in row_rules(kind, out):
        ck.add(mask, column, why)


def _check_supply_factors(kind: str, out: pd.DataFrame, ck: _Checker, fs: FactorSet) -> None:
    """Keys a row names must have a factor in the set (material, treatment, NAICS code, mode and vehicle, travel
    mode, market): refused at import with the row, rather than when the inventory is computed."""
    from zerocarbon.core.supply.logistics import DEFAULT_VEHICLE

    def check(columns: tuple[str, ...], lookup, report: str, rows=None) -> None:
        rows = np.ones(len(out), bool) if rows is None else rows
        if not rows.any():
            return
        keys = out.loc[rows, list(columns)].astype(str).drop_duplicates()
        for key in keys.itertuples(index=False):
            if "" in key:
                continue  # a blank is reported by the rules between columns
            try:
                lookup(*key)
            except ZerocarbonError as exc:
                at = rows & np.logical_and.reduce([(out[c].astype(str) == k).to_numpy() for c, k in zip(columns, key)])
                ck.add(at, report, str(exc))

    if kind == "purchase":
        check(("eeio_code",), fs.eeio, "eeio_code")
        check(("material",), lambda m: fs.material(m, "primary"), "material")
    if kind in ("waste", "product_eol", "takeback"):
        # A treatment that is not one of the known ones is refused as such (text rule); no lookup with it.
        known = out["treatment"].isin(CHOICES[(kind, "treatment")]).to_numpy()
        check(("material", "treatment"), fs.waste, "material", known)
    if kind == "packaging":
        # As take-back names a waste factor, packaging names a material the set has a material factor for.
        check(("material",), lambda m: fs.material(m, "primary"), "material")
    if kind == "shipment":
        vehicle = out["vehicle"].where(out["vehicle"] != "", out["mode"].map(DEFAULT_VEHICLE).fillna(""))
        subjects = pd.DataFrame({"subject": (out["mode"] + "." + vehicle).where(vehicle != "", "")})
        for subject in pd.unique(subjects["subject"]):
            if subject == "" or any(f.subject == subject and f.use == "wtw" for f in fs._of_kind("freight")):
                continue
            for use in ("ttw", "wtt"):
                try:
                    fs.freight(subject, use)
                except ZerocarbonError as exc:
                    # Once per vehicle: a vehicle the set lacks lacks both uses, the list of known ones is the same.
                    at = (subjects["subject"] == subject).to_numpy()
                    named = (out["vehicle"] != "").to_numpy()
                    ck.add(at & named, "vehicle", str(exc))
                    ck.add(at & ~named, "mode", str(exc))
                    break
    if kind == "shipment":
        from zerocarbon.core.supply.logistics import fuel_wtt_route

        def fuel_data(fuel, unit):
            fuel_route(fs, fuel, "mobile", unit, "")
            fuel_wtt_route(fs, fuel, unit)
        check(("fuel", "fuel_unit"), fuel_data, "fuel_unit")
    if kind in ("travel", "commute"):
        has_distance = (out["distance"].notna() if kind == "travel" else pd.Series(True, index=out.index)).to_numpy()
        check(("mode",), lambda m: fs.travel(m, "ttw"), "mode", has_distance)
    if kind == "travel":
        check(("hotel",), lambda c: fs.travel(f"hotel.{c}", "ttw"), "hotel")
    if kind == "product_use":
        def grid(country):
            try:
                fs.use_phase_grid_factor(9999, country)  # any year: the inventory's is chosen when it is computed
            except FactorNotFoundError:
                raise FactorNotFoundError(f"factor set {fs.id} has no grid factor for market {country}; choose a "
                                          "set that covers it (`zerocarbon factors sets`)") from None
        check(("market",), grid, "market")


def _check_claims_within(out: pd.DataFrame, ck: _Checker) -> None:
    """Two rows of one file with the same instrument id or overlapping serial ranges claim the same MWh twice."""
    ranged = out["serial_end"] >= out["serial_start"]
    ids = pd.Series([f"{ck.source}:{r}" for r in ck.rownum], index=out.index)
    rows = out[ranged | out["serial_start"].isna() | out["serial_end"].isna()].assign(activity_id=ids)
    for i, j, reason in double_claims(rows):
        same_id = rows.at[i, "instrument_id"] == rows.at[j, "instrument_id"]
        ck.add(out.index == i, "instrument_id" if same_id else "serial_start", reason)


def _check_instrument_kinds(out: pd.DataFrame, ck: _Checker) -> None:
    """Type and technology from the declared lists; certificate volume equal to its serial range."""
    types, techs = instrument_types(), instrument_technologies()
    ck.add(~out["type"].isin(list(types)) & (out["type"] != ""), "type",
           lambda i: f"'{out['type'].iat[i]}' is not an instrument type; use one of {', '.join(types)}")
    ck.add(~out["technology"].isin(list(techs)) & (out["technology"] != ""), "technology",
           lambda i: f"'{out['technology'].iat[i]}' is not a technology; use one of {', '.join(techs)}")
    mwh_per_cert = out["type"].map(types).astype(float).to_numpy()
    mwh = np.full(len(out), np.nan)
    for u in pd.unique(out["unit"]):
        m = (out["unit"] == u).to_numpy()
        try:
            mwh[m] = out["volume"].to_numpy(dtype=float)[m] * scale(u, "MWh")
        except ZerocarbonError:  # reported by the unit check
            continue
    certificates = (out["serial_end"] - out["serial_start"] + 1).to_numpy(dtype=float)
    expected = certificates * mwh_per_cert
    # Compared to a millionth of a MWh: volumes in kWh or GWh convert with rounding in the last digit.
    wrong = ~np.isnan(expected) & ~np.isnan(mwh) & (certificates > 0) & (np.abs(mwh - expected) > 1e-6)
    ck.add(wrong, "volume",
           lambda i: f"volume {mwh[i]:.15g} MWh does not match the serial range {out['serial_start'].iat[i]:.0f}-"
                     f"{out['serial_end'].iat[i]:.0f}: {certificates[i]:.0f} {out['type'].iat[i]} certificates x "
                     f"{mwh_per_cert[i]:g} MWh = {expected[i]:.15g} MWh")


def _check_gwp_known(out: pd.DataFrame, ck: _Checker, fs: FactorSet) -> None:
    from zerocarbon.core.ghg.gases import canonical_gas

    gwp_set = fs.rules.get("gwp_default", "AR5")
    for g in pd.unique(out["gas"]):
        try:
            fs.gwp(canonical_gas(g), gwp_set)
        except ZerocarbonError as exc:
            ck.add((out["gas"] == g).to_numpy(), "gas", str(exc))


def _check_fuel(out: pd.DataFrame, ck: _Checker, fs: FactorSet | None) -> None:
    use_ok = out["use"].map(is_combustion_use).to_numpy(dtype=bool)
    ck.add(~use_ok, "use", lambda i: f"'{out['use'].iat[i]}' is not stationary, mobile or nonroad.<equipment>")
    basis_ok = np.ones(len(out), dtype=bool)
    for b in pd.unique(out["basis"]):
        try:
            normalise_basis(b)
        except ZerocarbonError as exc:
            m = (out["basis"] == b).to_numpy()
            basis_ok &= ~m
            ck.add(m, "basis", str(exc))
    unit_ok = np.ones(len(out), dtype=bool)
    for u in pd.unique(out["unit"]):
        m = (out["unit"] == u).to_numpy()
        try:
            parse_unit(u)
        except ZerocarbonError as exc:
            unit_ok &= ~m
            ck.add(m, "unit", str(exc))
    # One fuel on two heating-value bases in one file is almost always a copy-paste error.
    norm = out["basis"].map(lambda b: normalise_basis(b) if b.upper() in ("NCV", "LHV", "GCV", "HHV") else "")
    both = norm[norm != ""].groupby(out["fuel"][norm != ""]).nunique()
    for fuel in both[both > 1].index:
        ck.add(((out["fuel"] == fuel) & (norm != "")).to_numpy(), "basis",
               f"{fuel} appears with both NCV/LHV and GCV/HHV bases in this file; use one basis per fuel")
    if fs is None:
        return
    keys = out.loc[basis_ok & unit_ok, ["fuel", "use", "unit", "basis"]].drop_duplicates()
    for fuel, use, unit, basis in keys.itertuples(index=False):
        if not is_combustion_use(use) or fuel == "":
            continue
        try:
            fuel_route(fs, fuel, use, unit, basis)
        except ZerocarbonError as exc:
            m = ((out["fuel"] == fuel) & (out["use"] == use) & (out["unit"] == unit) & (out["basis"] == basis))
            col = exc.column or "unit"
            ck.add(m.to_numpy(), col, str(exc))


def _finish(kind: str, out: pd.DataFrame) -> pd.DataFrame:
    """Shape a validated frame into the core's column set (see core.ghg.inventory.KIND_COLUMNS)."""
    if kind == "instrument":
        out["volume_kwh"] = out["volume"] * scales(out["unit"], "kWh")
        out["emission_factor_kg_per_kwh"] = out["emission_factor"]
        out["retired_for_year"] = out["retired_for_year"].astype(int)
        out = out.drop(columns=["volume", "unit", "emission_factor"])
    if kind == "fuel":
        out["basis"] = out["basis"].map(normalise_basis)
    if kind == "generation":
        out["exported"] = out["exported"].fillna(0.0)
    return out.reset_index(drop=True)


def check_instruments_against(existing: pd.DataFrame, new: pd.DataFrame) -> list[Problem]:
    """A new instrument file must not claim what stored instruments already claim."""
    if existing.empty:
        return []
    both = pd.concat([existing.assign(_new=False), new.assign(_new=True)], ignore_index=True)
    probs = []
    for i, j, _ in double_claims(both):
        if both.at[i, "_new"] == both.at[j, "_new"]:
            continue  # inside one side: stored rows were checked when imported, the file's own rows by validate
        at, other = (i, j) if both.at[i, "_new"] else (j, i)
        source, _, row = str(both.at[at, "activity_id"]).rpartition(":")
        column = "instrument_id" if both.at[at, "instrument_id"] == both.at[other, "instrument_id"] else "serial_start"
        probs.append(Problem(source, int(row), column,
                             claim_reason(both, at, other) + " (already in the database)"))
    return probs
