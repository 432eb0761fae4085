"""Imports: all-or-nothing, and every bad input named by file, row, column and reason."""
from pathlib import Path

import pandas as pd
import pytest

from zerocarbon.errors import InputError
from tests.conftest import stored_activities
from zerocarbon.services import accounting

DATA = Path(__file__).parent / "data"
GOOD_FUEL = (DATA / "fuel_ok.csv").read_text()


stored = stored_activities


def bad(tmp_path, text: str, name="fuel_bad.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def import_(db, kind, path, year=2023):
    return accounting.import_file(db, "ORG", kind, path, year, "CN-2025.1", actor="test")


def test_good_files_import_and_compute(db):
    for kind in ("electricity", "fuel", "instrument"):
        import_(db, kind, DATA / f"{kind}_ok.csv")
    assert stored(db) == 7
    result = accounting.compute(db, "ORG", 2023, "CN-2025.1", actor="test")
    # TJ01: 1,000 MWh x 0.6361 (华北 2023); HF01: 1,000 MWh x 华东 2023 factor
    loc = result.by("site", "scope")
    tj = loc[(loc.site == "TJ01") & (loc.scope == "2")]["co2e_t"].sum()
    assert tj == pytest.approx(636.1)
    assert result.claims["TJ01"].covered_kwh == 500_000


def test_same_file_twice_is_refused(db):
    import_(db, "fuel", DATA / "fuel_ok.csv")
    with pytest.raises(InputError, match="already imported"):
        import_(db, "fuel", DATA / "fuel_ok.csv")
    assert stored(db) == 3


CASES = [
    ("unknown unit", GOOD_FUEL.replace("2.5,t,", "2.5,tonnes_x,"), 2, "unit", "unknown unit 'tonnes_x'"),
    ("wrong dimension", GOOD_FUEL.replace("2.5,t,", "2.5,km,"), 2, "unit", "not an energy, mass"),
    ("negative quantity", GOOD_FUEL.replace("2.5,t,", "-2.5,t,"), 2, "quantity", "negative value"),
    ("unknown site", GOOD_FUEL.replace("HF01,", "XX99,"), 4, "site", "unknown site 'XX99'"),
    ("missing factor", GOOD_FUEL.replace("natural_gas", "whale_oil"), 3, "fuel", "whale_oil"),
    ("duplicate row", GOOD_FUEL + GOOD_FUEL.splitlines()[1] + "\n", 5, None, "duplicate of row 2"),
    ("HHV against NCV factors", GOOD_FUEL.replace("0.5,TJ,NCV", "0.5,TJ,GCV"), 4, "basis", "GCV"),
    ("energy without basis", GOOD_FUEL.replace("0.5,TJ,NCV", "0.5,TJ,"), 4, "basis", "without an energy basis"),
    ("mixed HHV/LHV", GOOD_FUEL + "TJ01,2023-04-01,2023-04-30,gas_diesel_oil,mobile,1,TJ,GCV,false\n"
     .replace("TJ01,2023-04-01", "HF01,2023-04-01"), 4, "basis", "both NCV/LHV and GCV/HHV"),
    ("period outside the year", GOOD_FUEL.replace("2023-01-01,2023-03-31", "2022-12-01,2023-03-31"), 2,
     "period_start", "outside reporting year 2023"),
    ("not a number", GOOD_FUEL.replace("2.5,t,", "two,t,"), 2, "quantity", "'two' is not a number"),
    ("bad date", GOOD_FUEL.replace("2023-03-31", "31/03/2023"), 2, "period_end", "not an ISO date"),
    ("ungassed volume", GOOD_FUEL.replace("12.5,万Nm3", "12.5,m**3"), 3, "unit", "reference conditions"),
]


@pytest.mark.parametrize("name,text,row,column,reason", CASES, ids=[c[0] for c in CASES])
def test_bad_fuel_file_names_the_cell_and_writes_nothing(db, tmp_path, name, text, row, column, reason):
    path = bad(tmp_path, text)
    with pytest.raises(InputError) as exc:
        import_(db, "fuel", path)
    hits = [p for p in exc.value.problems if p.row == row and p.column == column and reason in p.reason]
    assert hits, f"expected row {row} column {column} '{reason}', got: {exc.value}"
    assert all(p.source == "fuel_bad.csv" for p in exc.value.problems)
    assert stored(db) == 0


def test_missing_column_and_empty_file(db, tmp_path):
    with pytest.raises(InputError, match="column 'unit': required column is missing"):
        import_(db, "electricity", bad(tmp_path, "site,meter,period_start,period_end,quantity\nTJ01,M,2023-01-01,2023-01-31,1\n"))
    with pytest.raises(InputError, match="empty"):
        import_(db, "electricity", bad(tmp_path, ""))
    with pytest.raises(InputError, match="no data rows"):
        import_(db, "electricity", bad(tmp_path, "site,meter,period_start,period_end,quantity,unit\n"))
    assert stored(db) == 0


def test_certificate_claimed_twice_across_files(db, tmp_path):
    import_(db, "instrument", DATA / "instrument_ok.csv")
    again = (DATA / "instrument_ok.csv").read_text().replace("GEC-1,", "GEC-2,").replace("1000001,1000500", "1000400,1000899")
    with pytest.raises(InputError) as exc:
        import_(db, "instrument", bad(tmp_path, again, "instrument_2.csv"))
    p = exc.value.problems[0]
    assert (p.source, p.row, p.column) == ("instrument_2.csv", 2, "serial_start") and "overlaps" in p.reason
    assert "of instrument 'GEC-1' (instrument_ok.csv row 2, batch 1)" in p.reason
    assert stored(db) == 1


INSTRUMENT_HEADER = ("instrument_id,type,registry,market,volume,unit,vintage_start,vintage_end,serial_start,serial_end,"
                     "retired_for_site,retired_for_year,emission_factor,technology\n")


def gec_row(iid, first, last, site="TJ01"):
    return f"{iid},GEC,CN-GEC,CN,{last - first + 1},MWh,2023-01-01,2023-12-31,{first},{last},{site},2023,0,solar\n"


def test_overlapping_serial_ranges_in_one_file_are_refused_at_import(db, tmp_path):
    """Defect: two certificates of one file with overlapping serials were imported; the overlap surfaced only at
    `inventory compute`, naming no file or row, with serials printed as floats (300001500.0)."""
    text = INSTRUMENT_HEADER + gec_row("GEC-A", 300001000, 300001999) + gec_row("GEC-B", 300001500, 300002499, "HF01")
    with pytest.raises(InputError) as exc:
        import_(db, "instrument", bad(tmp_path, text, "certs.csv"))
    [p] = exc.value.problems
    assert (p.source, p.row, p.column) == ("certs.csv", 3, "serial_start")
    assert ("serial range 300001500-300002499 overlaps 300001000-300001999 of instrument 'GEC-A' (certs.csv row 2)"
            in p.reason)
    assert ".0" not in p.reason
    twice = INSTRUMENT_HEADER + gec_row("GEC-A", 1, 10) + gec_row("GEC-A", 11, 20)
    with pytest.raises(InputError, match=r"certs2.csv, row 3, column 'instrument_id': instrument 'GEC-A' is claimed "
                                         r"twice: instrument 'GEC-A' \(certs2.csv row 2\) has the same id"):
        import_(db, "instrument", bad(tmp_path, twice, "certs2.csv"))
    assert stored(db) == 0


def test_serial_range_starting_before_a_stored_one_is_refused(db, tmp_path):
    """Defect: a new range that began before an overlapping stored range was blamed on the stored row and let in."""
    import_(db, "instrument", bad(tmp_path, INSTRUMENT_HEADER + gec_row("GEC-A", 1000, 1999), "a.csv"))
    with pytest.raises(InputError) as exc:
        import_(db, "instrument", bad(tmp_path, INSTRUMENT_HEADER + gec_row("GEC-B", 500, 1499), "b.csv"))
    [p] = exc.value.problems
    assert (p.source, p.row, p.column) == ("b.csv", 2, "serial_start")
    assert "500-1499 overlaps 1000-1999 of instrument 'GEC-A' (a.csv row 2, batch 1)" in p.reason
    assert stored(db) == 1


def test_double_claim_at_compute_names_file_and_row_with_whole_serials(org, cn):
    """The last line of defence (rows stored before the checks at import) names the rows; serials as integers."""
    from tests.helpers import data, elec, gec
    from zerocarbon.core.ghg.inventory import compute_inventory
    from zerocarbon.errors import DoubleClaimError

    d = data(electricity=[elec("TJ01", 100_000)],
             instrument=[{**gec("G1", "TJ01", 1000, "2023", serial=(300001000.0, 300001999.0), year=2023),
                          "activity_id": "b1:certs.csv:2"},
                         {**gec("G2", "TJ01", 1000, "2023", serial=(300001500.0, 300002499.0), year=2023),
                          "activity_id": "b2:more.csv:7"}])
    with pytest.raises(DoubleClaimError) as exc:
        compute_inventory(org, d, cn, 2023)
    assert str(exc.value) == ("more.csv row 7, batch 2: serial range 300001500-300002499 overlaps 300001000-300001999 "
                              "of instrument 'G1' (certs.csv row 2, batch 1), registry CN-GEC: those certificates "
                              "would be claimed twice")


def test_electricity_in_a_mass_unit_is_refused(db, tmp_path):
    text = (DATA / "electricity_ok.csv").read_text().replace("0.6,GWh", "0.6,t")
    with pytest.raises(InputError, match=r"row 3, column 'unit': unit 't' is not an energy unit"):
        import_(db, "electricity", bad(tmp_path, text, "e.csv"))


def test_xlsx_import(db, tmp_path):
    df = pd.read_csv(DATA / "electricity_ok.csv", dtype=str)
    path = tmp_path / "electricity.xlsx"
    df.to_excel(path, index=False)
    assert import_(db, "electricity", path).rows == 3


def test_gbk_csv_with_chinese_headers_imports(db, tmp_path):
    """Defect: a CSV saved by Excel in Chinese (GBK, Chinese headers) could not be imported."""
    path = tmp_path / "电力.csv"
    path.write_bytes("站点,电表,开始日期,结束日期,数量,单位\nTJ01,一号总表,2023-01-01,2023-01-31,1000,MWh\n"
                     .encode("gbk"))
    assert import_(db, "electricity", path).rows == 1
    result = accounting.compute(db, "ORG", 2023, "CN-2025.1", actor="test")
    assert result.totals()["scope2_location_t"] == pytest.approx(636.1)


def test_instrument_without_technology_or_factor_is_refused(db, tmp_path):
    text = (DATA / "instrument_ok.csv").read_text()
    blank_factor = text.replace(",0,solar", ",,solar")
    with pytest.raises(InputError, match=r"row 2, column 'emission_factor': value is required"):
        import_(db, "instrument", bad(tmp_path, blank_factor, "i.csv"))
    no_technology = "\n".join(line.rsplit(",", 1)[0] for line in text.splitlines()) + "\n"
    with pytest.raises(InputError, match=r"column 'technology': required column is missing"):
        import_(db, "instrument", bad(tmp_path, no_technology, "i2.csv"))
    assert stored(db) == 0


def test_several_sheet_workbook_is_refused_and_writes_nothing(db, tmp_path):
    """Defect: the second sheet of a workbook was silently dropped."""
    df = pd.read_csv(DATA / "electricity_ok.csv", dtype=str)
    path = tmp_path / "electricity.xlsx"
    with pd.ExcelWriter(path) as xw:
        df.iloc[:2].to_excel(xw, sheet_name="TJ01", index=False)
        df.iloc[2:].to_excel(xw, sheet_name="HF01", index=False)
    with pytest.raises(InputError, match=r"2 sheets with data \('TJ01', 'HF01'\); pass --sheet NAME"):
        import_(db, "electricity", path)
    assert stored(db) == 0
