"""meters, live readings and dead letters carry their organisation; instants are time-zone aware

Meter ids are unique only within an organisation, so ``meters`` is keyed by (organisation_id, id) and
``readings`` by (organisation_id, meter, ts); a dead letter keeps the organisation its topic names, when known.

Existing meters and readings get the database's organisation when it holds exactly one. With several, or
none, the upgrade does not guess: it stops with a message, and ``zerocarbon db upgrade --org CODE`` names the
organisation (in a database without any, CODE is created, to be completed by ``zerocarbon org load``).
Existing dead letters get the organisation only when that is unambiguous; otherwise they keep none.

On PostgreSQL every instant column becomes ``timestamp with time zone``, the stored values read as UTC
(what the application always wrote). SQLite keeps the UTC text it holds; the store reads it back as UTC.

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-27 02:00:00
"""
from alembic import context, op
import sqlalchemy as sa

from zerocarbon.errors import StorageError

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# table -> its columns holding an instant (naive UTC before this revision)
INSTANTS = {"import_batches": ["imported_at", "status_changed_at"], "inventories": ["computed_at"],
            "base_year_changes": ["recorded_at"], "audit_log": ["at"], "readings": ["ts", "received_at"],
            "dead_letters": ["received_at"], "factor_sets": ["created_at"], "schedule_runs": ["created_at"],
            "jobs": ["created_at", "started_at", "finished_at", "heartbeat_at"]}
METER_COLUMNS = ["id", "site", "area", "line", "asset", "medium", "unit", "multiplier", "register", "stamp",
                 "interval_min", "timezone", "rollover"]
READING_COLUMNS = ["meter", "ts", "value", "unit", "flag", "received_at"]


def _organisation_for_existing_rows(conn) -> tuple[int | None, int | None]:
    """(organisation of existing meters and readings, organisation of existing dead letters)."""
    orgs = conn.execute(sa.text("SELECT id, code FROM organisations ORDER BY code")).all()
    only = orgs[0][0] if len(orgs) == 1 else None
    meters = conn.execute(sa.text("SELECT count(*) FROM meters")).scalar()
    readings = conn.execute(sa.text("SELECT count(*) FROM readings")).scalar()
    given = (context.config.attributes.get("meter_org") if context.config is not None else None) or None
    if given is not None:
        match = [i for i, code in orgs if code == given]
        if match:
            return match[0], match[0]
        if orgs:
            raise StorageError(f"organisation '{given}' is not in the database (it holds "
                               f"{', '.join(c for _, c in orgs)}); name one of them with --org")
        conn.execute(sa.text("INSERT INTO organisations (code, name) VALUES (:c, :c)"), {"c": given})
        new = conn.execute(sa.text("SELECT id FROM organisations WHERE code = :c"), {"c": given}).scalar()
        return new, new
    if not (meters or readings) or only is not None:
        return only, only
    held = f"{meters} meter(s) and {readings} live reading(s)"
    if orgs:
        raise StorageError(f"the database holds {held} stored before meters belonged to an organisation, and "
                           f"{len(orgs)} organisations ({', '.join(c for _, c in orgs)}); say whose they are: "
                           "`zerocarbon db upgrade --org CODE` (docs/factory-data.md, upgrading)")
    raise StorageError(f"the database holds {held} stored before meters belonged to an organisation, and no "
                       "organisation; name theirs: `zerocarbon db upgrade --org CODE`, then load its file with "
                       "`zerocarbon org load` (docs/factory-data.md, upgrading)")


def _meters_table() -> list:
    return [
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('id', sa.String(length=128), nullable=False),
        sa.Column('site', sa.String(length=64), nullable=False),
        sa.Column('area', sa.String(length=64), nullable=True),
        sa.Column('line', sa.String(length=64), nullable=True),
        sa.Column('asset', sa.String(length=64), nullable=True),
        sa.Column('medium', sa.String(length=32), nullable=False),
        sa.Column('unit', sa.String(length=32), nullable=False),
        sa.Column('multiplier', sa.Float(), nullable=False),
        sa.Column('register', sa.String(length=16), nullable=False),
        sa.Column('stamp', sa.String(length=8), nullable=False),
        sa.Column('interval_min', sa.Integer(), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('rollover', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id']),
        sa.PrimaryKeyConstraint('organisation_id', 'id')]


def _readings_table() -> list:
    return [
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('meter', sa.String(length=128), nullable=False),
        sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('unit', sa.String(length=32), nullable=False),
        sa.Column('flag', sa.String(length=16), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id']),
        sa.PrimaryKeyConstraint('organisation_id', 'meter', 'ts')]


def _rekey_sqlite(conn, table: str, shape: list, columns: list[str], org_id: int | None) -> None:
    """SQLite cannot change a primary key in place: copy into a table of the new shape, then swap."""
    new = f"_{table}_0009"
    op.create_table(new, *shape)
    cols = ", ".join(f'"{c}"' for c in columns)
    conn.execute(sa.text(f'INSERT INTO "{new}" (organisation_id, {cols}) SELECT :org, {cols} FROM "{table}"'),
                 {"org": org_id})
    op.drop_table(table)
    op.rename_table(new, table)


def _rekey_postgresql(table: str, pkey: list[str], org_id: int | None) -> None:
    op.add_column(table, sa.Column('organisation_id', sa.Integer(), nullable=True))
    op.execute(sa.text(f"UPDATE {table} SET organisation_id = :org").bindparams(org=org_id))
    op.alter_column(table, 'organisation_id', nullable=False)
    op.drop_constraint(f"{table}_pkey", table, type_="primary")
    op.create_primary_key(f"{table}_pkey", table, pkey)
    op.create_foreign_key(f"{table}_organisation_id_fkey", table, "organisations", ["organisation_id"], ["id"])


def upgrade() -> None:
    conn = op.get_bind()
    org_id, dead_org = _organisation_for_existing_rows(conn)
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        _rekey_sqlite(conn, "meters", _meters_table(), METER_COLUMNS, org_id)
        _rekey_sqlite(conn, "readings", _readings_table(), READING_COLUMNS, org_id)
    else:
        _rekey_postgresql("meters", ["organisation_id", "id"], org_id)
        _rekey_postgresql("readings", ["organisation_id", "meter", "ts"], org_id)
    with op.batch_alter_table('dead_letters') as b:
        b.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        b.create_foreign_key('dead_letters_organisation_id_fkey', 'organisations', ['organisation_id'], ['id'])
        b.create_index('ix_dead_letters_organisation_id', ['organisation_id'], unique=False)
    if dead_org is not None:
        op.execute(sa.text("UPDATE dead_letters SET organisation_id = :org").bindparams(org=dead_org))
    if not sqlite:
        for table, columns in INSTANTS.items():
            for c in columns:
                op.execute(f'ALTER TABLE {table} ALTER COLUMN "{c}" TYPE TIMESTAMP WITH TIME ZONE '
                           f'USING "{c}" AT TIME ZONE \'UTC\'')


def downgrade() -> None:
    conn = op.get_bind()
    for table, key in (("meters", "id"), ("readings", "meter, ts")):
        shared = conn.execute(sa.text(f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY {key} "
                                      "HAVING count(*) > 1) AS d")).scalar()
        if shared:
            raise StorageError(f"{shared} key(s) of {table} are used by several organisations; the schema before "
                               "revision 0009 cannot hold them")
    sqlite = conn.dialect.name == "sqlite"
    if not sqlite:
        for table, columns in INSTANTS.items():
            for c in columns:
                op.execute(f'ALTER TABLE {table} ALTER COLUMN "{c}" TYPE TIMESTAMP WITHOUT TIME ZONE '
                           f'USING "{c}" AT TIME ZONE \'UTC\'')
    with op.batch_alter_table('dead_letters') as b:
        b.drop_index('ix_dead_letters_organisation_id')
        b.drop_constraint('dead_letters_organisation_id_fkey', type_='foreignkey')
        b.drop_column('organisation_id')
    for table, pkey in (("meters", ["id"]), ("readings", ["meter", "ts"])):
        with op.batch_alter_table(table, recreate="always") as b:
            if not sqlite:
                b.drop_constraint(f"{table}_organisation_id_fkey", type_="foreignkey")
                b.drop_constraint(f"{table}_pkey", type_="primary")
            b.drop_column('organisation_id')
            if not sqlite:
                b.create_primary_key(f"{table}_pkey", pkey)
