"""schedule runs: input files, settings and the stored comparison of each scheduler run

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-27 00:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('schedule_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('problem_file', sa.String(length=512), nullable=False),
    sa.Column('problem_sha256', sa.String(length=64), nullable=False),
    sa.Column('orders_file', sa.String(length=512), nullable=True),
    sa.Column('orders_sha256', sa.String(length=64), nullable=True),
    sa.Column('time_limit_s', sa.Float(), nullable=False),
    sa.Column('objective', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_schedule_runs_org', 'schedule_runs', ['organisation_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_schedule_runs_org', table_name='schedule_runs')
    op.drop_table('schedule_runs')
