"""import batches as versions (status, path, successor), batch lineage in activities and emissions,
audit rows by organisation

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


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

    with op.batch_alter_table("emissions") as b:
        b.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        b.create_foreign_key("fk_emissions_batch_id", "import_batches", ["batch_id"], ["id"])

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
        b.drop_constraint("fk_emissions_batch_id", type_="foreignkey")
        b.drop_column("batch_id")
    find = "instr(activity_id, ':')" if op.get_bind().dialect.name == "sqlite" else "strpos(activity_id, ':')"
    op.execute(f"UPDATE activities SET activity_id = substr(activity_id, {find} + 1) WHERE activity_id LIKE 'b%:%'")
    with op.batch_alter_table("import_batches") as b:
        b.drop_index("ix_import_batches_scope")
        b.drop_constraint("fk_import_batches_superseded_by", type_="foreignkey")
        b.drop_constraint("fk_import_batches_replaces", type_="foreignkey")
        for c in ("columns", "status_changed_by", "status_changed_at", "status_reason", "superseded_by", "replaces",
                  "status", "path"):
            b.drop_column(c)
