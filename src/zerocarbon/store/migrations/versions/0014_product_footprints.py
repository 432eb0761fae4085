"""product carbon footprints (PACT ProductFootprint) with their versions and the original JSON

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-27 08:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'product_footprints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('pf_id', sa.String(length=36), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('spec_version', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('company_name', sa.String(length=512), nullable=False),
        sa.Column('company_ids', sa.JSON(), nullable=False),
        sa.Column('product_ids', sa.JSON(), nullable=False),
        sa.Column('product_name', sa.String(length=512), nullable=False),
        sa.Column('declared_unit', sa.String(length=32), nullable=False),
        sa.Column('unit', sa.String(length=16), nullable=False),
        sa.Column('unitary_product_amount', sa.Float(), nullable=False),
        sa.Column('pcf_excl', sa.Float(), nullable=False),
        sa.Column('pcf_incl', sa.Float(), nullable=True),
        sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
        sa.Column('primary_data_share', sa.Float(), nullable=True),
        sa.Column('dqr', sa.Float(), nullable=True),
        sa.Column('supplier_code', sa.String(length=64), nullable=True),
        sa.Column('owner', sa.String(length=128), nullable=False),
        sa.Column('document', sa.JSON(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=512), nullable=False),
        sa.Column('imported_by', sa.String(length=128), nullable=False),
        sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('current', sa.Boolean(), nullable=False),
        sa.Column('superseded_by', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id']),
        sa.ForeignKeyConstraint(['superseded_by'], ['product_footprints.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('organisation_id', 'pf_id', 'version'),
    )
    op.create_index('ix_product_footprints_org', 'product_footprints', ['organisation_id', 'current', 'owner'])


def downgrade() -> None:
    op.drop_index('ix_product_footprints_org', table_name='product_footprints')
    op.drop_table('product_footprints')
