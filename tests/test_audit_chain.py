"""The audit trail is a hash chain: `audit verify` finds an edited, a deleted and an inserted entry, and with a
recorded head also entries deleted from the end. Before, audit rows could be changed without trace."""
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from zerocarbon.cli import app
from zerocarbon.services import accounting, audit
from zerocarbon.store import repos

DATA = Path(__file__).parent / "data"


def _trail(sessions, n=5):
    accounting.load_organisation_file(sessions, DATA / "organisation.yaml", actor="test")
    with sessions.begin() as s:
        for i in range(n):
            repos.audit(s, "alice", "test.step", f"thing:{i}", value=i * 1.5, note="中文 ok")
    return audit.verify(sessions)


def _sql(sessions, sql):
    with sessions.begin() as s:
        s.execute(text(sql))


def test_intact_trail_verifies(sessions):
    v = _trail(sessions)
    assert v.intact and v.entries == 6 and v.head_seq == 6


def test_edited_entry_is_found(sessions):
    _trail(sessions)
    _sql(sessions, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    v = audit.verify(sessions)
    assert [f.seq for f in v.findings] == [3] and "edited" in str(v.findings[0])


def test_deleted_entry_is_found(sessions):
    _trail(sessions)
    _sql(sessions, "DELETE FROM audit_log WHERE seq = 3")
    v = audit.verify(sessions)
    assert not v.intact and v.findings[0].seq == 4 and "deleted" in str(v.findings[0])


def test_inserted_entry_is_found(sessions):
    _trail(sessions)
    # A forger renumbers the later entries to make room and writes a plausible entry linked to its predecessor.
    _sql(sessions, "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 4")
    _sql(sessions, "UPDATE audit_log SET seq = seq - 99 WHERE seq >= 104")
    with sessions.begin() as s:
        prev = s.execute(text("SELECT hash FROM audit_log WHERE seq = 3")).scalar()
        from datetime import datetime

        from zerocarbon.core.audit import entry_hash
        at = datetime(2025, 1, 1)
        h = entry_hash(prev, 4, at, "mallory", "import", "batch:99", None, {})
        s.execute(text("INSERT INTO audit_log (seq, prev_hash, hash, at, actor, action, entity, detail) "
                       "VALUES (4, :p, :h, :at, 'mallory', 'import', 'batch:99', '{}')"), {"p": prev, "h": h, "at": at})
    v = audit.verify(sessions)
    assert not v.intact and v.findings[0].seq == 5 and "does not link" in str(v.findings[0])


def test_deletion_from_the_end_is_found_with_a_recorded_head(sessions):
    v = _trail(sessions)
    head = f"{v.head_seq}:{v.head_hash}"
    _sql(sessions, "DELETE FROM audit_log WHERE seq = 6")
    assert audit.verify(sessions).intact  # the chain alone cannot tell
    later = audit.verify(sessions, head)
    assert not later.intact and "deleted from the end" in str(later.findings[0])


def test_cli_verify_exit_codes(tmp_path):
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    runner = CliRunner()
    assert runner.invoke(app, ["org", "load", str(DATA / "organisation.yaml"), "--db", db]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify", "--db", db])
    assert ok.exit_code == 0 and "intact" in ok.output
    head = runner.invoke(app, ["audit", "head", "--db", db]).output.strip()
    from sqlalchemy import create_engine

    with create_engine(db).begin() as c:
        c.execute(text("UPDATE audit_log SET entity = 'X' WHERE seq = 1"))
    bad = runner.invoke(app, ["audit", "verify", "--db", db, "--head", head])
    assert bad.exit_code == 3 and "edited" in bad.output
    assert runner.invoke(app, ["audit", "verify", "--db", db, "--head", "nonsense"]).exit_code == 2


def test_upgrade_chains_an_existing_audit_log(tmp_path):
    """A database written before the chain keeps its entries and verifies after the upgrade."""
    from alembic import command
    from alembic.config import Config
    from importlib import resources

    from zerocarbon.store.db import make_engine, session_factory, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("zerocarbon.store") / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        conn.execute(text("INSERT INTO audit_log (at, actor, action, entity, detail) VALUES "
                          "('2025-01-02 03:04:05.000006', 'cli', 'organisation.load', 'ORG', '{\"sites\": [\"TJ01\"]}')"))
    upgrade(engine)
    v = audit.verify(session_factory(engine))
    assert v.intact and v.entries == 1
    engine.dispose()
