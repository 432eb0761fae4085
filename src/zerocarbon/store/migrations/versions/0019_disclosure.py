"""disclosure inputs (entered figures and narratives, superseded not overwritten) and publications

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'disclosure_inputs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('value_num', sa.Float(), nullable=True),
        sa.Column('value_text', sa.Text(), nullable=True),
        sa.Column('value_zh', sa.Text(), nullable=True),
        sa.Column('unit', sa.String(length=64), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('entered_by', sa.String(length=128), nullable=False),
        sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_disclosure_inputs_key', 'disclosure_inputs', ['organisation_id', 'year', 'key'])
    op.create_table(
        'disclosure_publications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('frameworks', sa.JSON(), nullable=False),
        sa.Column('facts', sa.JSON(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('published_by', sa.String(length=128), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_disclosure_publications_org', 'disclosure_publications', ['organisation_id', 'year'])


def downgrade() -> None:
    op.drop_index('ix_disclosure_publications_org', table_name='disclosure_publications')
    op.drop_table('disclosure_publications')
    op.drop_index('ix_disclosure_inputs_key', table_name='disclosure_inputs')
    op.drop_table('disclosure_inputs')
