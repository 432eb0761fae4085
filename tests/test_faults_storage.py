"""Storage faults: the database connection cut or the server restarted inside a transaction, a full disk under
the meter lake, a damaged Parquet file in the lake.

After each: nothing partial is stored, the user reads what happened and what to do (exit code 2, no
traceback), and running the command again gives exactly the totals of an undisturbed run.

The PostgreSQL tests run against a private server (tests/pg_cluster.py) in a temporary folder on a free port,
never the shared one, since they stop and restart it. The fault is fired from inside the transaction by a
SQLAlchemy ``before_cursor_execute`` hook on a chosen statement, so it lands at the same place every run.
"""
from __future__ import annotations

import errno
import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, create_engine, event, func, select, text
from typer.testing import CliRunner

from tests import pg_cluster
from tests.services import require_service
from zerocarbon.cli import app
from zerocarbon.errors import StorageError
from zerocarbon.store import lake, repos

DATA = Path(__file__).parent / "data"
ORG = "ORG"
runner = CliRunner()


# --- support ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    try:
        c = pg_cluster.start()
    except pg_cluster.ClusterUnavailable as exc:
        require_service("PostgreSQL (private cluster)", f"a private PostgreSQL server cannot be started here: {exc}")
    yield c
    c.remove()


@pytest.fixture
def pg(cluster):
    """URL of a new database on the private server holding organisation ORG."""
    from zerocarbon.services import accounting
    from zerocarbon.services.database import open_sessions

    url = cluster.create_database()
    sessions = open_sessions(url)
    accounting.load_organisation_file(sessions, DATA / "organisation.yaml", actor="test")
    sessions.kw["bind"].dispose()
    return url


class Trip:
    """Runs ``action(connection)`` once, just before the ``nth`` statement matching ``pattern`` is sent: the
    statements before it in the transaction have run, it and the commit have not."""

    def __init__(self, pattern: str, nth: int, action):
        self.pattern, self.nth, self.action = re.compile(pattern, re.I), nth, action
        self.seen, self.fired = 0, False

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if self.fired or not self.pattern.search(statement):
            return
        self.seen += 1
        if self.seen == self.nth:
            self.fired = True
            self.action(conn)


@pytest.fixture
def trip():
    """``trip(pattern, nth, action)`` arms a :class:`Trip` on every engine until the test ends."""
    armed = []

    def arm(pattern, nth, action, when="before_cursor_execute"):
        t = Trip(pattern, nth, action)
        event.listen(Engine, when, t)
        armed.append((when, t))
        return t

    yield arm
    for when, t in armed:
        event.remove(Engine, when, t)


def terminate(cluster):
    """The action that ends the statement's own backend from a second connection (pg_terminate_backend)."""
    return lambda conn: cluster.terminate(conn.connection.dbapi_connection.info.backend_pid)


def cli(*args: str):
    r = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in r.output and (r.exception is None or isinstance(r.exception, SystemExit)), r.output
    return r


def one_line(output: str) -> str:
    return " ".join(output.split())


def electricity_file(tmp_path: Path, n: int) -> tuple[Path, float]:
    """An electricity activity file of ``n`` distinct meters of TJ01 (one month each), and its total kWh."""
    rows = [{"site": "TJ01", "meter": f"TJ01-M{i}", "period_start": "2023-01-01", "period_end": "2023-01-31",
             "quantity": 1000 + i, "unit": "kWh"} for i in range(n)]
    p = tmp_path / "electricity.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p, float(sum(r["quantity"] for r in rows))


def stored(url: str) -> dict:
    """What the database holds of imports, inventories and meters, through a connection of its own."""
    from zerocarbon.store.tables import ActivityRow, AuditRow, ImportBatchRow, InventoryRow, MeterRow

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            payloads = c.execute(select(ActivityRow.payload)).scalars().all()
            out = {"batches": c.scalar(select(func.count()).select_from(ImportBatchRow)),
                   "activities": len(payloads),
                   "kwh": sum(float((json.loads(p) if isinstance(p, str) else p)["quantity"]) for p in payloads),
                   "inventories": c.scalar(select(func.count()).select_from(InventoryRow)),
                   "meters": c.scalar(select(func.count()).select_from(MeterRow)),
                   "actions": sorted(c.execute(select(AuditRow.action)).scalars().all()),
                   "totals": [r for r in c.execute(select(InventoryRow.totals)).scalars().all()]}
            c.execute(text("select 1"))
    finally:
        engine.dispose()
    return out


def cut(r, what: str = "was lost") -> None:
    text_ = one_line(r.output)
    assert r.exit_code == 2, r.output
    assert "the connection to the database" in text_ and what in text_, text_
    assert "run the command again" in text_


# --- 1. connection lost mid-transaction -------------------------------------------------------------------

@pytest.mark.postgres
def test_connection_lost_during_an_activity_import_stores_nothing_and_a_rerun_stores_all(
        cluster, pg, trip, tmp_path, monkeypatch):
    """pg_terminate_backend on the import's backend after the batch row and the first 100 of 250 activities are
    written (chunks of 100), before the second chunk."""
    monkeypatch.setattr(repos, "CHUNK", 100)
    f, kwh = electricity_file(tmp_path, 250)
    t = trip(r"INSERT INTO activities", 2, terminate(cluster))
    r = cli("import", "electricity", f, "--org", ORG, "--year", 2023, "--db", pg)
    assert t.fired
    cut(r)
    assert "nothing of it was stored" in one_line(r.output)
    s = stored(pg)
    assert (s["batches"], s["activities"]) == (0, 0) and "import" not in s["actions"]
    r = cli("import", "electricity", f, "--org", ORG, "--year", 2023, "--db", pg)
    assert r.exit_code == 0, r.output
    s = stored(pg)
    assert (s["batches"], s["activities"], s["kwh"]) == (1, 250, kwh) and s["actions"].count("import") == 1


@pytest.mark.postgres
def test_connection_lost_at_the_commit_of_an_import_says_the_outcome_must_be_checked(cluster, pg, trip, tmp_path):
    """The backend is terminated after the import's last statement, so the COMMIT meets a dead connection:
    the client cannot know whether the server committed, and says so; here it did not, and the rerun (which
    would have been refused as a duplicate had it committed) stores the file once."""
    f, kwh = electricity_file(tmp_path, 30)
    t = trip(r"INSERT INTO audit_log", 1, terminate(cluster), when="after_cursor_execute")
    r = cli("import", "electricity", f, "--org", ORG, "--year", 2023, "--db", pg)
    assert t.fired
    cut(r)
    assert "may or may not have stored it; look before running the command again" in one_line(r.output)
    assert stored(pg)["batches"] == 0
    assert cli("import", "electricity", f, "--org", ORG, "--year", 2023, "--db", pg).exit_code == 0
    s = stored(pg)
    assert (s["batches"], s["activities"], s["kwh"]) == (1, 30, kwh)
    r = cli("import", "electricity", f, "--org", ORG, "--year", 2023, "--db", pg)
    assert r.exit_code == 2 and "already imported as batch" in one_line(r.output)


@pytest.mark.postgres
def test_connection_lost_during_a_meter_file_import_stores_neither_registry_nor_readings(
        cluster, pg, trip, tmp_path):
    """`meters import` stores the registry in the database, then the readings in the lake: the backend is
    terminated at the registry's audit entry, after the meter rows are written."""
    reg, readings, total = meter_files(tmp_path)
    root = tmp_path / "lake"
    t = trip(r"INSERT INTO audit_log", 1, terminate(cluster))
    r = cli("meters", "import", reg, readings, "--lake", root, "--org", ORG, "--db", pg, "--engine", "pandas")
    assert t.fired
    cut(r)
    assert stored(pg)["meters"] == 0 and not lake.has_readings(root, ORG)
    r = cli("meters", "import", reg, readings, "--lake", root, "--org", ORG, "--db", pg, "--engine", "pandas")
    assert r.exit_code == 0, r.output
    assert stored(pg)["meters"] == 2
    assert lake_total(root) == pytest.approx(total, abs=1e-9)
    assert lake.query(root, ORG, "SELECT count(*) AS n FROM readings")["n"][0] == 2 * 96 * 3


@pytest.mark.postgres
def test_connection_lost_during_an_inventory_run_stores_no_inventory(cluster, pg, trip, tmp_path):
    """The backend is terminated when the inventory's audit entry is written, after its ledger rows."""
    f, _ = electricity_file(tmp_path, 20)
    assert cli("import", "electricity", f, "--org", ORG, "--year", 2023, "--db", pg).exit_code == 0
    expected = reference_totals(tmp_path, f)
    t = trip(r"INSERT INTO audit_log", 1, terminate(cluster))
    r = cli("inventory", "compute", "--org", ORG, "--year", 2023, "--db", pg)
    assert t.fired
    cut(r)
    s = stored(pg)
    assert s["inventories"] == 0 and "inventory.compute" not in s["actions"]
    r = cli("inventory", "compute", "--org", ORG, "--year", 2023, "--db", pg)
    assert r.exit_code == 0, r.output
    s = stored(pg)
    assert s["inventories"] == 1 and s["totals"][0] == pytest.approx(expected, rel=1e-12)


def reference_totals(tmp_path: Path, f: Path) -> dict:
    """The inventory totals of the same file computed on an undisturbed SQLite database."""
    from zerocarbon.services import accounting
    from zerocarbon.services.database import open_sessions

    sessions = open_sessions(f"sqlite:///{tmp_path / 'reference.sqlite'}")
    accounting.load_organisation_file(sessions, DATA / "organisation.yaml", actor="test")
    accounting.import_file(sessions, ORG, "electricity", f, 2023, "CN-2025.1", actor="test")
    return accounting.compute(sessions, ORG, 2023, "CN-2025.1", actor="test").totals()


# --- 2. server restart mid-transaction --------------------------------------------------------------------

@pytest.mark.postgres
def test_server_restart_during_an_import_then_the_next_request_works(cluster, pg, trip, tmp_path, monkeypatch):
    """One session factory, as the API server holds it: the server is restarted (pg_ctl restart -m immediate,
    as a crash) between two chunks of an import; the import fails with the reason and stores nothing, the next
    request on the same factory works, so does one after a restart while idle (-m fast), and while the server
    is down the command line says the database cannot be reached."""
    from zerocarbon.services import accounting
    from zerocarbon.services.database import open_sessions

    monkeypatch.setattr(repos, "CHUNK", 100)
    f, kwh = electricity_file(tmp_path, 250)
    sessions = open_sessions(pg)
    try:
        t = trip(r"INSERT INTO activities", 2, lambda conn: cluster.restart("immediate"))
        with pytest.raises(StorageError, match="the connection to the database .* was lost .*rolled back the "
                                               "transaction in progress, so nothing of it was stored.*run the "
                                               "command again"):
            accounting.import_file(sessions, ORG, "electricity", f, 2023, "CN-2025.1", actor="test")
        assert t.fired
        assert (stored(pg)["batches"], stored(pg)["activities"]) == (0, 0)
        rep = accounting.import_file(sessions, ORG, "electricity", f, 2023, "CN-2025.1", actor="test")
        assert rep.rows == 250
        s = stored(pg)
        assert (s["batches"], s["activities"], s["kwh"]) == (1, 250, kwh)

        cluster.restart("fast")  # the pool's connections are now dead; the ping on checkout replaces them
        assert [b.rows for b in accounting.list_batches(sessions, ORG)] == [250]

        cluster.stop("fast")
        try:
            with pytest.raises(StorageError, match="cannot open the database .*check that the database server is "
                                                   "running"):
                accounting.list_batches(sessions, ORG)
            r = cli("import", "list", "--org", ORG, "--db", pg)
            assert r.exit_code == 2 and "cannot open the database" in one_line(r.output), r.output
        finally:
            cluster.start()
        assert [b.rows for b in accounting.list_batches(sessions, ORG)] == [250]
    finally:
        sessions.kw["bind"].dispose()


@pytest.mark.postgres
def test_server_restart_during_an_inventory_run_stores_no_inventory(cluster, pg, trip, tmp_path):
    f, _ = electricity_file(tmp_path, 20)
    assert cli("import", "electricity", f, "--org", ORG, "--year", 2023, "--db", pg).exit_code == 0
    t = trip(r"INSERT INTO emission_lines", 1, lambda conn: cluster.restart("fast"))
    r = cli("inventory", "compute", "--org", ORG, "--year", 2023, "--db", pg)
    assert t.fired
    cut(r)
    assert stored(pg)["inventories"] == 0
    r = cli("inventory", "compute", "--org", ORG, "--year", 2023, "--db", pg)
    assert r.exit_code == 0, r.output
    assert stored(pg)["totals"][0] == pytest.approx(reference_totals(tmp_path, f), rel=1e-12)


# --- 3. full disk under the lake --------------------------------------------------------------------------

def meter_files(tmp_path: Path, days: int = 3) -> tuple[Path, Path, float]:
    """A registry of two 15-minute meters of HF01 and ``days`` days of their readings; the readings' total."""
    reg = tmp_path / "meters.csv"
    reg.write_text("id,site,unit,stamp,timezone,revenue\nM1,HF01,kWh,start,Asia/Shanghai,true\n"
                   "M2,HF01,kWh,start,Asia/Shanghai,false\n")
    ts = pd.date_range("2026-08-03 00:00", periods=96 * days, freq="15min")
    rows = [(m, t.strftime("%Y-%m-%d %H:%M:%S"), round(1 + (i % 97) * 0.25 + k, 2))
            for k, m in enumerate(("M1", "M2")) for i, t in enumerate(ts)]
    frame = pd.DataFrame(rows, columns=["meter", "timestamp", "value"])
    p = tmp_path / "readings.csv"
    frame.to_csv(p, index=False)
    return reg, p, float(frame["value"].sum())


def lake_total(root: Path) -> float:
    return float(lake.query(root, ORG, "SELECT sum(value) AS v FROM readings")["v"][0])


def visible_files(root: Path) -> list[Path]:
    """Every file a reader or a user would take for lake data: anything outside the hidden staging names."""
    return [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")] if root.exists() else []


def mount_small_disk(folder: Path) -> bool:
    """A 1 MiB tmpfs on ``folder``; False where mounting is not permitted (not root, no CAP_SYS_ADMIN)."""
    folder.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0777", "tmpfs", str(folder)],
                       capture_output=True, text=True)
    return r.returncode == 0


def fill(folder: Path, leave: int) -> Path:
    """Fill the file system of ``folder`` but ``leave`` bytes (to the page)."""
    import os

    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_full_disk_under_the_lake_writes_nothing_and_a_retry_after_freeing_space_stores_all(
        tmp_path, engine, monkeypatch):
    """The lake is a 1 MiB tmpfs the test mounts (needs root with CAP_SYS_ADMIN, as in CI), filled but 8 KiB:
    the import's Parquet files do not fit. Where mounting is not permitted, the lake's Parquet writer raises
    OSError(ENOSPC) instead (injected), which takes the same path in the product."""
    from tests.helpers import database_with_org

    reg, readings, total = meter_files(tmp_path, days=10)
    disk = tmp_path / "disk"
    mounted = mount_small_disk(disk)
    root = disk / "lake"
    db = database_with_org(tmp_path)
    try:
        if mounted:
            filler = fill(disk, leave=8192)
        else:
            def no_space(*_a, **_k):
                raise OSError(errno.ENOSPC, "No space left on device")
            from zerocarbon.store import lake_import

            monkeypatch.setattr(lake, "_to_parquet", no_space)
            monkeypatch.setattr(lake_import, "_write_after", no_space)
        args = ["meters", "import", reg, readings, "--lake", root, "--org", ORG, "--db", db, "--engine", engine]
        r = cli(*args)
        text_ = one_line(r.output)
        assert r.exit_code == 2, r.output
        assert "is full (no space left on device); nothing was written to the lake" in text_
        assert "Free space on that disk" in text_ and str(root) in text_
        assert visible_files(root) == [] and not lake.has_readings(root, ORG)
        assert not list(root.rglob(".*.tmp")) and not list(root.glob(".stage-*"))  # nothing left behind
        # The database holds the registry (metadata, stored before the readings are written, the same on every
        # run) and no record of the failed write.
        s = stored(db)
        assert s["meters"] == 2 and s["actions"] == ["meters.register", "organisation.load"], s["actions"]
        if mounted:
            filler.unlink()
        else:
            monkeypatch.undo()
        r = cli(*args)
        assert r.exit_code == 0, r.output
        assert lake_total(root) == pytest.approx(total, abs=1e-9)
        assert lake.query(root, ORG, "SELECT count(*) AS n FROM readings")["n"][0] == 2 * 96 * 10
        assert not list(root.glob(".stage-*"))
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(disk)], check=False)


# --- 4. damaged Parquet file in the lake ------------------------------------------------------------------

def truncate(path: Path) -> str:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return "not a readable Parquet file"


def garbage(path: Path) -> str:
    """Bytes overwritten inside the data pages, footer intact: only reading the data finds it."""
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    col = meta.row_group(0).column(2)  # value
    first = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
    end = first + col.total_compressed_size
    data = bytearray(path.read_bytes())
    data[col.data_page_offset:end] = b"\xff" * (end - col.data_page_offset)
    path.write_bytes(bytes(data))
    assert pq.read_schema(path).names  # the footer still reads
    return "its data cannot be read"


def wrong_schema(path: Path) -> str:
    frame = pd.read_parquet(path).rename(columns={"value": "kwh"})
    frame.to_parquet(path, index=False)
    return "column 'value' is missing"


@pytest.mark.parametrize("damage", [truncate, garbage, wrong_schema])
def test_a_damaged_lake_file_is_named_by_every_reading_command(tmp_path, damage):
    from tests.helpers import database_with_org

    reg, readings, _ = meter_files(tmp_path, days=3)
    root = tmp_path / "lake"
    db = database_with_org(tmp_path)
    assert cli("meters", "import", reg, readings, "--lake", root, "--org", ORG, "--db", db,
               "--engine", "pandas").exit_code == 0
    victim = sorted(lake.files(root, ORG))[1]
    what = damage(victim)
    commands = [
        ["meters", "rollup", "--registry", reg, "--lake", root, "--org", ORG, "--by", "meter", "--freq", "day"],
        ["meters", "to-activity", reg, "--year", 2026, "--lake", root, "--org", ORG, "--out", tmp_path / "e.csv",
         "--allow-partial"],
        ["energy", "report", "--lake", root, "--registry", reg, "--org", ORG, "--out", tmp_path / "rep"],
        # an import into the damaged month must not merge around it either
        ["meters", "import", reg, readings, "--lake", root, "--org", ORG, "--db", db, "--engine", "pandas"],
    ]
    for args in commands:
        r = cli(*args)
        text_ = one_line(r.output)
        assert r.exit_code == 2, (args, r.output)
        assert f"the lake file {victim} is damaged" in text_ and what in text_, text_
        assert "restore the file from a backup" in text_ and "zerocarbon meters import" in text_, text_
    assert not (tmp_path / "e.csv").exists()


@pytest.mark.postgres
def test_the_api_answers_503_while_the_database_is_down_and_recovers_after_restarts(cluster, cheap_passwords):
    """The API server keeps one engine: after a crash-restart of the server while idle the next request is
    answered (the pool pings and replaces its dead connections); while the server is down every request gets
    503 problem details that say the database cannot be reached, not a 500."""
    from tests.api_support import app_with, load_org, login_client, person
    from zerocarbon.services.database import open_sessions

    sessions = open_sessions(cluster.create_database())
    try:
        load_org(sessions, "ACME")
        person(sessions, "alice@acme.cn", "ACME", "energy_manager")
        c = login_client(app_with(sessions), "alice@acme.cn")
        batches = "/api/v1/orgs/ACME/batches"
        assert c.get(batches).status_code == 200
        cluster.restart("immediate")
        assert c.get(batches).status_code == 200
        cluster.stop("fast")
        try:
            r = c.get(batches)
            assert r.status_code == 503, r.text
            assert r.json()["title"] == "Database unavailable"
            assert "cannot open the database" in r.json()["detail"] and "is running" in r.json()["detail"]
        finally:
            cluster.start()
        assert c.get(batches).status_code == 200
    finally:
        sessions.kw["bind"].dispose()
