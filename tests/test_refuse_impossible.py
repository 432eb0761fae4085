"""Importers refuse impossible input with file, row, column and reason, and write nothing.

Each test names the defect it guards against: non-finite or absurd numbers, negative refrigerant mass
balances, instruments without a factor or technology, certificate volumes that disagree with their serial
range, workbook sheets skipped silently, GBK-encoded and Chinese-headed files, and formula injection in
the files the product writes.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from tests.helpers import data, elec
from zerocarbon.core.ghg.inventory import compute_inventory
from zerocarbon.core.schedule.model import Assignment, Line, Operation, Order, Problem, Schedule
from zerocarbon.errors import InputError
from zerocarbon.io.reports import write_outputs
from zerocarbon.io.schedule_files import write_schedule_csv
from zerocarbon.io.schemas import SCHEMAS
from zerocarbon.io.spreadsheet import neutralise, write_csv
from zerocarbon.io.tables import read_table, validate
from tests.conftest import stored_activities
from zerocarbon.services import accounting
from zerocarbon.units import scale

DATA = Path(__file__).parent / "data"
SITES = {"TJ01", "HF01"}


def example_row(kind: str) -> dict[str, str]:
    """One row of the documented examples of ``kind`` (also proves the docs' examples are valid)."""
    return {c.name: c.example for c in SCHEMAS[kind]}


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).astype(str)


def problems_of(kind: str, rows: list[dict], **kw) -> list:
    with pytest.raises(InputError) as exc:
        validate(kind, frame(rows), f"{kind}.csv", kw.pop("sites", SITES), **kw)
    return exc.value.problems


def has(problems, row, column, text) -> bool:
    return any(p.row == row and p.column == column and text in p.reason for p in problems)


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_documented_example_rows_are_valid(kind):
    out = validate(kind, frame([example_row(kind)]), f"{kind}.csv", SITES)
    assert len(out) == 1


NUMERIC = [(k, c.name) for k, cols in SCHEMAS.items() for c in cols if c.type in ("float", "int")]


@pytest.mark.parametrize("kind,column", NUMERIC, ids=[f"{k}.{c}" for k, c in NUMERIC])
@pytest.mark.parametrize("text", ["inf", "Infinity", "-inf", "1e309", "nan"])
def test_non_finite_numbers_are_refused_in_every_numeric_column(kind, column, text):
    """Defect: inf, Infinity and 1e309 passed every importer and broke the year's computation."""
    row = example_row(kind) | {column: text}
    probs = problems_of(kind, [row])
    assert any(p.row == 2 and p.column == column and f"'{text}' is not" in p.reason for p in probs), probs


CEILINGED = [(k, c) for k, cols in SCHEMAS.items() for c in cols if c.max]


@pytest.mark.parametrize("kind,col", CEILINGED, ids=[f"{k}.{c.name}" for k, c in CEILINGED])
def test_magnitudes_beyond_the_documented_ceiling_are_refused(kind, col):
    """Defect: 1e308 kWh passed as a finite number. Every ceiling applies after unit conversion."""
    row = example_row(kind)
    unit = row[col.unit_column] if col.unit_column else ""
    ceiling = next(m for m in col.max if not m.unit or not unit or _same_dimension(unit, m.unit))
    at_ceiling = ceiling.value / (scale(unit, ceiling.unit) if unit else 1.0)
    over = {col.name: f"{at_ceiling * 10:.17g}"}
    probs = problems_of(kind, [row | over])
    assert has(probs, 2, col.name, "beyond the ceiling"), probs
    assert has(problems_of(kind, [row | {col.name: "1e308"}]), 2, col.name, "beyond the ceiling")


def _same_dimension(a: str, b: str) -> bool:
    try:
        scale(a, b)
        return True
    except Exception:
        return False


def test_ceiling_uses_the_rows_unit():
    # 1e12 kWh is the electricity ceiling: 1e9 MWh is exactly at it, 1.1e9 MWh beyond it.
    ok = elec_row("1e9", "MWh")
    assert len(validate("electricity", frame([ok]), "e.csv", SITES)) == 1
    probs = problems_of("electricity", [ok, elec_row("1.1e9", "MWh", month=2)])
    assert [(p.row, p.column) for p in probs] == [(3, "quantity")]
    assert "1.1e+09 MWh is beyond the ceiling of 1e+12 kWh" in probs[0].reason
    # fuel: the ceiling of the row's dimension applies (1e8 t by mass; 1e9 kg is 1e6 t)
    fuel = example_row("fuel") | {"unit": "kg", "quantity": "1e9", "basis": ""}
    assert len(validate("fuel", frame([fuel]), "f.csv", SITES)) == 1
    assert has(problems_of("fuel", [fuel | {"unit": "t"}]), 2, "quantity", "beyond the ceiling of 1e+08 t")


def test_every_amount_column_declares_a_ceiling_with_a_reason():
    for kind, cols in SCHEMAS.items():
        for c in cols:
            if c.type in ("float", "int") and c.check != "fraction":
                assert c.max, f"{kind}.{c.name} has no ceiling"
                assert all(m.reason for m in c.max)


def test_int_columns_take_whole_numbers():
    row = example_row("instrument") | {"serial_end": "1005000.5"}
    assert has(problems_of("instrument", [row]), 2, "serial_end", "not a whole number")


def elec_row(qty: str, unit: str = "kWh", month: int = 1) -> dict:
    return {"site": "TJ01", "meter": "M", "period_start": f"2023-{month:02d}-01", "period_end": f"2023-{month:02d}-28",
            "quantity": qty, "unit": unit}


# -- through the import service: nothing written, the year still computes ------------------------------
stored = stored_activities


@pytest.mark.parametrize("text", ["inf", "1e309", "1e308"])
def test_absurd_electricity_is_refused_and_the_year_still_computes(db, tmp_path, text):
    """Defect: the import succeeded and computing the year then failed with a database error."""
    good = tmp_path / "good.csv"
    good.write_text("site,meter,period_start,period_end,quantity,unit\nTJ01,M,2023-01-01,2023-01-31,1000,kWh\n")
    accounting.import_file(db, "ORG", "electricity", good, 2023, "CN-2025.1", actor="test")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"site,meter,period_start,period_end,quantity,unit\nTJ01,M,2023-02-01,2023-02-28,{text},kWh\n")
    with pytest.raises(InputError) as exc:
        accounting.import_file(db, "ORG", "electricity", bad, 2023, "CN-2025.1", actor="test")
    p = exc.value.problems[0]
    assert (p.source, p.row, p.column) == ("bad.csv", 2, "quantity")
    assert stored(db) == 1
    assert accounting.compute(db, "ORG", 2023, "CN-2025.1", actor="test").totals()["scope2_location_t"] == pytest.approx(0.6361)


def test_core_refuses_a_non_finite_quantity_without_a_database_error(org, cn):
    d = data(electricity=[elec("TJ01", np.inf)])
    with pytest.raises(InputError, match="not a finite number") as exc:
        compute_inventory(org, d, cn, 2025)
    assert exc.value.problems[0].row == 2


# -- refrigerant mass balance -------------------------------------------------------------------------
MB = {"site": "TJ01", "period_start": "2023-01-01", "period_end": "2023-12-31", "gas": "R-410A",
      "method": "mass_balance", "unit": "kg", "inventory_start": "120", "inventory_end": "180", "purchased": "50",
      "recovered_or_sold": "0", "capacity_change": "0", "parameter_source": "log"}


def test_negative_refrigerant_mass_balance_is_refused_with_the_value(db, tmp_path):
    """Defect: (120 - 180) + 50 = -10 kg was booked as negative tCO2e without a word."""
    path = tmp_path / "refrigerant.csv"
    pd.DataFrame([MB | {"inventory_end": "80"}, MB]).to_csv(path, index=False)
    with pytest.raises(InputError) as exc:
        accounting.import_file(db, "ORG", "refrigerant", path, 2023, "CN-2025.1", actor="test")
    [p] = exc.value.problems
    assert (p.source, p.row, p.column) == ("refrigerant.csv", 3, "inventory_end")
    assert "= -10 kg is negative" in p.reason
    assert stored(db) == 0


def test_mass_balance_rounding_to_zero_is_not_refused():
    # 0.3 - 0.1 - 0.2 lands a rounding error below zero in binary floating point
    row = MB | {"inventory_start": "0.3", "inventory_end": "0.1", "purchased": "0", "capacity_change": "0.2"}
    assert len(validate("refrigerant", frame([row]), "r.csv", SITES)) == 1


# -- instruments --------------------------------------------------------------------------------------
INST = {"instrument_id": "GEC-1", "type": "GEC", "registry": "CN-GEC", "market": "CN", "volume": "500",
        "unit": "MWh", "vintage_start": "2023-01-01", "vintage_end": "2023-06-30", "serial_start": "1000001",
        "serial_end": "1000500", "retired_for_site": "TJ01", "retired_for_year": "2023", "emission_factor": "0",
        "technology": "solar"}


def test_blank_instrument_emission_factor_is_refused():
    """Defect: a blank factor silently became 0 and counted as renewable."""
    assert has(problems_of("instrument", [INST | {"emission_factor": ""}]), 2, "emission_factor", "required")


def test_instrument_technology_is_required_and_from_the_declared_list():
    assert has(problems_of("instrument", [{k: v for k, v in INST.items() if k != "technology"}]), 1, "technology",
               "required column is missing")
    assert has(problems_of("instrument", [INST | {"technology": "fusion"}]), 2, "technology", "not a technology")
    assert has(problems_of("instrument", [INST | {"type": "gec"}]), 2, "type", "not an instrument type")


def test_gec_volume_must_equal_its_serial_range():
    """Defect: 500 MWh of GEC with serials for 201 certificates was accepted."""
    probs = problems_of("instrument", [INST | {"serial_end": "1000201"}])
    assert has(probs, 2, "volume", "volume 500 MWh does not match the serial range 1000001-1000201: "
                                   "201 GEC certificates x 1 MWh = 201 MWh")
    # the same volume in kWh matches
    assert len(validate("instrument", frame([INST | {"volume": "500000", "unit": "kWh"}]), "i.csv", SITES)) == 1
    assert has(problems_of("instrument", [INST | {"type": "I-REC", "volume": "499"}]), 2, "volume", "I-REC")


def test_contract_serials_are_not_tied_to_volume():
    row = INST | {"type": "green_power_contract", "serial_end": "1000002"}
    assert len(validate("instrument", frame([row]), "i.csv", SITES)) == 1


# -- workbooks ----------------------------------------------------------------------------------------
def workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


ELEC = [["site", "meter", "period_start", "period_end", "quantity", "unit"],
        ["TJ01", "M", "2023-01-01", "2023-01-31", 1000, "kWh"]]


def test_workbook_with_several_sheets_is_refused_without_sheet(tmp_path):
    """Defect: every sheet after the first was silently ignored."""
    path = workbook(tmp_path / "e.xlsx", {"一月": ELEC, "二月": ELEC[:1] + [["TJ01", "M", "2023-02-01", "2023-02-28",
                                                                            2000, "kWh"]]})
    with pytest.raises(InputError) as exc:
        read_table(path)
    reason = exc.value.problems[0].reason
    assert "'一月', '二月'" in reason and "--sheet NAME" in reason
    assert read_table(path, sheet="二月")["quantity"].tolist() == ["2000"]
    with pytest.raises(InputError, match="no sheet 'March'.*'一月', '二月'"):
        read_table(path, sheet="March")


def test_workbook_with_one_sheet_or_blank_extras_is_read(tmp_path):
    assert len(read_table(workbook(tmp_path / "one.xlsx", {"data": ELEC}))) == 1
    assert len(read_table(workbook(tmp_path / "blank.xlsx", {"data": ELEC, "Sheet2": [], "Sheet3": []}))) == 1


def test_sheet_for_a_csv_is_refused(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("site\nTJ01\n")
    with pytest.raises(InputError, match="applies to XLSX"):
        read_table(path, sheet="data")


# -- encodings and Chinese headers --------------------------------------------------------------------
def test_gb18030_csv_with_chinese_headers_and_site_names(tmp_path):
    """Defect: a CSV saved by Excel in Chinese (GBK) could not be read, and Chinese headers were unknown."""
    text = ("站点,电表,开始日期,结束日期,数量,单位\n"
            "天津工厂,一号电表,2023-01-01,2023-01-31,1000,kWh\n"
            "合肥工厂,二号电表,2023-01-01,2023-01-31,2000,kWh\n")
    path = tmp_path / "电力.csv"
    path.write_bytes(text.encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    out = validate("electricity", read_table(path), path.name, {"天津工厂", "合肥工厂"})
    assert out["site"].tolist() == ["天津工厂", "合肥工厂"] and out["meter"].tolist() == ["一号电表", "二号电表"]
    assert out["quantity"].tolist() == [1000.0, 2000.0]


def test_utf8_with_bom_still_reads(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes("站点,电表,开始日期,结束日期,数量,单位\nTJ01,M,2023-01-01,2023-01-31,1,kWh\n".encode("utf-8-sig"))
    assert validate("electricity", read_table(path), "e.csv", SITES)["site"].tolist() == ["TJ01"]


def test_every_column_has_a_chinese_alias_and_aliases_are_unambiguous():
    for kind, cols in SCHEMAS.items():
        seen = {}
        for c in cols:
            assert c.aliases and all(any("\u4e00" <= ch <= "\u9fff" for ch in a) for a in c.aliases[:1]), c.name
            for header in (c.name, *c.aliases):
                assert header not in seen, f"{kind}: '{header}' maps to {seen[header]} and {c.name}"
                seen[header] = c.name


def test_a_column_given_twice_through_an_alias_is_refused():
    row = elec_row("1") | {"站点": "TJ01"}
    probs = problems_of("electricity", [row])
    assert has(probs, 1, "site", "appears more than once")


# -- formula injection and encoding of written files ---------------------------------------------------
def test_neutralise_quotes_formulas_but_not_numbers():
    assert [neutralise(v) for v in ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain", "-12.5", "+3", "1e-3",
                                    -5, 2.5]] == \
        ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "plain", "-12.5", "+3", "1e-3", -5, 2.5]


def test_ledger_csv_neutralises_formulas_and_has_a_bom(org, cn, tmp_path):
    """Defect: a file named '=HYPERLINK(...).csv' put a live formula into every ledger row's activity_id."""
    d = data(electricity=[elec("TJ01", 1000) | {"activity_id": '=HYPERLINK("http://x.example","y").csv:2'}])
    result = compute_inventory(org, d, cn, 2023)
    path = write_outputs(result, tmp_path, "组织")["ledger"]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back["activity_id"].str.startswith("'=HYPERLINK").all()
    assert back["co2e_t"].dtype == float and not back["formula"].str.startswith("'").any()


def test_schedule_csv_neutralises_order_ids(tmp_path):
    problem = Problem("p", (Line("L1"),), (Order("=cmd|' /C calc'!A0", "-fam", operations=(
        Operation("=cmd|' /C calc'!A0", 0, {"L1": 5}),)),), 10)
    schedule = Schedule("p", [Assignment("=cmd|' /C calc'!A0", 0, "L1", 0, 5)])
    path = tmp_path / "s.csv"
    write_schedule_csv(schedule, problem, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    assert back.loc[0, "order"] == "'=cmd|' /C calc'!A0" and back.loc[0, "family"] == "'-fam"


def test_write_csv_leaves_negative_numbers_alone(tmp_path):
    path = write_csv(pd.DataFrame({"value": [-1.5, 2.0], "text": ["-1.5", "=A1"]}), tmp_path / "x.csv")
    assert path.read_text(encoding="utf-8-sig").splitlines() == ["value,text", "-1.5,-1.5", "2.0,'=A1"]
