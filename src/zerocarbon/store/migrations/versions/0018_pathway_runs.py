"""stored least-cost pathway runs: scenario, catalogue, base inventory, result, solver status

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 10:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pathway_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=256), nullable=False),
        sa.Column('scenario_file', sa.String(length=512), nullable=False),
        sa.Column('scenario_yaml', sa.Text(), nullable=False),
        sa.Column('scenario_sha256', sa.String(length=64), nullable=False),
        sa.Column('catalogue', sa.String(length=512), nullable=False),
        sa.Column('catalogue_sha256', sa.String(length=64), nullable=False),
        sa.Column('base_year', sa.Integer(), nullable=False),
        sa.Column('base', sa.JSON(), nullable=False),
        sa.Column('solver_status', sa.String(length=16), nullable=False),
        sa.Column('solve_seconds', sa.Float(), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_pathway_runs_org', 'pathway_runs', ['organisation_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_pathway_runs_org', table_name='pathway_runs')
    op.drop_table('pathway_runs')
