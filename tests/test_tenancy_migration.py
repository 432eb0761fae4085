"""Revision 0009 on a database written before it, with rows in place, on SQLite and PostgreSQL: meters, live
readings and dead letters get their organisation (or the upgrade refuses to guess), instants become time-zone
aware, and the audit chain written before still verifies."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.conftest import BACKENDS, alembic_config, blank_engine, connections_in_zone
from zerocarbon.core.audit import GENESIS, entry_hash
from zerocarbon.errors import StorageError
from zerocarbon.services import audit
from zerocarbon.store.db import session_factory, upgrade
from zerocarbon.store.tables import AuditRow, Base, DeadLetterRow, MeterRow, ReadingRow

TABLES = {"meters", "readings", "dead_letters"}
AT = datetime(2026, 1, 2, 3, 4, 5, 6)  # naive UTC, as written before 0009


def _old_database(engine, orgs: list[str]) -> None:
    """The schema of revision 0006 with organisations, a meter, two live readings, a dead letter and two
    chained audit entries, written as the code before 0009 wrote them (naive UTC stamps)."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0006")
        for code in orgs:
            conn.execute(text("INSERT INTO organisations (code, name) VALUES (:c, :c)"), {"c": code})
        conn.execute(text("INSERT INTO meters (id, site, medium, unit, multiplier, register, stamp, interval_min, "
                          "timezone) VALUES ('M1', 'HF01', 'electricity', 'kWh', 1, 'interval', 'start', 15, "
                          "'Asia/Shanghai')"))
        for minute, value in ((0, 1.5), (15, 2.5)):
            conn.execute(text("INSERT INTO readings (meter, ts, value, unit, flag, received_at) VALUES "
                              "('M1', :ts, :v, 'kWh', '', :at)"), {"ts": AT.replace(minute=minute, second=0, microsecond=0),
                                                                  "v": value, "at": AT})
        conn.execute(text("INSERT INTO dead_letters (topic, payload, reason, received_at) VALUES "
                          "('zc/HF01/-/-/M9', '{}', 'unknown meter', :at)"), {"at": AT})
        prev = GENESIS
        for seq in (1, 2):
            detail = {"count": seq}
            digest = entry_hash(prev, seq, AT, "cli", "meters.register", "meters", None, detail)
            conn.execute(text("INSERT INTO audit_log (seq, prev_hash, hash, organisation_id, at, actor, action, "
                              "entity, detail) VALUES (:seq, :prev, :hash, NULL, :at, 'cli', 'meters.register', "
                              "'meters', :detail)"),
                         {"seq": seq, "prev": prev, "hash": digest, "at": AT, "detail": '{"count": %d}' % seq})
            prev = digest


def _org_id(engine, code: str) -> int:
    with engine.connect() as c:
        return c.execute(text("SELECT id FROM organisations WHERE code = :c"), {"c": code}).scalar()


@pytest.mark.parametrize("kind", BACKENDS)
def test_one_organisation_gets_the_existing_rows_and_instants_read_back_utc_aware(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        _old_database(engine, ["ACME"])
        upgrade(engine)
        acme = _org_id(engine, "ACME")
        with engine.connect() as conn:
            if kind == "postgresql":
                # A session in another zone must still read the same instants: the column holds instants now.
                conn.exec_driver_sql("SET TIME ZONE 'Asia/Shanghai'")
            with Session(bind=conn) as s:
                meter = s.scalar(select(MeterRow))
                readings = s.scalars(select(ReadingRow).order_by(ReadingRow.ts)).all()
                dead = s.scalar(select(DeadLetterRow))
                entries = s.scalars(select(AuditRow).order_by(AuditRow.seq)).all()
        assert (meter.organisation_id, meter.id) == (acme, "M1")
        assert [(r.organisation_id, r.meter, r.ts, r.value) for r in readings] == [
            (acme, "M1", datetime(2026, 1, 2, 3, 0, tzinfo=timezone.utc), 1.5),
            (acme, "M1", datetime(2026, 1, 2, 3, 15, tzinfo=timezone.utc), 2.5)]
        assert readings[0].received_at == AT.replace(tzinfo=timezone.utc)
        assert dead.organisation_id == acme and dead.received_at == AT.replace(tzinfo=timezone.utc)
        assert [e.at for e in entries] == [AT.replace(tzinfo=timezone.utc)] * 2
        if kind == "postgresql":
            # every connection in another zone: the hashed text of the old entries is still their UTC time
            connections_in_zone(engine)
        v = audit.verify(session_factory(engine))
        assert v.intact and v.entries == 2
        with engine.connect() as conn:
            diff = [d for d in compare_metadata(MigrationContext.configure(conn), Base.metadata)
                    if any(t in str(d) for t in TABLES)]
        assert diff == []


@pytest.mark.parametrize("kind", BACKENDS)
def test_several_organisations_stop_the_upgrade_until_one_is_named(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        _old_database(engine, ["ACME", "BETA"])
        with pytest.raises(StorageError, match=r"2 organisations \(ACME, BETA\).*zerocarbon db upgrade --org CODE"):
            upgrade(engine)
        with pytest.raises(StorageError, match="organisation 'GAMMA' is not in the database"):
            upgrade(engine, meter_org="GAMMA")
        with engine.connect() as c:  # nothing changed: still revision 0006, meters keyed by id alone
            assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0006"
        upgrade(engine, meter_org="BETA")
        beta = _org_id(engine, "BETA")
        with engine.connect() as c:
            assert c.execute(text("SELECT organisation_id, id FROM meters")).all() == [(beta, "M1")]
            assert {r[0] for r in c.execute(text("SELECT organisation_id FROM readings"))} == {beta}
            assert c.execute(text("SELECT organisation_id FROM dead_letters")).scalar() == beta
        assert audit.verify(session_factory(engine)).intact


@pytest.mark.parametrize("kind", BACKENDS)
def test_without_any_organisation_the_named_one_is_created(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        _old_database(engine, [])
        with pytest.raises(StorageError, match="no organisation; name theirs: `zerocarbon db upgrade --org CODE`"):
            upgrade(engine)
        upgrade(engine, meter_org="ACME")
        with engine.connect() as c:
            assert c.execute(text("SELECT o.code FROM meters m JOIN organisations o ON o.id = m.organisation_id")
                             ).scalar() == "ACME"


@pytest.mark.parametrize("kind", BACKENDS)
def test_several_organisations_without_meter_rows_upgrade_and_keep_dead_letters_unassigned(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        _old_database(engine, ["ACME", "BETA"])
        with engine.begin() as c:
            c.execute(text("DELETE FROM readings"))
            c.execute(text("DELETE FROM meters"))
        upgrade(engine)
        with engine.connect() as c:
            assert c.execute(text("SELECT organisation_id FROM dead_letters")).all() == [(None,)]


def test_upgrade_from_the_command_line_names_the_organisation(tmp_path):
    from typer.testing import CliRunner

    from zerocarbon.cli import app
    from zerocarbon.store.db import make_engine

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    _old_database(engine, ["ACME", "BETA"])
    engine.dispose()
    runner = CliRunner()
    refused = runner.invoke(app, ["audit", "verify", "--db", url])
    assert refused.exit_code == 2 and "zerocarbon db upgrade --org CODE" in refused.output
    ok = runner.invoke(app, ["db", "upgrade", "--db", url, "--org", "ACME"])
    assert ok.exit_code == 0, ok.output
    assert runner.invoke(app, ["audit", "verify", "--db", url]).exit_code == 0
