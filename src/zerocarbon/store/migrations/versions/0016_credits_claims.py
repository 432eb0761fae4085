"""carbon-credit register and carbon-neutrality claims (ISO 14068-1)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 10:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'carbon_credits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('credit_id', sa.String(length=64), nullable=False),
        sa.Column('programme', sa.String(length=32), nullable=False),
        sa.Column('project_id', sa.String(length=128), nullable=False),
        sa.Column('project_type', sa.String(length=16), nullable=False),
        sa.Column('vintage', sa.Integer(), nullable=False),
        sa.Column('serials', sa.JSON(), nullable=False),
        sa.Column('quantity_t', sa.Float(), nullable=False),
        sa.Column('verified_by', sa.String(length=256), nullable=False),
        sa.Column('verification_date', sa.Date(), nullable=True),
        sa.Column('issued_date', sa.Date(), nullable=True),
        sa.Column('additionality', sa.Text(), nullable=False),
        sa.Column('storage_years', sa.Integer(), nullable=True),
        sa.Column('reversal_provision', sa.Text(), nullable=False),
        sa.Column('corresponding_adjustment', sa.String(length=16), nullable=False),
        sa.Column('retirement_date', sa.Date(), nullable=True),
        sa.Column('retirement_beneficiary', sa.String(length=256), nullable=False),
        sa.Column('retired_for_subject', sa.String(length=256), nullable=False),
        sa.Column('retired_for_period', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=256), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('imported_by', sa.String(length=128), nullable=False),
        sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('organisation_id', 'credit_id'),
    )
    op.create_index('ix_carbon_credits_project', 'carbon_credits', ['organisation_id', 'programme', 'project_id'])
    op.create_table(
        'neutrality_claims',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=16), nullable=False),
        sa.Column('site', sa.String(length=64), nullable=False),
        sa.Column('workshop', sa.String(length=128), nullable=False),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('first_period', sa.Boolean(), nullable=False),
        sa.Column('plan', sa.JSON(), nullable=False),
        sa.Column('plan_sha256', sa.String(length=64), nullable=False),
        sa.Column('credit_ids', sa.JSON(), nullable=False),
        sa.Column('emissions', sa.JSON(), nullable=False),
        sa.Column('base_year_emissions_t', sa.Float(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('findings', sa.JSON(), nullable=True),
        sa.Column('statement_en', sa.Text(), nullable=True),
        sa.Column('statement_zh', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reviewed_by', sa.String(length=128), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('review_comment', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_neutrality_claims_org', 'neutrality_claims', ['organisation_id', 'year'])


def downgrade() -> None:
    op.drop_index('ix_neutrality_claims_org', table_name='neutrality_claims')
    op.drop_table('neutrality_claims')
    op.drop_index('ix_carbon_credits_project', table_name='carbon_credits')
    op.drop_table('carbon_credits')
