"""import batches as versions (status, path, successor), batch lineage in activities and emissions,
ledger lines shared by ledger rows, audit rows by organisation

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LINE_COLUMNS = [("site", sa.String(length=64)), ("scope", sa.String(length=4)), ("category", sa.String(length=64)),
                ("method", sa.String(length=16)), ("gas", sa.String(length=32)), ("gwp_set", sa.String(length=16)),
                ("gwp", sa.Float()), ("gwp_factor_id", sa.String(length=128)), ("inclusion", sa.Float()),
                ("factor_ids", sa.Text()), ("formula", sa.Text()), ("memo", sa.String(length=32))]


def upgrade() -> None:
    with op.batch_alter_table("import_batches") as b:
        b.add_column(sa.Column("path", sa.String(length=1024), nullable=True))
        b.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="active"))
        b.add_column(sa.Column("replaces", sa.Integer(), nullable=True))
        b.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))
        b.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        b.add_column(sa.Column("status_changed_at", sa.DateTime(), nullable=True))
        b.add_column(sa.Column("status_changed_by", sa.String(length=128), nullable=True))
        b.add_column(sa.Column("columns", sa.JSON(), nullable=True))
        b.create_foreign_key("fk_import_batches_replaces", "import_batches", ["replaces"], ["id"])
        b.create_foreign_key("fk_import_batches_superseded_by", "import_batches", ["superseded_by"], ["id"])
        b.create_index("ix_import_batches_scope", ["organisation_id", "year", "kind", "status"])
    # Batches imported before paths were kept: the file name is all that is known.
    op.execute("UPDATE import_batches SET path = source WHERE path IS NULL")
    with op.batch_alter_table("import_batches") as b:
        b.alter_column("path", existing_type=sa.String(length=1024), nullable=False)

    # Activity ids name their batch, so two files of the same name stay apart in every ledger.
    op.execute("UPDATE activities SET activity_id = 'b' || CAST(batch_id AS VARCHAR(20)) || ':' || activity_id")

    # Ledger rows share their text (site, scope, category, method, gas, GWP, factor ids, formula, memo) through
    # emission_lines: a 1M-row ledger has hundreds of distinct lines, not a million.
    op.create_table(
        "emission_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inventory_id", sa.Integer(), nullable=False),
        *[sa.Column(name, type_, nullable=False) for name, type_ in LINE_COLUMNS],
        sa.ForeignKeyConstraint(["inventory_id"], ["inventories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_emission_lines_inventory_id", "emission_lines", ["inventory_id"])
    names = ", ".join(n for n, _ in LINE_COLUMNS)
    op.execute(f"INSERT INTO emission_lines (inventory_id, {names}) SELECT DISTINCT inventory_id, {names} FROM emissions")
    with op.batch_alter_table("emissions") as b:
        b.add_column(sa.Column("line_id", sa.Integer(), nullable=True))
        b.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
    same = " AND ".join(f"l.{n} = emissions.{n}" for n, _ in LINE_COLUMNS)
    op.execute(f"UPDATE emissions SET line_id = (SELECT l.id FROM emission_lines l "
               f"WHERE l.inventory_id = emissions.inventory_id AND {same})")
    # Ledger rows are derived data written by one function in one transaction; foreign keys on them cost one
    # query per row on PostgreSQL (16 of 20 s for a 1.8M-row ledger), so they name their inventory, line and
    # batch by id only.
    convention = None
    if op.get_bind().dialect.name == "sqlite":  # the constraint of 0001 has no name there: give it one to drop it
        convention = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
        fk = "fk_emissions_inventory_id_inventories"
    else:
        fk = next((f["name"] for f in sa.inspect(op.get_bind()).get_foreign_keys("emissions")
                   if f["referred_table"] == "inventories"), None)
    with op.batch_alter_table("emissions", naming_convention=convention) as b:
        b.alter_column("line_id", existing_type=sa.Integer(), nullable=False)
        if fk:
            b.drop_constraint(fk, type_="foreignkey")
        for name, _ in LINE_COLUMNS:
            b.drop_column(name)

    with op.batch_alter_table("audit_log") as b:
        b.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        b.create_foreign_key("fk_audit_log_organisation_id", "organisations", ["organisation_id"], ["id"])
        b.create_index("ix_audit_log_organisation_id", ["organisation_id"])


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as b:
        b.drop_index("ix_audit_log_organisation_id")
        b.drop_constraint("fk_audit_log_organisation_id", type_="foreignkey")
        b.drop_column("organisation_id")
    with op.batch_alter_table("emissions") as b:
        for name, type_ in LINE_COLUMNS:
            b.add_column(sa.Column(name, type_, nullable=True))
    for name, _ in LINE_COLUMNS:
        op.execute(f"UPDATE emissions SET {name} = (SELECT l.{name} FROM emission_lines l WHERE l.id = emissions.line_id)")
    with op.batch_alter_table("emissions") as b:
        b.drop_column("batch_id")
        b.drop_column("line_id")
        for name, type_ in LINE_COLUMNS:
            b.alter_column(name, existing_type=type_, nullable=False)
        b.create_foreign_key("emissions_inventory_id_fkey", "inventories", ["inventory_id"], ["id"], ondelete="CASCADE")
    op.drop_index("ix_emission_lines_inventory_id", table_name="emission_lines")
    op.drop_table("emission_lines")
    find = "instr(activity_id, ':')" if op.get_bind().dialect.name == "sqlite" else "strpos(activity_id, ':')"
    op.execute(f"UPDATE activities SET activity_id = substr(activity_id, {find} + 1) WHERE activity_id LIKE 'b%:%'")
    with op.batch_alter_table("import_batches") as b:
        b.drop_index("ix_import_batches_scope")
        b.drop_constraint("fk_import_batches_superseded_by", type_="foreignkey")
        b.drop_constraint("fk_import_batches_replaces", type_="foreignkey")
        for c in ("columns", "status_changed_by", "status_changed_at", "status_reason", "superseded_by", "replaces",
                  "status", "path"):
            b.drop_column(c)
