"""Imported files are versioned batches; no activity is ever counted twice.

Defects these tests pin down: re-importing a corrected electricity file was accepted as a second batch and
doubled Scope 2; a repeated meter-month or an overlapping period in another file was accepted; two
`electricity.csv` from different folders could not be told apart in the lineage; there was no way to list,
replace or undo a batch.
"""
import json
from pathlib import Path

import pandas as pd
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text
from typer.testing import CliRunner

from zerocarbon.core.factors import load_factor_set
from zerocarbon.core.ghg import overlaps
from zerocarbon.core.ghg.inventory import ActivityData, compute_inventory
from zerocarbon.errors import ClosedInventoryError, InputError, NotFoundError, ZerocarbonError
from zerocarbon.io.org import read_organisation
from zerocarbon.io.tables import read_table, validate
from zerocarbon.services import accounting
from zerocarbon.store import repos
from zerocarbon.store.tables import ActivityRow
from tests.conftest import BACKENDS, blank_engine
from tests.helpers import elec, frame

DATA = Path(__file__).parent / "data"
ELEC = (DATA / "electricity_ok.csv").read_text()
ELEC_HEADER = "site,meter,period_start,period_end,quantity,unit\n"
FUEL_HEADER = "site,period_start,period_end,fuel,use,quantity,unit,basis,biogenic\n"
YEAR = 2023


@pytest.fixture
def db(sessions):
    accounting.load_organisation_file(sessions, DATA / "organisation.yaml", actor="test")
    return sessions


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


def import_(db, kind, path):
    return accounting.import_file(db, "ORG", kind, path, YEAR, "CN-2025.1", actor="tester")


def scope2(db) -> float:
    return accounting.compute(db, "ORG", YEAR, "CN-2025.1", actor="test").totals()["scope2_location_t"]


# -- the overlap rules, on plain frames -------------------------------------------------------------------
def test_meter_periods_that_share_a_day_overlap_and_adjacent_months_do_not():
    jan = elec("TJ01", 1, month=1)
    year = {**elec("TJ01", 1), "period_start": "2025-01-01", "period_end": "2025-12-31"}
    next_day = {**elec("TJ01", 1), "period_start": "2025-01-28", "period_end": "2025-02-10"}
    feb = {**elec("TJ01", 1, month=2)}
    other_meter = {**jan, "meter": "TJ01-M2"}
    existing = frame("electricity", [jan])
    assert overlaps.against("electricity", frame("electricity", [feb, other_meter]), existing) == []
    clashes = overlaps.against("electricity", frame("electricity", [feb, year, next_day]), existing)
    assert [(i, j) for i, j, _ in clashes] == [(1, 0), (2, 0)]
    assert "2025-01-01..2025-12-31 overlaps 2025-01-01..2025-01-28" in clashes[0][2]
    # A long period already stored is found even when a shorter one starts later.
    assert [(i, j) for i, j, _ in overlaps.against("electricity", frame("electricity", [feb]),
                                                   frame("electricity", [year, jan]))] == [(0, 0)]
    inside = frame("electricity", [jan, feb, year])
    assert [(i, j) for i, j, _ in overlaps.within("electricity", inside)] == [(1, 2), (2, 0)]


def test_heat_and_generation_overlap_by_supplier_and_technology():
    heat = {"site": "TJ01", "period_start": "2025-01-01", "period_end": "2025-03-31", "quantity": 10, "unit": "GJ",
            "supplier_factor": 0.1, "supplier_factor_unit": "t/GJ", "factor_source": "letter 2025"}
    q2 = {**heat, "period_start": "2025-03-01", "period_end": "2025-06-30"}
    assert len(overlaps.within("heat", frame("heat", [heat, q2]))) == 1
    assert overlaps.within("heat", frame("heat", [heat, {**q2, "factor_source": "other supplier"}])) == []
    pv = {"site": "TJ01", "period_start": "2025-01-01", "period_end": "2025-01-31", "technology": "pv",
          "generated": 5, "exported": 0, "unit": "kWh"}
    assert len(overlaps.against("generation", frame("generation", [pv]), frame("generation", [pv]))) == 1
    assert overlaps.against("generation", frame("generation", [{**pv, "technology": "wind"}]),
                            frame("generation", [pv])) == []


def test_fuel_deliveries_repeat_only_when_identical():
    d = {"site": "TJ01", "period_start": "2025-01-01", "period_end": "2025-01-31", "fuel": "gas_diesel_oil",
         "use": "mobile", "quantity": 2.5, "unit": "t", "basis": "", "biogenic": False}
    two = frame("fuel", [d, {**d, "quantity": 3.0}])
    assert overlaps.within("fuel", two) == []
    clash = overlaps.against("fuel", frame("fuel", [{**d, "quantity": 3.0}]), two)
    assert [(i, j) for i, j, _ in clash] == [(0, 1)] and "repeats an identical fuel record" in clash[0][2]
    gas = {"site": "TJ01", "period_start": "2025-01-01", "period_end": "2025-12-31", "gas": "NF3", "consumed": 10,
           "unit": "kg", "heel": 0.1, "utilisation": 0.8, "abatement_fraction": 0.9, "destruction_efficiency": 0.95,
           "parameter_source": "x"}
    assert len(overlaps.within("process_gas", frame("process_gas", [gas, gas]))) == 1


# -- the doubling defect and its relatives, through the store ------------------------------------------------
def test_reimporting_a_corrected_electricity_file_is_refused_and_scope2_is_not_doubled(db, tmp_path):
    first = import_(db, "electricity", write(tmp_path / "jan", "electricity.csv", ELEC))
    before = scope2(db)
    corrected = write(tmp_path / "fixed", "electricity.csv", ELEC.replace("400000,kWh", "400100,kWh"))
    with pytest.raises(InputError) as exc:
        import_(db, "electricity", corrected)
    problems = exc.value.problems
    assert [(p.source, p.row) for p in problems] == [("electricity.csv", 2), ("electricity.csv", 3),
                                                    ("electricity.csv", 4)]
    assert f"already imported as electricity.csv row 2 (batch {first.batch_id}, {tmp_path / 'jan'}" in problems[0].reason
    assert f"zerocarbon import replace {first.batch_id}" in problems[0].reason
    assert scope2(db) == pytest.approx(before)
    assert [b.id for b in accounting.list_batches(db, "ORG")] == [first.batch_id]


def test_repeated_meter_month_in_another_file_is_refused(db, tmp_path):
    import_(db, "electricity", DATA / "electricity_ok.csv")
    again = write(tmp_path, "feb_extra.csv", ELEC_HEADER + "TJ01,TJ01-M1,2023-02-01,2023-02-28,5,MWh\n")
    with pytest.raises(InputError, match=r"feb_extra.csv, row 2.*overlaps 2023-02-01..2023-02-28 of the same meter: "
                                         r"already imported as electricity_ok.csv row 3"):
        import_(db, "electricity", again)


def test_overlapping_period_is_refused_across_files_and_inside_one_file(db, tmp_path):
    import_(db, "electricity", DATA / "electricity_ok.csv")
    straddle = write(tmp_path, "straddle.csv", ELEC_HEADER + "TJ01,TJ01-M1,2023-01-15,2023-02-14,5,MWh\n"
                     "TJ01,TJ01-M1,2023-03-01,2023-03-31,5,MWh\n")
    with pytest.raises(InputError) as exc:
        import_(db, "electricity", straddle)
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "period_start")]
    inside = write(tmp_path, "inside.csv", ELEC_HEADER + "TJ01,TJ01-M9,2023-03-01,2023-03-31,5,MWh\n"
                   "TJ01,TJ01-M9,2023-03-31,2023-04-30,5,MWh\n")
    with pytest.raises(InputError, match="inside.csv, row 3.*row 2 of this file already has it"):
        import_(db, "electricity", inside)
    assert len(accounting.list_batches(db, "ORG")) == 1


def test_separate_fuel_deliveries_in_one_month_are_allowed_but_a_repeat_is_not(db, tmp_path):
    deliveries = write(tmp_path, "fuel_jan.csv", FUEL_HEADER + "TJ01,2023-01-01,2023-01-31,gas_diesel_oil,mobile,2.5,t,,false\n"
                       "TJ01,2023-01-01,2023-01-31,gas_diesel_oil,mobile,3.0,t,,false\n")
    assert import_(db, "fuel", deliveries).rows == 2
    third = write(tmp_path, "fuel_jan_late.csv", FUEL_HEADER + "TJ01,2023-01-01,2023-01-31,gas_diesel_oil,mobile,1.25,t,,false\n")
    assert import_(db, "fuel", third).rows == 1
    repeat = write(tmp_path, "fuel_copy.csv", FUEL_HEADER + "TJ01,2023-01-01,2023-01-31,gas_diesel_oil,mobile,3,t,,false\n")
    with pytest.raises(InputError, match=r"repeats an identical fuel record \(same quantity.*\): already imported as "
                                         "fuel_jan.csv row 3"):
        import_(db, "fuel", repeat)


def test_replace_is_checked_against_other_batches_but_not_the_one_replaced(db, tmp_path):
    tj = import_(db, "electricity", write(tmp_path, "tj.csv", ELEC_HEADER + "TJ01,TJ01-M1,2023-01-01,2023-01-31,1,MWh\n"))
    hf = import_(db, "electricity", write(tmp_path, "hf.csv", ELEC_HEADER + "HF01,HF01-M1,2023-01-01,2023-01-31,1,MWh\n"))
    fixed = write(tmp_path, "tj_fixed.csv", ELEC_HEADER + "TJ01,TJ01-M1,2023-01-01,2023-01-31,2,MWh\n")
    bad = write(tmp_path, "tj_bad.csv", ELEC_HEADER + "TJ01,TJ01-M1,2023-01-01,2023-01-31,2,MWh\n"
                "HF01,HF01-M1,2023-01-10,2023-01-20,2,MWh\n")
    with pytest.raises(InputError, match=f"row 3.*hf.csv row 2 \\(batch {hf.batch_id}"):
        accounting.replace_batch(db, "ORG", tj.batch_id, bad, "CN-2025.1", actor="test")
    new = accounting.replace_batch(db, "ORG", tj.batch_id, fixed, "CN-2025.1", reason="meter read corrected", actor="test")
    status = {b.id: (b.status, b.superseded_by, b.replaces) for b in accounting.list_batches(db, "ORG")}
    assert status == {tj.batch_id: ("superseded", new.batch_id, None), hf.batch_id: ("active", None, None),
                      new.batch_id: ("active", None, tj.batch_id)}
    with pytest.raises(ZerocarbonError, match="superseded") as exc:
        accounting.replace_batch(db, "ORG", tj.batch_id, fixed, "CN-2025.1", actor="test")
    assert not isinstance(exc.value, InputError)  # the file is fine; the batch is not the one to replace


def test_withdrawn_batch_is_not_counted_and_its_file_can_be_imported_again(db, tmp_path):
    b = import_(db, "electricity", DATA / "electricity_ok.csv")
    with_it = scope2(db)
    accounting.undo_batch(db, "ORG", b.batch_id, "imported into the wrong organisation", actor="test")
    assert scope2(db) == 0
    again = import_(db, "electricity", DATA / "electricity_ok.csv")
    assert again.batch_id != b.batch_id and scope2(db) == pytest.approx(with_it)


def test_closed_year_refuses_replace_and_undo_until_reopened(db, tmp_path):
    b = import_(db, "electricity", DATA / "electricity_ok.csv")
    f = import_(db, "fuel", DATA / "fuel_ok.csv")
    accounting.compute(db, "ORG", YEAR, "CN-2025.1", actor="test")
    accounting.close_inventory(db, "ORG", YEAR, actor="test")
    fixed = write(tmp_path, "electricity_fixed.csv", ELEC.replace("400000,kWh", "400100,kWh"))
    with pytest.raises(ClosedInventoryError, match="zerocarbon inventory reopen"):
        accounting.replace_batch(db, "ORG", b.batch_id, fixed, "CN-2025.1", actor="test")
    with pytest.raises(ClosedInventoryError, match="closed"):
        accounting.undo_batch(db, "ORG", f.batch_id, "duplicate", actor="test")
    with pytest.raises(ClosedInventoryError, match="closed"):
        import_(db, "instrument", DATA / "instrument_ok.csv")
    assert [x.status for x in accounting.list_batches(db, "ORG")] == ["active", "active"]
    accounting.reopen_inventory(db, "ORG", YEAR, "meter reading corrected by the utility", actor="auditor")
    accounting.replace_batch(db, "ORG", b.batch_id, fixed, "CN-2025.1", actor="test")
    accounting.undo_batch(db, "ORG", f.batch_id, "duplicate", actor="test")
    reopen = [a for a in accounting.audit_trail(db, "ORG") if a.action == "inventory.reopen"]
    assert len(reopen) == 1 and reopen[0].actor == "auditor"
    assert reopen[0].detail["reason"] == "meter reading corrected by the utility"


def test_same_named_files_in_different_folders_stay_apart_in_the_lineage(db, tmp_path):
    a = import_(db, "electricity", write(tmp_path / "tianjin", "electricity.csv",
                                         ELEC_HEADER + "TJ01,TJ01-M1,2023-01-01,2023-01-31,1,MWh\n"))
    b = import_(db, "electricity", write(tmp_path / "hefei", "electricity.csv",
                                         ELEC_HEADER + "HF01,HF01-M1,2023-01-01,2023-01-31,1,MWh\n"))
    accounting.compute(db, "ORG", YEAR, "CN-2025.1", actor="test")
    meta, ledger = accounting.stored_ledger(db, "ORG", YEAR, method="location")
    assert sorted(ledger["activity_id"].astype(str)) == [f"b{a.batch_id}:electricity.csv:2",
                                                          f"b{b.batch_id}:electricity.csv:2"]
    assert sorted(ledger["batch_id"].tolist()) == sorted([a.batch_id, b.batch_id])
    assert meta["batches"][a.batch_id]["path"] == str(tmp_path / "tianjin" / "electricity.csv")
    assert meta["batches"][b.batch_id]["path"] == str(tmp_path / "hefei" / "electricity.csv")
    assert meta["batches"][a.batch_id]["sha256"] != meta["batches"][b.batch_id]["sha256"]


def test_stored_values_come_back_exactly(db, tmp_path):
    """Payloads keep every digit of a float (a JSON writer with fixed decimals would not)."""
    q = "0.1234567890123456789"
    calls = []
    accounting.import_file(db, "ORG", "electricity", write(
        tmp_path, "e.csv", ELEC_HEADER + f"TJ01,TJ01-M1,2023-01-01,2023-01-31,{q},kWh\n"
        "TJ01,TJ01-M2,2023-01-01,2023-01-31,1.2345678901234567e-10,GWh\n"), YEAR, "CN-2025.1",
        progress=lambda done, total: calls.append((done, total)), actor="test")
    assert calls[-1] == (2, 2)
    import_(db, "electricity", write(tmp_path, "e2.csv", ELEC_HEADER + "TJ01,TJ01-M3,2023-01-01,2023-01-31,3,kWh\n"))
    with db() as s:
        org_id, _ = repos.load_organisation(s, "ORG")
        df = repos.load_activities(s, org_id, YEAR).data.get("electricity")
        # Read back a page at a time, the pages end inside and at the end of a batch.
        paged = repos.load_activities(s, org_id, YEAR, chunk=1).data.get("electricity")
    assert df["quantity"].tolist() == [float(q), 1.2345678901234567e-10, 3.0]
    pd.testing.assert_frame_equal(paged.astype({"activity_id": str}), df.astype({"activity_id": str}))
    assert str(df["period_end"].iloc[0].date()) == "2023-01-31"


# -- acceptance: a year corrected by replace and undo equals the year computed from the corrected files ------
def test_corrected_year_equals_the_inventory_of_the_corrected_files_alone(db, tmp_path):
    fuel_extra = write(tmp_path / "in", "fuel_extra.csv",
                       FUEL_HEADER + "TJ01,2023-05-01,2023-05-31,gas_diesel_oil,stationary,7,t,,false\n")
    elec_v1 = write(tmp_path / "in", "electricity.csv", ELEC)
    elec_v2 = write(tmp_path / "fixed", "electricity.csv", ELEC.replace("0.6,GWh", "0.65,GWh"))
    heat = write(tmp_path / "in", "heat.csv", "site,period_start,period_end,quantity,unit,supplier_factor,"
                 "supplier_factor_unit,factor_source\nTJ01,2023-01-01,2023-12-31,1200,GJ,0.11,t/GJ,supplier letter 2023\n")
    batches = {}
    for kind, path in (("electricity", elec_v1), ("fuel", DATA / "fuel_ok.csv"), ("fuel", fuel_extra),
                       ("instrument", DATA / "instrument_ok.csv"), ("heat", heat)):
        batches[path.name] = import_(db, kind, path).batch_id
    replaced = accounting.replace_batch(db, "ORG", batches["electricity.csv"], elec_v2, "CN-2025.1",
                                        actor="tester", reason="February read corrected by the utility")
    accounting.undo_batch(db, "ORG", batches["fuel_extra.csv"], "generator test run booked twice", actor="tester")
    stored = accounting.compute(db, "ORG", YEAR, "CN-2025.1", actor="tester")

    org = read_organisation(DATA / "organisation.yaml")
    fs = load_factor_set("CN-2025.1")
    sites = {s.code for s in org.sites}
    alone = ActivityData({kind: validate(kind, read_table(p), p.name, sites, YEAR, fs) for kind, p in
                          (("electricity", elec_v2), ("fuel", DATA / "fuel_ok.csv"),
                           ("instrument", DATA / "instrument_ok.csv"), ("heat", heat))})
    expected = compute_inventory(org, alone, fs, YEAR)
    assert stored.totals() == pytest.approx(expected.totals(), rel=1e-12)
    uncorrected = ActivityData({**alone.frames, "electricity": validate("electricity", read_table(elec_v1), "e", sites,
                                                                         YEAR, fs)})
    assert stored.totals()["scope2_location_t"] != pytest.approx(
        compute_inventory(org, uncorrected, fs, YEAR).totals()["scope2_location_t"])
    meta, ledger = accounting.stored_ledger(db, "ORG", YEAR)
    keys = ["site", "scope", "category", "method", "gas"]
    got = ledger.assign(activity_id=ledger["activity_id"].astype(str).str.replace(r"^b\d+:", "", regex=True))
    for col in keys:
        got[col] = got[col].astype(str)
    want = expected.ledger.astype({c: str for c in keys})
    pd.testing.assert_series_equal(got.groupby(keys)["co2e_t"].sum(), want.groupby(keys)["co2e_t"].sum(),
                                   check_exact=False, rtol=1e-12)
    assert sorted(got["activity_id"]) == sorted(want["activity_id"].astype(str))
    # Certificates enter through the market-based factor of the electricity rows, not as rows of their own.
    assert set(ledger["batch_id"]) == {replaced.batch_id, batches["fuel_ok.csv"], batches["heat.csv"]}

    trail = [(a.action, a.entity) for a in accounting.audit_trail(db, "ORG")]
    b = batches
    assert trail == [("organisation.load", "ORG"),
                     ("import", f"batch:{b['electricity.csv']}"), ("import", f"batch:{b['fuel_ok.csv']}"),
                     ("import", f"batch:{b['fuel_extra.csv']}"), ("import", f"batch:{b['instrument_ok.csv']}"),
                     ("import", f"batch:{b['heat.csv']}"),
                     ("import.replace", f"batch:{b['electricity.csv']}"), ("import", f"batch:{replaced.batch_id}"),
                     ("import.undo", f"batch:{b['fuel_extra.csv']}"), ("inventory.compute", f"ORG:{YEAR}")]
    detail = accounting.show_batch(db, "ORG", b["electricity.csv"])
    assert [v.id for v in detail.versions] == [b["electricity.csv"], replaced.batch_id]
    assert [v.status for v in detail.versions] == ["superseded", "active"]
    assert detail.batch.path == str(elec_v1) and detail.versions[1].path == str(elec_v2)
    assert [a.action for a in detail.audit] == ["import", "import.replace", "import"]


# -- the command line ------------------------------------------------------------------------------------------
def test_cli_import_list_show_replace_undo_and_explain(tmp_path):
    from zerocarbon.cli import app

    runner = CliRunner()
    db = ["--db", f"sqlite:///{tmp_path / 'z.sqlite'}"]
    assert runner.invoke(app, ["org", "load", str(DATA / "organisation.yaml"), *db]).exit_code == 0
    r = runner.invoke(app, ["import", "electricity", str(DATA / "electricity_ok.csv"), "--org", "ORG", "--year", "2023",
                            *db, "--json", "--actor", "alice"])
    assert r.exit_code == 0, r.output
    first = json.loads(r.stdout)["batch_id"]
    fixed = write(tmp_path, "electricity_ok.csv", ELEC.replace("400000,kWh", "400100,kWh"))
    r = runner.invoke(app, ["import", "electricity", str(fixed), "--org", "ORG", "--year", "2023", *db])
    assert r.exit_code == 2 and "already imported as electricity_ok.csv row 2" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["import", "replace", str(first), str(fixed), "--org", "ORG", *db, "--json"])
    assert r.exit_code == 0, r.output
    second = json.loads(r.stdout)["batch_id"]
    r = runner.invoke(app, ["import", "fuel", str(DATA / "fuel_ok.csv"), "--org", "ORG", "--year", "2023", *db, "--json"])
    fuel = json.loads(r.stdout)["batch_id"]
    assert runner.invoke(app, ["import", "undo", str(fuel), "--org", "ORG", *db]).exit_code == 2  # --reason needed
    r = runner.invoke(app, ["import", "undo", str(fuel), "--org", "ORG", "--reason", "wrong year", *db])
    assert r.exit_code == 0 and "withdrawn" in r.output
    r = runner.invoke(app, ["import", "list", "--org", "ORG", *db, "--json"])
    listed = {b["id"]: b for b in json.loads(r.stdout)}
    assert {k: v["status"] for k, v in listed.items()} == {first: "superseded", second: "active", fuel: "withdrawn"}
    assert listed[first]["imported_by"] == "cli:alice" and listed[first]["path"] == str(DATA / "electricity_ok.csv")
    assert len(listed[first]["sha256"]) == 64 and listed[first]["rows"] == 3
    r = runner.invoke(app, ["import", "show", str(first), "--org", "ORG", *db, "--json"])
    assert [a["action"] for a in json.loads(r.stdout)["audit"]] == ["import", "import.replace", "import"]
    assert runner.invoke(app, ["inventory", "compute", "--org", "ORG", "--year", "2023", *db]).exit_code == 0
    r = runner.invoke(app, ["inventory", "show", "--org", "ORG", "--year", "2023", *db, "--explain", "--site", "TJ01",
                            "--scope", "2"])
    assert r.exit_code == 0, r.output
    assert f"b{second}:electricity_ok.csv:2" in r.output and f"from batch {second}: " in r.output
    r = runner.invoke(app, ["inventory", "show", "--org", "ORG", "--year", "2023", *db, "--explain", "--site", "TJ01",
                            "--scope", "2", "--json"])
    out = json.loads(r.stdout)
    row = next(x for x in out["explain"]["rows"] if x["activity_id"] == f"b{second}:electricity_ok.csv:2")
    assert (row["batch_id"], row["row"]) == (second, 2) and out["batches"][str(second)]["path"] == str(fixed)
    assert runner.invoke(app, ["inventory", "show", "--org", "ORG", "--year", "2023", *db, "--method", "mkt"]).exit_code == 2


# -- migration of a database written before batches were versioned -------------------------------------------------
@pytest.fixture(params=BACKENDS)
def engine_0002(request, tmp_path):
    with blank_engine(request.param, tmp_path) as engine:
        yield engine


def test_upgrade_keeps_old_batches_active_and_names_their_batch(engine_0002):
    from importlib import resources

    from zerocarbon.store.db import session_factory, upgrade

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("zerocarbon.store") / "migrations"))
    with engine_0002.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.execute(text("INSERT INTO organisations (id, code, name) VALUES (1, 'ORG', 'Test org')"))
        conn.execute(text("INSERT INTO sites (organisation_id, code, name, country, province, grid_region, timezone, "
                          "equity_share, operational_control, financial_control, methodology) VALUES "
                          "(1, 'TJ01', 'Tianjin', 'CN', '天津', 'north', 'Asia/Shanghai', 1, true, true, 'ghg_protocol')"))
        conn.execute(text("INSERT INTO import_batches (id, organisation_id, kind, source, sha256, year, rows, "
                          "imported_at, imported_by) VALUES (7, 1, 'electricity', 'electricity.csv', 'ab', 2023, 1, "
                          "'2026-01-01 00:00:00', 'cli')"))
        payload = json.dumps({"activity_id": "electricity.csv:2", "site": "TJ01", "meter": "M1",
                              "period_start": "2023-01-01", "period_end": "2023-01-31", "quantity": 1000.5,
                              "unit": "kWh"})
        conn.execute(text("INSERT INTO activities (batch_id, kind, activity_id, site, period_start, period_end, payload) "
                          "VALUES (7, 'electricity', 'electricity.csv:2', 'TJ01', '2023-01-01', '2023-01-31', :p)"),
                     {"p": payload})
        conn.execute(text("INSERT INTO inventories (id, organisation_id, year, boundary, factor_set, "
                          "factor_set_fingerprint, gwp_set, status, computed_at, totals, warnings, exclusions) VALUES "
                          "(1, 1, 2023, 'operational_control', 'CN-2025.1', 'f', 'AR5', 'closed', "
                          "'2026-01-01 00:00:00', '{}', '[]', '[]')"))
        for method, t in (("location", 0.6364), ("market", 0.7)):
            conn.execute(text("INSERT INTO emissions (inventory_id, activity_id, site, scope, category, method, gas, "
                              "gas_kg, gwp_set, gwp, gwp_factor_id, inclusion, co2e_t, factor_ids, formula, memo) VALUES "
                              "(1, 'electricity.csv:2', 'TJ01', '2', 'purchased_electricity', :m, 'CO2', :kg, 'AR5', 1, "
                              "'g', 1, :t, 'f1', 'kWh x EF', '')"), {"m": method, "kg": t * 1000, "t": t})
    upgrade(engine_0002)
    sessions = session_factory(engine_0002)
    [b] = accounting.list_batches(sessions, "ORG")
    assert (b.status, b.path) == ("active", "electricity.csv")
    # A ledger stored before ledger lines existed reads back unchanged.
    meta, old = accounting.stored_ledger(sessions, "ORG", 2023)
    assert old.sort_values("method")[["activity_id", "method", "co2e_t", "formula"]].astype(str).values.tolist() == [
        ["electricity.csv:2", "location", "0.6364", "kWh x EF"], ["electricity.csv:2", "market", "0.7", "kWh x EF"]]
    if engine_0002.dialect.name == "sqlite":
        from zerocarbon.cli import app

        r = CliRunner().invoke(app, ["inventory", "show", "--db", engine_0002.url.render_as_string(), "--org", "ORG",
                                     "--year", "2023", "--explain", "--json"])
        assert r.exit_code == 0, r.output
        assert [x["batch_id"] for x in json.loads(r.stdout)["explain"]["rows"]] == [None]
        r = CliRunner().invoke(app, ["inventory", "show", "--db", engine_0002.url.render_as_string(), "--org", "ORG",
                                     "--year", "2023", "--explain"])
        assert r.exit_code == 0 and "electricity.csv:2" in r.output, r.output
    accounting.reopen_inventory(sessions, "ORG", 2023, "recompute after the upgrade", actor="test")
    result = accounting.compute(sessions, "ORG", 2023, "CN-2025.1", actor="test")
    assert result.ledger["activity_id"].astype(str).unique().tolist() == ["b7:electricity.csv:2"]
    assert result.totals()["scope2_location_t"] == pytest.approx(1.0005 * 0.6361)


@pytest.mark.parametrize("option, value, message", [
    ("--site", "XX01", "ORG has no site 'XX01'; its sites: HF01, TJ01"),
    ("--category", "nonsense", "no ledger category 'nonsense'; the categories: stationary_combustion, "
                               "mobile_combustion, fugitive_refrigerants, process_fgases, purchased_electricity, "
                               "purchased_heat_steam"),
])
def test_explain_refuses_an_unknown_site_or_category(tmp_path, option, value, message):
    """Defect: `inventory show --explain --site XX01` (or `--category nonsense`) printed "0.000 tCO2e = sum of 0
    ledger rows" with exit 0, as if the site had no emissions."""
    from zerocarbon.cli import app

    runner = CliRunner()
    db = ["--db", f"sqlite:///{tmp_path / 'z.sqlite'}"]
    assert runner.invoke(app, ["org", "load", str(DATA / "organisation.yaml"), *db]).exit_code == 0
    assert runner.invoke(app, ["import", "fuel", str(DATA / "fuel_ok.csv"), "--org", "ORG", "--year", "2023",
                               *db]).exit_code == 0
    assert runner.invoke(app, ["inventory", "compute", "--org", "ORG", "--year", "2023", *db]).exit_code == 0
    r = runner.invoke(app, ["inventory", "show", "--org", "ORG", "--year", "2023", *db, "--explain", option, value])
    assert r.exit_code == 2 and message in " ".join(r.output.split()), r.output
    for known in (("--site", "TJ01"), ("--category", "stationary_combustion")):
        r = runner.invoke(app, ["inventory", "show", "--org", "ORG", "--year", "2023", *db, "--explain", *known])
        assert r.exit_code == 0 and "sum of 0 ledger rows" not in r.output, r.output


def test_unknown_gwp_set_is_one_error_naming_the_known_sets(db, tmp_path):
    """Defect: `inventory compute --gwp AR9` gave one error per activity row (41 for the example files)."""
    from zerocarbon.errors import FactorNotFoundError

    import_(db, "fuel", DATA / "fuel_ok.csv")
    with pytest.raises(FactorNotFoundError) as exc:
        accounting.compute(db, "ORG", YEAR, "CN-2025.1", gwp_set="AR9", actor="test")
    assert not isinstance(exc.value, InputError)
    assert str(exc.value) == "GWP set 'AR9' is not in factor set CN-2025.1; choose one of AR4, AR5, AR5_CCF, AR6"


def test_replace_validates_against_the_factor_set_the_batch_was_imported_with(db, tmp_path):
    """Defect: `import replace` validated against the default set (CN-2025.1) unless --factors was given again, so
    a correction of a file imported under EPA-2025.1 was refused for a fuel the EPA set has."""
    propane = FUEL_HEADER + "TJ01,2023-01-01,2023-01-31,propane,stationary,{},mmBtu,GCV,false\n"
    first = accounting.import_file(db, "ORG", "fuel", write(tmp_path, "propane.csv", propane.format(2)), YEAR,
                                   "EPA-2025.1", actor="test")
    assert accounting.import_factor_set(db, "ORG", first.batch_id) == "EPA-2025.1"
    fixed = write(tmp_path, "propane_fixed.csv", propane.format(2.5))
    new = accounting.replace_batch(db, "ORG", first.batch_id, fixed, actor="test")
    assert accounting.import_factor_set(db, "ORG", new.batch_id) == "EPA-2025.1"
    # Naming a set still decides.
    with pytest.raises(InputError, match="propane"):
        accounting.replace_batch(db, "ORG", new.batch_id, write(tmp_path, "p3.csv", propane.format(3)), "CN-2025.1", actor="test")


# -- approvals: uploads by a role that may not approve wait for the energy manager --------------------------
TJ_JAN = ELEC_HEADER + "TJ01,TJ01-M1,2023-01-01,2023-01-31,1,MWh\n"
HF_JAN = ELEC_HEADER + "HF01,HF01-M1,2023-01-01,2023-01-31,1,MWh\n"


def submit(db, path, actor="user:entry@acme.cn", **kw):
    return accounting.import_file(db, "ORG", "electricity", path, YEAR, "CN-2025.1", actor=actor,
                                  needs_approval=True, **kw)


def test_pending_batch_is_not_counted_until_approved_and_the_approval_is_audited(db, tmp_path):
    hf = import_(db, "electricity", write(tmp_path, "hf.csv", HF_JAN))
    only_hf = scope2(db)
    tj = submit(db, write(tmp_path, "tj.csv", TJ_JAN))
    assert tj.status == "pending"
    assert {b.id: b.status for b in accounting.list_batches(db, "ORG")} == {hf.batch_id: "active",
                                                                             tj.batch_id: "pending"}
    assert scope2(db) == pytest.approx(only_hf)
    approved = accounting.approve_batch(db, "ORG", tj.batch_id, actor="user:manager@acme.cn")
    assert (approved.status, approved.status_changed_by) == ("active", "user:manager@acme.cn")
    assert scope2(db) > only_hf
    trail = [(a.actor, a.action) for a in accounting.audit_trail(db, "ORG") if a.entity == f"batch:{tj.batch_id}"]
    assert trail == [("user:entry@acme.cn", "import"), ("user:manager@acme.cn", "import.approve")]
    with pytest.raises(ZerocarbonError, match="only a batch waiting for approval"):
        accounting.approve_batch(db, "ORG", tj.batch_id, actor="user:manager@acme.cn")


def test_rejected_batch_keeps_its_reason_is_never_counted_and_its_file_may_come_again(db, tmp_path):
    path = write(tmp_path, "tj.csv", TJ_JAN)
    tj = submit(db, path)
    with pytest.raises(InputError, match="reason"):
        accounting.reject_batch(db, "ORG", tj.batch_id, " ", actor="user:manager@acme.cn")
    out = accounting.reject_batch(db, "ORG", tj.batch_id, "wrong meter", actor="user:manager@acme.cn")
    assert (out.status, out.status_reason, out.status_changed_by) == ("rejected", "wrong meter",
                                                                      "user:manager@acme.cn")
    assert scope2(db) == 0
    with pytest.raises(ZerocarbonError, match="rejected"):
        accounting.approve_batch(db, "ORG", tj.batch_id, actor="user:manager@acme.cn")
    assert submit(db, path).status == "pending"  # a rejected file no longer blocks the same records
    assert [a.detail["reason"] for a in accounting.audit_trail(db, "ORG") if a.action == "import.reject"] == [
        "wrong meter"]


def test_a_pending_batch_blocks_a_second_batch_of_the_same_meter_month(db, tmp_path):
    first = submit(db, write(tmp_path, "tj.csv", TJ_JAN))
    again = write(tmp_path, "tj_again.csv", TJ_JAN.replace(",1,MWh", ",2,MWh"))
    with pytest.raises(InputError, match=f"tj.csv row 2 \\(batch {first.batch_id}.*waits for approval"):
        submit(db, again)
    with pytest.raises(InputError, match=f"batch {first.batch_id}"):
        import_(db, "electricity", again)  # an energy manager's upload too
    with pytest.raises(InputError, match="already imported as batch .*pending"):
        submit(db, write(tmp_path / "copy", "tj.csv", TJ_JAN))  # the same file again
    assert len(accounting.list_batches(db, "ORG")) == 1


def test_approval_is_refused_with_the_rows_counted_twice_when_an_active_batch_overlaps(db, tmp_path):
    pending = submit(db, write(tmp_path, "tj.csv", TJ_JAN))
    # Written behind the upload checks (as a database edited by hand or an older release would hold it).
    active = import_(db, "electricity", write(tmp_path, "hf.csv", HF_JAN))
    with db.begin() as s:
        for row in s.scalars(select(ActivityRow).where(ActivityRow.batch_id == active.batch_id)):
            payload = row.payload if isinstance(row.payload, dict) else json.loads(row.payload)
            row.site, row.payload = "TJ01", {**payload, "site": "TJ01", "meter": "TJ01-M1"}
    with pytest.raises(InputError) as exc:
        accounting.approve_batch(db, "ORG", pending.batch_id, actor="user:manager@acme.cn")
    [p] = exc.value.problems
    assert (p.source, p.row) == ("tj.csv", 2)
    assert f"already imported as hf.csv row 2 (batch {active.batch_id}" in p.reason
    assert {b.id: b.status for b in accounting.list_batches(db, "ORG")}[pending.batch_id] == "pending"


def test_pending_replacement_leaves_the_old_batch_active_until_approved(db, tmp_path):
    old = import_(db, "electricity", write(tmp_path, "tj.csv", TJ_JAN))
    before = scope2(db)
    fixed = write(tmp_path, "tj_fixed.csv", TJ_JAN.replace(",1,MWh", ",2,MWh"))
    new = accounting.replace_batch(db, "ORG", old.batch_id, fixed, "CN-2025.1", actor="user:entry@acme.cn",
                                   reason="meter read corrected", needs_approval=True)
    assert new.status == "pending" and new.replaces == old.batch_id
    assert {b.id: b.status for b in accounting.list_batches(db, "ORG")} == {old.batch_id: "active",
                                                                             new.batch_id: "pending"}
    assert scope2(db) == pytest.approx(before)
    assert [v.id for v in accounting.show_batch(db, "ORG", old.batch_id).versions] == [old.batch_id, new.batch_id]
    with pytest.raises(ZerocarbonError, match=f"already has a replacement waiting for approval \\(batch {new.batch_id}"):
        accounting.replace_batch(db, "ORG", old.batch_id, write(tmp_path, "tj3.csv", TJ_JAN.replace(",1,", ",3,")),
                                 "CN-2025.1", actor="user:manager@acme.cn")
    accounting.approve_batch(db, "ORG", new.batch_id, actor="user:manager@acme.cn")
    status = {b.id: (b.status, b.superseded_by, b.status_reason) for b in accounting.list_batches(db, "ORG")}
    assert status == {old.batch_id: ("superseded", new.batch_id, "meter read corrected"),
                      new.batch_id: ("active", None, None)}
    assert scope2(db) == pytest.approx(2 * before)


def test_pending_replacement_of_a_batch_withdrawn_meanwhile_cannot_be_approved(db, tmp_path):
    old = import_(db, "electricity", write(tmp_path, "tj.csv", TJ_JAN))
    new = accounting.replace_batch(db, "ORG", old.batch_id, write(tmp_path, "tj2.csv", TJ_JAN.replace(",1,", ",2,")),
                                   "CN-2025.1", actor="user:entry@acme.cn", needs_approval=True)
    accounting.undo_batch(db, "ORG", old.batch_id, "wrong site", actor="user:manager@acme.cn")
    with pytest.raises(ZerocarbonError, match=f"replaces batch {old.batch_id}, which is withdrawn"):
        accounting.approve_batch(db, "ORG", new.batch_id, actor="user:manager@acme.cn")


def test_closed_year_refuses_approval_but_not_rejection(db, tmp_path):
    pending = submit(db, write(tmp_path, "tj.csv", TJ_JAN))
    other = submit(db, write(tmp_path, "hf.csv", HF_JAN))
    accounting.compute(db, "ORG", YEAR, "CN-2025.1", actor="test")
    accounting.close_inventory(db, "ORG", YEAR, actor="test")
    with pytest.raises(ClosedInventoryError, match="approving batch"):
        accounting.approve_batch(db, "ORG", pending.batch_id, actor="user:manager@acme.cn")
    accounting.reject_batch(db, "ORG", other.batch_id, "late", actor="user:manager@acme.cn")
    accounting.reopen_inventory(db, "ORG", YEAR, "late meter data", actor="test")
    assert accounting.approve_batch(db, "ORG", pending.batch_id, actor="user:manager@acme.cn").status == "active"


def test_a_member_reading_only_its_own_batches_sees_nothing_else_and_no_ids_of_others(db, tmp_path):
    org = import_(db, "electricity", write(tmp_path, "org.csv", HF_JAN))
    a = submit(db, write(tmp_path, "a.csv", TJ_JAN), actor="user:a@supplier.cn", sees_only_own=True)
    b = submit(db, write(tmp_path, "b.csv", ELEC_HEADER + "TJ01,TJ01-M2,2023-01-01,2023-01-31,1,MWh\n"),
               actor="user:b@supplier.cn", sees_only_own=True)
    assert [x.id for x in accounting.list_batches(db, "ORG", imported_by="user:a@supplier.cn")] == [a.batch_id]
    assert accounting.show_batch(db, "ORG", a.batch_id, imported_by="user:a@supplier.cn").batch.id == a.batch_id
    for other in (org.batch_id, b.batch_id, 999):
        with pytest.raises(NotFoundError) as exc:
            accounting.show_batch(db, "ORG", other, imported_by="user:a@supplier.cn")
        assert str(exc.value) == f"batch {other} is not a batch of this organisation; see `zerocarbon import list`"
    # A refused upload does not name the batches of others either.
    with pytest.raises(InputError, match="the organisation already has this file") as exc:
        submit(db, write(tmp_path, "a2.csv", HF_JAN), actor="user:a@supplier.cn", sees_only_own=True)
    assert "org.csv" not in str(exc.value) and f"batch {org.batch_id}" not in str(exc.value)
    with pytest.raises(InputError, match="data of the organisation") as exc:
        submit(db, write(tmp_path, "a3.csv", HF_JAN.replace(",1,MWh", ",7,MWh")), actor="user:a@supplier.cn",
               sees_only_own=True)
    assert "org.csv" not in str(exc.value) and f"batch {org.batch_id}" not in str(exc.value)


def test_cli_lists_shows_approves_and_rejects_pending_batches(tmp_path):
    from zerocarbon.cli import app
    from zerocarbon.services.database import open_sessions

    db_url = f"sqlite:///{tmp_path / 'z.sqlite'}"
    runner = CliRunner()
    assert runner.invoke(app, ["org", "load", str(DATA / "organisation.yaml"), "--db", db_url]).exit_code == 0
    sessions = open_sessions(db_url, create=False)
    one = submit(sessions, write(tmp_path, "tj.csv", TJ_JAN))
    two = submit(sessions, write(tmp_path, "hf.csv", HF_JAN))
    out = runner.invoke(app, ["import", "list", "--org", "ORG", "--status", "pending", "--db", db_url, "--json"])
    assert out.exit_code == 0, out.stdout
    assert {(b["source"], b["status"]) for b in json.loads(out.stdout)} == {("tj.csv", "pending"), ("hf.csv", "pending")}
    out = runner.invoke(app, ["import", "show", str(one.batch_id), "--org", "ORG", "--db", db_url])
    assert out.exit_code == 0 and "waiting for approval" in out.stdout
    out = runner.invoke(app, ["import", "approve", str(one.batch_id), "--org", "ORG", "--db", db_url])
    assert out.exit_code == 0, out.stdout
    out = runner.invoke(app, ["import", "reject", str(two.batch_id), "--org", "ORG", "--db", db_url])
    assert out.exit_code != 0  # the reason is required
    out = runner.invoke(app, ["import", "reject", str(two.batch_id), "--org", "ORG", "--reason", "wrong meter",
                              "--db", db_url, "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout)["status"] == "rejected"
    out = runner.invoke(app, ["import", "show", str(two.batch_id), "--org", "ORG", "--db", db_url])
    assert "rejected" in out.stdout and "wrong meter" in out.stdout
    assert {b.id: b.status for b in accounting.list_batches(sessions, "ORG")} == {one.batch_id: "active",
                                                                                  two.batch_id: "rejected"}
