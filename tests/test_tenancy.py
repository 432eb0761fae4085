"""Two organisations with the same site code and the same meter id: imports, registries, live readings, the lake
and its roll-ups never mix. A lake laid out before partitions carried the organisation is read only after its
one-off move. Instants come back from the store UTC-aware on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.api_support import load_org
from zerocarbon.cli import app
from zerocarbon.core.energy.intervals import Meter
from zerocarbon.errors import InputError, NotFoundError, StateError
from zerocarbon.services import audit, energy_data
from zerocarbon.services.ingest import IngestStats, live_to_lake, make_handler
from zerocarbon.services.meter_import import import_file, register_meters
from zerocarbon.store import lake
from zerocarbon.store.tables import DeadLetterRow, MeterRow, ReadingRow

# Both organisations call their plant HF01 and its incomer M1; only B's has a CT ratio of 10.
A_METERS = {"M1": Meter("M1", "HF01", revenue=True), "MA": Meter("MA", "HF01")}
B_METERS = {"M1": Meter("M1", "HF01", revenue=True, multiplier=10)}


def _readings(tmp_path, name: str, value: float, n: int = 96):
    ts = pd.date_range("2026-08-03 00:00", periods=n, freq="15min")
    path = tmp_path / f"{name}.csv"
    pd.DataFrame({"meter": "M1", "timestamp": ts.strftime("%Y-%m-%d %H:%M:%S"), "value": value}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_imports_and_rollups_of_two_organisations_never_mix(tmp_path, engine):
    root = tmp_path / "lake"
    a = import_file(root, "A", A_METERS, _readings(tmp_path, "a", 1.0), engine=engine)
    # Same meter id, site and times with other values: another organisation's meter, not a conflict.
    b = import_file(root, "B", B_METERS, _readings(tmp_path, "b", 2.0), engine=engine)
    assert a.stored == b.stored == 96
    assert (root / "org=A" / "site=HF01").is_dir() and (root / "org=B" / "site=HF01").is_dir()
    day_a = energy_data.rollup(root, "A", A_METERS, by="meter", freq="day")
    day_b = energy_data.rollup(root, "B", B_METERS, by="meter", freq="day")
    assert day_a["value"].sum() == pytest.approx(96.0) and day_b["value"].sum() == pytest.approx(96 * 20.0)
    assert lake.holdings(root, "A")["readings"].sum() == 96
    sel = energy_data.select(B_METERS, "HF01")
    assert energy_data.load_kwh(root, "B", sel)["M1"].sum() == pytest.approx(96 * 20.0)
    with pytest.raises(NotFoundError, match="holds no readings of organisation C"):
        energy_data.rollup(root, "C", A_METERS)
    # a re-import within one organisation is still judged against that organisation's readings only
    again = import_file(root, "A", A_METERS, _readings(tmp_path, "a", 1.0), engine=engine)
    assert (again.stored, again.already_stored) == (0, 96)
    with pytest.raises(InputError, match="differ|stored"):
        import_file(root, "A", A_METERS, _readings(tmp_path, "a2", 3.0), engine=engine)


def test_an_organisation_code_cannot_leave_its_folder(tmp_path):
    with pytest.raises(InputError, match="not an organisation code"):
        import_file(tmp_path / "lake", "../x", A_METERS, _readings(tmp_path, "a", 1.0))
    assert not (tmp_path / "x").exists()


def test_registries_of_two_organisations_are_kept_apart(sessions):
    load_org(sessions, "A")
    load_org(sessions, "B")
    register_meters(sessions, "A", A_METERS, actor="test")
    register_meters(sessions, "B", B_METERS, actor="test")
    with sessions() as s:
        rows = {(r.organisation_id, r.id): r.multiplier for r in s.scalars(select(MeterRow))}
    assert sorted(rows.values()) == [1.0, 1.0, 10.0] and len(rows) == 3
    with pytest.raises(NotFoundError, match="organisation 'C' is not in the database"):
        register_meters(sessions, "C", A_METERS, actor="test")


def _msg(ts: str, value: float) -> bytes:
    return json.dumps({"v": 1, "unit": "kWh", "ts": ts, "value": value}).encode()


def test_org_b_gateway_cannot_write_org_a_meter(sessions, tmp_path):
    load_org(sessions, "A")
    load_org(sessions, "B")
    register_meters(sessions, "A", A_METERS, actor="test")
    register_meters(sessions, "B", B_METERS, actor="test")
    handle_a, handle_b = make_handler(sessions, "A", IngestStats()), make_handler(sessions, "B", IngestStats())
    handle_a([(1, 1, "zc/A/HF01/-/-/M1", _msg("2026-08-03T00:00:00Z", 1.0)),
              # B's topic reaching A's ingest: refused, whatever meter it names
              (2, 1, "zc/B/HF01/-/-/MA", _msg("2026-08-03T00:15:00Z", 5.0)),
              (3, 1, "zc/NOPE/HF01/-/-/M1", _msg("2026-08-03T00:15:00Z", 5.0))])
    # B's gateway names A's meter MA: not among B's meters; B's own M1 gets B's CT ratio
    handle_b([(1, 1, "zc/B/HF01/-/-/MA", _msg("2026-08-03T00:15:00Z", 5.0)),
              (2, 1, "zc/B/HF01/-/-/M1", _msg("2026-08-03T00:00:00Z", 2.0))])
    from zerocarbon.store import repos

    with sessions() as s:
        ids = repos.organisation_codes(s)
        readings = {(r.organisation_id, r.meter, r.ts): r.value for r in s.scalars(select(ReadingRow))}
        dead = [(d.organisation_id, d.topic, d.reason) for d in s.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id))]
    at = datetime(2026, 8, 3, tzinfo=timezone.utc)
    assert readings == {(ids["A"], "M1", at): 1.0, (ids["B"], "M1", at): 20.0}
    assert dead[0][0] == ids["B"] and "this ingest stores organisation A's readings" in dead[0][2]
    assert dead[1][0] is None and dead[1][1].startswith("zc/NOPE/")
    assert dead[2][0] == ids["B"] and "unknown meter 'MA'" in dead[2][2]
    # each organisation's live readings reach its own part of the lake
    assert live_to_lake(sessions, tmp_path / "lake", "A").new == 1
    assert live_to_lake(sessions, tmp_path / "lake", "B").new == 1
    assert lake.query(tmp_path / "lake", "B", "SELECT sum(value) AS v FROM readings")["v"][0] == 20.0
    assert lake.query(tmp_path / "lake", "A", "SELECT sum(value) AS v FROM readings")["v"][0] == 1.0


def _legacy_lake(tmp_path):
    """A lake as written before partitions carried the organisation: <root>/site=HF01/date=..."""
    root = tmp_path / "lake"
    import_file(root, "TMP", A_METERS, _readings(tmp_path, "a", 1.0))
    (root / "org=TMP" / "site=HF01").rename(root / "site=HF01")
    (root / "org=TMP").rmdir()
    return root


def test_a_lake_without_organisation_is_refused_until_moved_once(tmp_path):
    from tests.helpers import database_with_org

    root = _legacy_lake(tmp_path)
    for read in (lambda: energy_data.rollup(root, "ORG", A_METERS),
                 lambda: import_file(root, "ORG", A_METERS, _readings(tmp_path, "b", 1.0))):
        with pytest.raises(StateError, match=r"site=/date=.*zerocarbon meters migrate-lake --org CODE"):
            read()
    url = database_with_org(tmp_path)  # holds only ORG, so --org may be left out
    r = CliRunner().invoke(app, ["meters", "migrate-lake", str(root), "--db", url])
    assert r.exit_code == 0, r.output
    assert "moved site(s) HF01" in r.output and not lake.legacy_sites(root)
    assert energy_data.rollup(root, "ORG", A_METERS, by="meter", freq="day")["value"].sum() == pytest.approx(96.0)
    # a second legacy folder for a site the organisation already holds is not merged blindly
    (root / "site=HF01").mkdir()
    r = CliRunner().invoke(app, ["meters", "migrate-lake", str(root), "--org", "ORG"])
    assert r.exit_code == 2 and "already holds site=HF01; nothing was moved" in " ".join(r.output.split())


def test_commands_take_the_only_organisation_or_ask(tmp_path):
    from tests.helpers import database_with_org
    from zerocarbon.services import accounting
    from zerocarbon.services.database import open_sessions

    reg = tmp_path / "meters.csv"
    reg.write_text("id,site,unit,revenue\nM1,HF01,kWh,true\n")
    readings = _readings(tmp_path, "r", 1.0)
    runner = CliRunner()
    nowhere = runner.invoke(app, ["meters", "rollup", "--registry", str(reg), "--lake", str(tmp_path / "lake"),
                                  "--db", f"sqlite:///{tmp_path / 'none.sqlite'}"])
    assert nowhere.exit_code == 2 and "give --org CODE" in nowhere.output
    url = database_with_org(tmp_path)
    ok = runner.invoke(app, ["meters", "import", str(reg), str(readings), "--lake", str(tmp_path / "lake"), "--db", url])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "lake" / "org=ORG").is_dir()
    second = tmp_path / "org2.yaml"
    second.write_text("code: OTHER\nname: Other\nsites:\n  - {code: HF01, name: Hefei}\n", encoding="utf-8")
    accounting.load_organisation_file(open_sessions(url), second, actor="test")
    ask = runner.invoke(app, ["meters", "rollup", "--registry", str(reg), "--lake", str(tmp_path / "lake"),
                              "--db", url])
    assert ask.exit_code == 2 and "2 organisations (ORG, OTHER); choose one with --org" in " ".join(ask.output.split())
    for args in (["energy", "forecast", "--lake", str(tmp_path / "lake"), "--registry", str(reg)],
                 ["ingest", "to-lake", "--lake", str(tmp_path / "lake")],
                 ["meters", "to-activity", str(reg), "--year", "2026", "--lake", str(tmp_path / "lake")]):
        r = runner.invoke(app, args + ["--db", url])
        assert r.exit_code == 2 and "choose one with --org" in " ".join(r.output.split()), args
    other = runner.invoke(app, ["meters", "rollup", "--registry", str(reg), "--lake", str(tmp_path / "lake"),
                                "--db", url, "--org", "OTHER"])
    assert other.exit_code == 2 and "holds no readings of organisation OTHER" in " ".join(other.output.split())


def test_instants_come_back_utc_aware(sessions):
    """SQLite keeps no offset; the store gives services UTC-aware datetimes on both backends."""
    from zerocarbon.io.mqtt import LiveReading
    from zerocarbon.store import repos

    load_org(sessions, "A")
    shanghai = datetime(2026, 8, 3, 0, 15, tzinfo=timezone.utc).astimezone(ZoneInfo("Asia/Shanghai"))  # 08:15+08
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, "A")
        repos.save_meters(s, org_id, [A_METERS["M1"]])
        repos.insert_readings(s, org_id, [LiveReading("M1", shanghai, 1.0, "kWh", "")])
        repos.insert_dead_letters(s, [(org_id, "zc/A/x/-/-/M9", "{}", "unknown meter")])
    with sessions() as s:
        reading = s.scalar(select(ReadingRow))
        dead = s.scalar(select(DeadLetterRow))
    assert reading.ts == datetime(2026, 8, 3, 0, 15, tzinfo=timezone.utc) and reading.ts.utcoffset().total_seconds() == 0
    assert reading.received_at.tzinfo is not None and dead.received_at.tzinfo is not None
    entries = audit.log(sessions, "A")
    assert entries and all(e.at.tzinfo is not None and e.at.utcoffset().total_seconds() == 0 for e in entries)
    assert audit.verify(sessions).intact
