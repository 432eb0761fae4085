"""stored factor sets belong to one organisation; names unique per organisation

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-27 02:00:00

A set stored before this revision is given to the database's organisation when there is exactly one. With no
or several organisations it keeps no owner: no organisation finds it until `zerocarbon factors assign NAME
--org ORG` gives it one (docs/factors.md, "Who sees a stored set").
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Names SQLite's unnamed constraints when the table is copied, so the old one on "name" can be dropped.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _name_constraint(bind, columns: list[str]) -> str:
    for uq in sa.inspect(bind).get_unique_constraints('factor_sets'):
        if uq['column_names'] == columns:
            return uq['name'] or NAMING['uq'] % {'table_name': 'factor_sets', 'column_0_name': columns[0]}
    raise RuntimeError(f"factor_sets has no unique constraint on {columns}")


def upgrade() -> None:
    bind = op.get_bind()
    old = _name_constraint(bind, ['name'])
    with op.batch_alter_table('factor_sets', naming_convention=NAMING) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(old, type_='unique')
        batch_op.create_foreign_key('fk_factor_sets_organisation_id', 'organisations', ['organisation_id'], ['id'])
        batch_op.create_unique_constraint('uq_factor_sets_organisation_id_name', ['organisation_id', 'name'])
        batch_op.create_index('ix_factor_sets_organisation_id', ['organisation_id'], unique=False)
    orgs = bind.execute(sa.text("SELECT id FROM organisations")).scalars().all()
    if len(orgs) == 1:
        bind.execute(sa.text("UPDATE factor_sets SET organisation_id = :org"), {"org": orgs[0]})


def downgrade() -> None:
    bind = op.get_bind()
    clash = bind.execute(sa.text("SELECT name FROM factor_sets GROUP BY name HAVING COUNT(*) > 1")).scalars().all()
    if clash:
        raise RuntimeError(f"cannot downgrade: several organisations have stored factor sets named "
                           f"{', '.join(sorted(clash))} and names were unique before revision 0010")
    with op.batch_alter_table('factor_sets', naming_convention=NAMING) as batch_op:
        batch_op.drop_index('ix_factor_sets_organisation_id')
        batch_op.drop_constraint('uq_factor_sets_organisation_id_name', type_='unique')
        batch_op.drop_constraint('fk_factor_sets_organisation_id', type_='foreignkey')
        batch_op.drop_column('organisation_id')
        batch_op.create_unique_constraint('uq_factor_sets_name', ['name'])
