"""Backup and restore: the example organisation ACME (activity data, a stored 2025 inventory, meter readings in the
lake) backed up and restored into an empty instance gives the same inventory, a verifying audit chain and the
same lake files; a damaged or altered backup and a non-empty target are refused before anything is written."""
from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.conftest import PG, PG_URL
from tests.services import require_service
from zerocarbon.errors import InputError, NotFoundError, StateError, StorageError
from zerocarbon.services import accounting, audit, backup, meter_import
from zerocarbon.services.database import open_sessions

EXAMPLES = Path(__file__).parents[1] / "examples"
ORG, YEAR = "ACME", 2025
READINGS = 1500  # of the 10,752 in the June example: enough for several lake files, quick to import


def _fill(url: str, lake: Path, tmp: Path):
    """ACME with four kinds of activity data, its stored 2025 inventory and some of its June meter readings."""
    sessions = open_sessions(url)
    accounting.load_organisation_file(sessions, EXAMPLES / "organisation.yaml", actor="test")
    for kind in ("electricity", "fuel", "refrigerant", "instrument"):
        accounting.import_file(sessions, ORG, kind, EXAMPLES / f"{kind}_2025.csv", YEAR, "CN-2025.1", actor="test")
    accounting.compute(sessions, ORG, YEAR, "CN-2025.1", actor="test")
    meters = meter_import.read_registry(EXAMPLES / "meters" / "registry.csv")
    meter_import.register_meters(sessions, ORG, meters, actor="test")
    lines = (EXAMPLES / "meters" / "readings_2026-06.csv").read_text(encoding="utf-8").splitlines()[:READINGS + 1]
    readings = tmp / "readings.csv"
    readings.write_text("\n".join(lines) + "\n", encoding="utf-8")
    meter_import.import_file(lake, ORG, meters, readings)
    return sessions


def _state(sessions) -> dict:
    """What a restore must give back: inventory totals by site, the ledger, the audit head."""
    meta, sites = accounting.inventory_summary(sessions, ORG, YEAR)
    _, ledger = accounting.stored_ledger(sessions, ORG, YEAR)
    check = audit.verify(sessions)
    return {"meta": meta, "sites": sites, "ledger": ledger.sort_values(list(ledger.columns)).reset_index(drop=True),
            "audit": (check.entries, check.head_seq, check.head_hash), "intact": check.intact}


def _lake_files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.parquet"))}


def _assert_same(before: dict, after: dict) -> None:
    assert after["meta"] == before["meta"]
    assert after["sites"] == before["sites"]
    assert len(after["ledger"]) == len(before["ledger"]) > 50
    assert after["ledger"].equals(before["ledger"])
    assert after["audit"] == before["audit"] and after["intact"]


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@contextmanager
def _pg_database():
    """A new, empty database on the test server, dropped afterwards (pg_restore restores whole databases)."""
    if not PG:
        require_service("PostgreSQL", f"PostgreSQL not reachable at {PG_URL}")
    name = f"zc_backup_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def sqlite_backup(tmp_path_factory):
    """ACME on SQLite, its state, and a backup of it with the lake."""
    tmp = tmp_path_factory.mktemp("source")
    sessions = _fill(f"sqlite:///{tmp / 'source.sqlite'}", tmp / "lake", tmp)
    done = backup.create(tmp / "backup", f"sqlite:///{tmp / 'source.sqlite'}", tmp / "lake")
    yield tmp / "backup", _state(sessions), tmp / "lake", done
    sessions.kw["bind"].dispose()


def _copy(folder: Path, tmp: Path) -> Path:
    out = tmp / f"copy-{uuid.uuid4().hex[:6]}"
    shutil.copytree(folder, out)
    return out


def test_sqlite_restore_into_an_empty_file_gives_the_same_inventory_audit_chain_and_lake(sqlite_backup, tmp_path):
    folder, before, lake, done = sqlite_backup
    m = done.manifest
    assert (m.engine, m.alembic_revision, m.lake_files) == ("sqlite", backup._script_revisions()[1], len(_lake_files(lake)))
    assert m.lake_files >= 3 and m.tables["emissions"] > 50 and m.audit_head == f"{before['audit'][1]}:{before['audit'][2]}"
    assert backup.verify(folder).ok

    steps = []
    url = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    r = backup.restore(folder, url, tmp_path / "lake", progress=lambda step, done, total: steps.append(step))
    assert r.ok and r.audit_intact and not r.upgraded and r.row_count_mismatches == []
    assert r.audit_head == m.audit_head and r.lake_files == m.lake_files
    assert {"verify", "lake", "database", "audit"} <= set(steps)
    restored = open_sessions(url, create=False)
    _assert_same(before, _state(restored))
    assert _lake_files(tmp_path / "lake") == _lake_files(lake)
    restored.kw["bind"].dispose()


def test_a_changed_byte_in_the_lake_copy_or_the_database_is_named_and_nothing_is_restored(sqlite_backup, tmp_path):
    folder, *_ = sqlite_backup
    for victim in ("lake", "database.sqlite"):
        bad = _copy(folder, tmp_path)
        path = next(p for p in sorted(bad.rglob("*.parquet"))) if victim == "lake" else bad / victim
        _flip_byte(path)
        rel = path.relative_to(bad).as_posix()
        v = backup.verify(bad)
        assert not v.ok and [p.source for p in v.problems] == [rel] and "SHA-256" in v.problems[0].reason
        target = tmp_path / f"{victim}.sqlite"
        with pytest.raises(InputError) as exc:
            backup.restore(bad, f"sqlite:///{target}", tmp_path / f"lake-{victim}")
        assert rel in str(exc.value)
        assert not target.exists() and not (tmp_path / f"lake-{victim}").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_missing_added_and_escaping_files_are_refused(sqlite_backup, tmp_path):
    folder, *_ = sqlite_backup
    bad = _copy(folder, tmp_path)
    gone = next(p for p in sorted(bad.rglob("*.parquet")))
    gone.unlink()
    (bad / "lake" / "extra.parquet").write_bytes(b"PAR1")
    v = backup.verify(bad)
    assert {(p.source, p.reason.split(":")[0].split(" ")[0]) for p in v.problems} == {
        (gone.relative_to(bad).as_posix(), "missing"), ("lake/extra.parquet", "not")}

    hostile = _copy(folder, tmp_path)
    manifest = json.loads((hostile / "manifest.json").read_text())
    manifest["files"][1]["path"] = "../../outside.parquet"
    (hostile / "manifest.json").write_text(json.dumps(manifest))
    v = backup.verify(hostile)
    assert not v.ok and "../../outside.parquet" in str(v.problems[0])
    with pytest.raises(InputError):
        backup.restore(hostile, f"sqlite:///{tmp_path / 'h.sqlite'}", tmp_path / "hl")
    assert not (tmp_path / "h.sqlite").exists()

    for key, value in (("audit_head", "7:not-a-hash"), ("database_file", "lake/x.parquet"), ("tables", [1]),
                       ("alembic_revision", "0019; drop"), ("unexpected", 1)):
        altered = json.loads((folder / "manifest.json").read_text())
        altered[key] = value
        (hostile / "manifest.json").write_text(json.dumps(altered))
        assert not backup.verify(hostile).ok, key

    (hostile / "manifest.json").write_text("{not json")
    assert "cannot be read" in backup.verify(hostile).problems[0].reason
    assert "missing" in backup.verify(tmp_path).problems[0].reason  # a folder that is no backup


def test_non_empty_targets_are_refused_with_what_holds_data(sqlite_backup, tmp_path):
    folder, _, lake, _ = sqlite_backup
    used = tmp_path / "used.sqlite"
    open_sessions(f"sqlite:///{used}").kw["bind"].dispose()
    with pytest.raises(InputError, match="is not empty"):
        backup.restore(folder, f"sqlite:///{used}", tmp_path / "lake")
    assert not (tmp_path / "lake").exists()
    with pytest.raises(InputError, match="already holds files"):
        backup.restore(folder, f"sqlite:///{tmp_path / 'new.sqlite'}", lake)
    with pytest.raises(InputError, match="--without-lake"):
        backup.restore(folder, f"sqlite:///{tmp_path / 'new.sqlite'}")
    assert not (tmp_path / "new.sqlite").exists()
    with pytest.raises(InputError, match="restores into sqlite only"):
        backup.restore(folder, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(InputError, match="not an empty folder"):
        backup.create(folder, f"sqlite:///{used}")


def test_a_newer_schema_is_refused_and_an_older_one_upgraded(tmp_path):
    from alembic import command

    from tests.conftest import alembic_config
    from zerocarbon.store.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0017")
    engine.dispose()
    upload = tmp_path / "data" / "uploads" / "a1b2" / "fuel.csv"
    upload.parent.mkdir(parents=True)
    upload.write_bytes((EXAMPLES / "fuel_2025.csv").read_bytes())
    done = backup.create(tmp_path / "old", f"sqlite:///{tmp_path / 'old.sqlite'}", data_dir=tmp_path / "data")
    assert done.manifest.alembic_revision == "0017" and done.manifest.uploads_files == 1

    newer = _copy(tmp_path / "old", tmp_path)
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["alembic_revision"], manifest["zerocarbon"] = "0999", "9.0.0"
    (newer / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(StateError, match="newer than this zerocarbon.*zerocarbon 9.0.0 or later"):
        backup.restore(newer, f"sqlite:///{tmp_path / 'n.sqlite'}")
    assert not (tmp_path / "n.sqlite").exists()

    (tmp_path / "up.sqlite-journal").write_bytes(b"left by an earlier database")
    with pytest.raises(InputError, match="up.sqlite-journal"):
        backup.restore(tmp_path / "old", f"sqlite:///{tmp_path / 'up.sqlite'}")
    (tmp_path / "up.sqlite-journal").unlink()
    r = backup.restore(tmp_path / "old", f"sqlite:///{tmp_path / 'up.sqlite'}", data_dir=tmp_path / "data2")
    head = backup._script_revisions()[1]
    assert r.upgraded and (r.revision_restored, r.revision_now) == ("0017", head) and r.ok and r.uploads_files == 1
    assert (tmp_path / "data2" / "uploads" / "a1b2" / "fuel.csv").read_bytes() == upload.read_bytes()


def test_writes_during_a_sqlite_backup_leave_a_consistent_copy(tmp_path, monkeypatch):
    """Another connection appends to the audit trail between the copy's steps: the copy restarts (and, past a
    few restarts, is made in one step) and is one state of the database whose chain verifies."""
    from zerocarbon.store import audit as trail

    url = f"sqlite:///{tmp_path / 'busy.sqlite'}"
    sessions = open_sessions(url)
    accounting.load_organisation_file(sessions, EXAMPLES / "organisation.yaml", actor="test")
    monkeypatch.setattr(backup, "SQLITE_PAGES", 1)
    writes = []

    def write(step, done, total):
        if step == "database" and len(writes) < 10:
            with sessions.begin() as s:
                trail.append(s, "test", "probe", f"write {len(writes)}")
            writes.append(done)

    done = backup.create(tmp_path / "b", url, progress=write)
    # Each write restarted the stepwise copy; the last came after it gave up stepping (done 0 of 0).
    assert len(writes) == backup.SQLITE_RESTARTS + 2 and writes[-1] == 0
    r = backup.restore(tmp_path / "b", f"sqlite:///{tmp_path / 'r.sqlite'}")
    assert r.ok and r.audit_entries == done.manifest.audit_entries == audit.verify(sessions).entries
    sessions.kw["bind"].dispose()


def test_cli_create_verify_restore_and_exit_codes(sqlite_backup, tmp_path):
    from zerocarbon.cli import app

    folder, before, lake, _ = sqlite_backup
    runner = CliRunner()
    ok = runner.invoke(app, ["backup", "verify", str(folder)])
    assert ok.exit_code == 0 and "intact" in ok.output
    bad = _copy(folder, tmp_path)
    _flip_byte(bad / "database.sqlite")
    res = runner.invoke(app, ["backup", "verify", str(bad)])
    assert res.exit_code == 3 and "database.sqlite" in res.output
    res = runner.invoke(app, ["backup", "restore", str(bad), "--db", f"sqlite:///{tmp_path / 'x.sqlite'}",
                              "--without-lake"])
    assert res.exit_code == 2 and not (tmp_path / "x.sqlite").exists()
    res = runner.invoke(app, ["backup", "restore", str(folder), "--db", f"sqlite:///{tmp_path / 'y.sqlite'}",
                              "--lake", str(tmp_path / "lake"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["audit_intact"] and out["lake_files"] == len(_lake_files(lake)) and out["row_count_mismatches"] == []


_KILLED_AT = """
import os, signal, sys
from zerocarbon.services import backup

what, step, folder, url, lake = sys.argv[1:6]

def progress(at, done, total):
    if at == step and done >= int(sys.argv[6]):
        os.kill(os.getpid(), signal.SIGKILL)

if what == "create":
    backup.create(folder, url, lake, progress=progress)
else:
    backup.restore(folder, url, lake, progress=progress)
"""


def _killed(tmp_path: Path, *args: str) -> None:
    """Run ``backup.create``/``restore`` in a process that is SIGKILLed at a given step of its progress."""
    import os
    import signal
    import subprocess
    import sys

    script = tmp_path / "killed.py"
    script.write_text(_KILLED_AT, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(Path(backup.__file__).parents[2]))
    proc = subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def test_sigkill_during_create_or_restore_leaves_no_backup_and_no_target(sqlite_backup, tmp_path):
    """A backup killed while copying the lake leaves no folder that passes for a backup; a restore killed after
    staging the lake leaves neither the database nor the lake in place, and the next restore succeeds."""
    folder, before, lake, _ = sqlite_backup
    source = f"sqlite:///{lake.parent / 'source.sqlite'}"
    _killed(tmp_path, "create", "lake", str(tmp_path / "b"), source, str(lake), "2")
    assert not (tmp_path / "b").exists()
    assert [p.name.split("-")[0] for p in tmp_path.iterdir() if p.name.startswith(".")] == [".b.partial"]
    with pytest.raises(NotFoundError, match="no backup at"):
        backup.verify(tmp_path / "b")

    target = tmp_path / "r.sqlite"
    _killed(tmp_path, "restore", "database", str(folder), f"sqlite:///{target}", str(tmp_path / "lake"), "0")
    assert not target.exists() and not (tmp_path / "lake").exists()
    r = backup.restore(folder, f"sqlite:///{target}", tmp_path / "lake")
    assert r.ok and _lake_files(tmp_path / "lake") == _lake_files(lake)


def test_missing_postgresql_tools_and_an_unreachable_server_are_plain_messages(tmp_path, monkeypatch):
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    monkeypatch.setattr(backup, "PG_BIN", ())
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(StorageError, match="pg_dump was not found: install the PostgreSQL client tools"):
        backup.create(tmp_path / "b", url)
    monkeypatch.undo()
    if backup.shutil.which("pg_dump") or any((Path(d) / "pg_dump").is_file() for d in backup.PG_BIN):
        with pytest.raises(StorageError, match="cannot open the database postgresql"):
            backup.create(tmp_path / "b", url)
    assert not list(tmp_path.iterdir())  # no backup folder, no staging left


def _wait_for_no_session(url: str) -> None:
    import time

    name = make_url(url).database
    admin = create_engine(PG_URL)
    try:
        for _ in range(600):
            with admin.connect() as c:
                if not c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"), {"d": name}).scalar():
                    return
            time.sleep(0.1)
        raise AssertionError(f"sessions on {name} did not end")
    finally:
        admin.dispose()


def _assert_nothing_restored(target_url: str, lake: Path) -> None:
    engine = create_engine(target_url)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM information_schema.tables "
                              "WHERE table_schema = 'public'")).scalar() == 0
    engine.dispose()
    assert not lake.exists()


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_restore_into_an_empty_database_and_refusals(tmp_path):
    if not shutil.which("pg_dump") and not Path("/usr/bin/pg_dump").exists():
        require_service("pg_dump", "the PostgreSQL client tools are not installed")
    with _pg_database() as source_url, _pg_database() as target_url:
        sessions = _fill(source_url, tmp_path / "lake", tmp_path)
        before = _state(sessions)
        written = []

        def write_during_dump(step, done, total):
            # pg_dump runs in the snapshot the manifest was read in: a write now is in neither.
            if step == "database" and not written:
                with sessions.begin() as s:
                    from zerocarbon.store import audit as trail

                    trail.append(s, "test", "probe", "during dump")
                written.append(done)

        done = backup.create(tmp_path / "pg", source_url, tmp_path / "lake", progress=write_during_dump)
        assert written and done.manifest.engine == "postgresql" and (tmp_path / "pg" / "database.dump").is_file()
        assert done.manifest.audit_entries == before["audit"][0] == audit.verify(sessions).entries - 1
        sessions.kw["bind"].dispose()

        bad = _copy(tmp_path / "pg", tmp_path)
        _flip_byte(bad / "database.dump")
        assert [p.source for p in backup.verify(bad).problems] == ["database.dump"]
        with pytest.raises(InputError, match="database.dump"):
            backup.restore(bad, target_url, tmp_path / "lake2")

        # A dump damaged together with its manifest passes verify; pg_restore then fails in one transaction.
        manifest = json.loads((bad / "manifest.json").read_text())
        dump = bad / "database.dump"
        data = bytearray(dump.read_bytes())
        data[len(data) // 3: len(data) // 3 + 4096] = bytes(4096)
        dump.write_bytes(bytes(data))
        manifest["files"][0].update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
        (bad / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(StorageError, match="pg_restore failed.*still empty"):
            backup.restore(bad, target_url, tmp_path / "lake2")
        _assert_nothing_restored(target_url, tmp_path / "lake2")

        # Killed while pg_restore loads the tables: the tool dies with it and the server rolls the restore back.
        _killed(tmp_path, "restore", "database", str(tmp_path / "pg"), target_url, str(tmp_path / "lake2"), "3")
        _wait_for_no_session(target_url)  # a pg_restore that outlived its parent would commit before it ends
        _assert_nothing_restored(target_url, tmp_path / "lake2")

        r = backup.restore(tmp_path / "pg", target_url, tmp_path / "lake2")
        assert r.ok and r.row_count_mismatches == [] and r.audit_head == done.manifest.audit_head
        restored = open_sessions(target_url, create=False)
        _assert_same(before, _state(restored))
        assert _lake_files(tmp_path / "lake2") == _lake_files(tmp_path / "lake")
        restored.kw["bind"].dispose()

        with pytest.raises(InputError, match="is not empty"):
            backup.restore(tmp_path / "pg", target_url, tmp_path / "lake3")
        assert not (tmp_path / "lake3").exists()
