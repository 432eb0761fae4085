"""emission lines carry the Scope 3 calculation method and data-quality score

``calc_method`` names the GHG Protocol Scope 3 method of a line (supplier_specific, hybrid, average_data,
spend_based, distance_based, ...; "" on Scope 1 and 2 lines) and ``dq`` its data-quality score (1.0 very good ..
5.0 very poor, Scope 3 Standard ch. 7; NULL on Scope 1 and 2 lines). Both are part of what a line is: rows of
one category computed by different methods or from data of different quality are different lines. Lines stored
before this revision are Scope 1 and 2 lines: they get "" and NULL.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 08:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('emission_lines') as batch_op:
        batch_op.add_column(sa.Column('calc_method', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('dq', sa.Float(), nullable=True))
    op.execute("UPDATE emission_lines SET calc_method = ''")


def downgrade() -> None:
    # Refused rather than silently dropping what the Scope 3 figures rest on: before this revision a stored
    # ledger could not say how a Scope 3 row was computed or how good its data were.
    scope3 = op.get_bind().execute(sa.text(
        "SELECT COUNT(*) FROM emission_lines WHERE scope = '3' OR calc_method <> '' OR dq IS NOT NULL")).scalar()
    if scope3:
        raise RuntimeError(f"cannot downgrade below revision 0012: {scope3} stored emission lines carry a Scope 3 "
                           "method or data-quality score; recompute those inventories with Scope 1 and 2 "
                           "activity data only, then downgrade")
    with op.batch_alter_table('emission_lines') as batch_op:
        batch_op.drop_column('dq')
        batch_op.drop_column('calc_method')
