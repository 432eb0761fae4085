"""A corrected fuel or refrigerant row imported as a new file must not be counted twice silently.

Defect: the duplicate check on deliveries and stock records caught only rows identical in every amount, so a
refrigerant row whose charge was corrected from 1800 to 1900 kg, saved as a new file, was imported and Scope 1
rose with no warning. Rule: an optional `reference` column (单据号: invoice or delivery note number, equipment id,
log reference); two records of the same site, material and period repeat each other when both give the same
reference, or, when either gives none, the same quantity. Same site, material and period with another quantity and
no reference on both is imported with a warning that it may be a correction.
"""
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import frame
from zerocarbon.core.ghg import overlaps
from zerocarbon.errors import InputError
from zerocarbon.services import accounting

DATA = Path(__file__).parent / "data"
YEAR = 2023
REFRIGERANT_HEADER = ("site,period_start,period_end,gas,method,unit,inventory_start,inventory_end,purchased,"
                      "recovered_or_sold,capacity_change,charge,annual_leak_rate,parameter_source")
# A row as in examples/refrigerant_2025.csv (a chiller's HFC-134a charge, screening method), in the test year.
CHILLER = "TJ01,2023-01-01,2023-12-31,HFC-134a,screening,kg,,,,,,{charge},0.02,chiller service records"
FUEL_HEADER = "site,period_start,period_end,fuel,use,quantity,unit,basis,biogenic"


def write(folder: Path, name: str, *lines: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def import_(db, kind, path):
    return accounting.import_file(db, "ORG", kind, path, YEAR, "CN-2025.1", actor="tester")


def scope1(db) -> float:
    return accounting.compute(db, "ORG", YEAR, "CN-2025.1", actor="test").totals()["scope1_t"]


DIESEL = {"site": "TJ01", "period_start": "2025-01-01", "period_end": "2025-01-31", "fuel": "gas_diesel_oil",
          "use": "mobile", "quantity": 2.5, "unit": "t", "basis": "", "biogenic": False}


def fuel(**kw):
    return {**DIESEL, **kw}


# -- the rule, on plain frames ------------------------------------------------------------------------------
def test_same_reference_repeats_a_delivery_even_with_a_corrected_quantity():
    existing = frame("fuel", [fuel(reference="FP-1"), fuel(reference="FP-2", quantity=3.0)])
    new = frame("fuel", [fuel(reference="FP-1", quantity=2.6), fuel(reference="FP-3", quantity=3.0)])
    clash = overlaps.against("fuel", new, existing)
    assert [(i, j) for i, j, _ in clash] == [(0, 0)]
    assert "same reference 'FP-1'" in clash[0][2]
    # Different references in one month are separate deliveries, even with equal quantities.
    assert overlaps.possible_corrections("fuel", new, existing) == []
    inside = frame("fuel", [fuel(reference="FP-1"), fuel(reference="FP-2"), fuel(reference="FP-1", quantity=9)])
    assert [(i, j) for i, j, _ in overlaps.within("fuel", inside)] == [(2, 0)]


def test_without_a_reference_an_equal_quantity_repeats_and_another_quantity_is_a_possible_correction():
    existing = frame("fuel", [fuel(), fuel(reference="FP-2", quantity=3.0)])
    # Row 0 repeats existing row 0; row 1 has no reference and equals the referenced row 1 in quantity.
    new = frame("fuel", [fuel(), fuel(quantity=3.0), fuel(quantity=4.0)])
    assert [(i, j) for i, j, _ in overlaps.against("fuel", new, existing)] == [(0, 0), (1, 1)]
    corrections = overlaps.possible_corrections("fuel", new, existing)
    assert [(i, j) for i, j, _ in corrections] == [(2, 0)]
    assert "quantity 4, unit t" in corrections[0][2] and "quantity 2.5, unit t" in corrections[0][2]
    # Another period, use or site is another record.
    other = frame("fuel", [fuel(quantity=4.0, use="stationary"), fuel(quantity=4.0, site="HF01"),
                           fuel(quantity=4.0, period_start="2025-02-01", period_end="2025-02-28")])
    assert overlaps.possible_corrections("fuel", other, existing) == []
    assert overlaps.against("fuel", other, existing) == []
    inside = frame("fuel", [fuel(), fuel(quantity=3.0), fuel(quantity=2.5)])
    assert [(i, j) for i, j, _ in overlaps.within("fuel", inside)] == [(2, 0)]
    assert [(i, j) for i, j, _ in overlaps.possible_corrections_within("fuel", inside)] == [(1, 0)]


def test_stored_records_without_a_reference_column_compare_by_quantity():
    """Batches stored before the column existed have no `reference` in their payloads."""
    existing = frame("refrigerant", [{"site": "TJ01", "period_start": "2025-01-01", "period_end": "2025-12-31",
                                      "gas": "HFC-134a", "method": "screening", "unit": "kg", "charge": 1800.0,
                                      "annual_leak_rate": 0.02}])
    assert "reference" not in existing
    new = frame("refrigerant", [{**existing.iloc[0].to_dict(), "charge": 1900.0, "reference": ""}])
    assert overlaps.against("refrigerant", new, existing) == []
    [(i, j, reason)] = overlaps.possible_corrections("refrigerant", new, existing)
    assert "charge 1900," in reason and "charge 1800," in reason


# -- through the store ----------------------------------------------------------------------------------------
def test_corrected_refrigerant_charge_as_a_new_file_warns_it_may_be_a_correction(db, tmp_path):
    first = import_(db, "refrigerant", write(tmp_path, "refrigerant_2023.csv", REFRIGERANT_HEADER,
                                             CHILLER.format(charge=1800)))
    assert first.warnings == []
    before = scope1(db)
    again = import_(db, "refrigerant", write(tmp_path, "refrigerant_fixed.csv", REFRIGERANT_HEADER,
                                             CHILLER.format(charge=1900)))
    [warning] = again.warnings
    assert warning.startswith("refrigerant_fixed.csv row 2: ")
    assert f"may be a correction of batch {first.batch_id} row 2" in warning
    assert f"zerocarbon import replace {first.batch_id} FILE" in warning
    assert f"zerocarbon import undo {again.batch_id} --reason" in warning
    assert scope1(db) > before
    # The same charge again (in another file) is refused outright.
    with pytest.raises(InputError) as exc:
        import_(db, "refrigerant", write(tmp_path, "refrigerant_copy.csv", REFRIGERANT_HEADER,
                                         CHILLER.format(charge=1800).replace("service records", "log")))
    [p] = exc.value.problems
    assert (p.source, p.row) == ("refrigerant_copy.csv", 2)
    assert f"already imported as refrigerant_2023.csv row 2 (batch {first.batch_id}" in p.reason
    assert f"zerocarbon import replace {first.batch_id} FILE" in p.reason


def test_corrected_fuel_delivery_with_its_reference_is_refused_naming_both_files(db, tmp_path):
    first = import_(db, "fuel", write(tmp_path, "fuel_jan.csv", FUEL_HEADER + ",单据号",
                                      "TJ01,2023-01-01,2023-01-31,gas_diesel_oil,mobile,2.5,t,,false,FP-0117",
                                      "TJ01,2023-01-01,2023-01-31,gas_diesel_oil,mobile,2.5,t,,false,FP-0118"))
    assert first.rows == 2 and first.warnings == []
    before = scope1(db)
    corrected = write(tmp_path, "fuel_jan_fixed.csv", FUEL_HEADER + ",reference",
                      "TJ01,2023-01-01,2023-01-31,gas_diesel_oil,mobile,2.7,t,,false,FP-0118")
    with pytest.raises(InputError) as exc:
        import_(db, "fuel", corrected)
    [p] = exc.value.problems
    assert (p.source, p.row) == ("fuel_jan_fixed.csv", 2)
    assert "same reference 'FP-0118'" in p.reason
    assert f"already imported as fuel_jan.csv row 3 (batch {first.batch_id}" in p.reason
    assert f"`zerocarbon import replace {first.batch_id} FILE`" in p.reason
    assert scope1(db) == pytest.approx(before)
    # A third delivery of the month, with its own reference, is another record.
    late = write(tmp_path, "fuel_jan_late.csv", FUEL_HEADER + ",reference",
                 "TJ01,2023-01-01,2023-01-31,gas_diesel_oil,mobile,2.5,t,,false,FP-0131")
    assert import_(db, "fuel", late).warnings == []
    # The correction goes through replace.
    fixed = write(tmp_path, "fuel_jan_v2.csv", FUEL_HEADER + ",reference",
                  "TJ01,2023-01-01,2023-01-31,gas_diesel_oil,mobile,2.5,t,,false,FP-0117",
                  "TJ01,2023-01-01,2023-01-31,gas_diesel_oil,mobile,2.7,t,,false,FP-0118")
    assert accounting.replace_batch(db, "ORG", first.batch_id, fixed, "CN-2025.1", actor="test").warnings == []


def test_repeated_reference_inside_one_file_is_refused_and_an_unreferenced_pair_warns(db, tmp_path):
    same = write(tmp_path, "gas.csv", "site,period_start,period_end,gas,consumed,unit,heel,utilisation,"
                 "abatement_fraction,destruction_efficiency,parameter_source,reference",
                 "TJ01,2023-01-01,2023-06-30,NF3,10,kg,0.1,0.8,0.9,0.95,GB/T 32151.24,ETCH-07",
                 "TJ01,2023-01-01,2023-06-30,NF3,12,kg,0.1,0.8,0.9,0.95,GB/T 32151.24,ETCH-07")
    with pytest.raises(InputError, match="gas.csv, row 3: .*same reference 'ETCH-07': row 2 of this file"):
        import_(db, "process_gas", same)
    pair = write(tmp_path, "fuel.csv", FUEL_HEADER, "TJ01,2023-01-01,2023-01-31,gas_diesel_oil,mobile,2.5,t,,false",
                 "TJ01,2023-01-01,2023-01-31,gas_diesel_oil,mobile,3,t,,false")
    [warning] = import_(db, "fuel", pair).warnings
    assert warning.startswith("fuel.csv row 3: ") and "may be a correction of row 2 of this file" in warning


def test_cli_prints_the_warning_and_puts_it_in_json(tmp_path):
    from zerocarbon.cli import app

    runner = CliRunner()
    db = ["--db", f"sqlite:///{tmp_path / 'z.sqlite'}"]
    assert runner.invoke(app, ["org", "load", str(DATA / "organisation.yaml"), *db]).exit_code == 0
    first = write(tmp_path, "r1.csv", REFRIGERANT_HEADER, CHILLER.format(charge=1800))
    second = write(tmp_path, "r2.csv", REFRIGERANT_HEADER, CHILLER.format(charge=1900))
    third = write(tmp_path, "r3.csv", REFRIGERANT_HEADER, CHILLER.format(charge=2000))
    args = ["--org", "ORG", "--year", "2023", *db]
    r = runner.invoke(app, ["import", "refrigerant", str(first), *args, "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["warnings"] == []
    r = runner.invoke(app, ["import", "refrigerant", str(second), *args])
    assert r.exit_code == 0 and "warning:" in r.output and "may be a correction of batch 1 row 2" in r.output
    r = runner.invoke(app, ["import", "refrigerant", str(third), *args, "--json"])
    assert r.exit_code == 0
    assert "may be a correction of batch 1 row 2" in json.loads(r.stdout)["warnings"][0]
