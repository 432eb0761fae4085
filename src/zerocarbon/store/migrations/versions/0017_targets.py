"""reduction targets and the output figures intensity targets divide by

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 11:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'targets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('scopes', sa.String(length=16), nullable=False),
        sa.Column('scope2_method', sa.String(length=16), nullable=False),
        sa.Column('boundary', sa.String(length=64), nullable=False),
        sa.Column('base_year', sa.Integer(), nullable=False),
        sa.Column('base_value', sa.Float(), nullable=False),
        sa.Column('target_year', sa.Integer(), nullable=False),
        sa.Column('reduction', sa.Float(), nullable=True),
        sa.Column('re_share', sa.Float(), nullable=True),
        sa.Column('denominator', sa.String(length=16), nullable=True),
        sa.Column('denominator_unit', sa.String(length=32), nullable=True),
        sa.Column('projected_output', sa.Float(), nullable=True),
        sa.Column('submitted', sa.Date(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('organisation_id', 'code'),
    )
    op.create_table(
        'target_outputs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('site', sa.String(length=64), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('metric', sa.String(length=16), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('unit', sa.String(length=32), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('recorded_by', sa.String(length=128), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('organisation_id', 'site', 'year', 'metric'),
    )


def downgrade() -> None:
    op.drop_table('target_outputs')
    op.drop_table('targets')
