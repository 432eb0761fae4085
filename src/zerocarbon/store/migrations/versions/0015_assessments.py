"""assessments: an organisation's own index systems, assessments of a site or workshop, manual entries with
their evidence and review

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 11:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _org():
    return sa.Column('organisation_id', sa.Integer(), sa.ForeignKey('organisations.id'), nullable=False)


def _when(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'assessment_systems', sa.Column('id', sa.Integer(), primary_key=True), _org(),
        sa.Column('system_id', sa.String(128), nullable=False), sa.Column('version', sa.String(64), nullable=False),
        sa.Column('name', sa.String(512), nullable=False), sa.Column('yaml_text', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False), sa.Column('source', sa.String(256), nullable=False),
        _when('created_at'), sa.Column('created_by', sa.String(128), nullable=False),
        sa.UniqueConstraint('organisation_id', 'system_id', 'version'),
    )
    op.create_index('ix_assessment_systems_organisation_id', 'assessment_systems', ['organisation_id'])
    op.create_table(
        'assessments', sa.Column('id', sa.Integer(), primary_key=True), _org(),
        sa.Column('system_id', sa.String(128), nullable=False),
        sa.Column('system_version', sa.String(64), nullable=False),
        sa.Column('system_sha256', sa.String(64), nullable=False),
        sa.Column('system_origin', sa.String(16), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False), sa.Column('base_year', sa.Integer(), nullable=True),
        sa.Column('factor_set', sa.String(64), nullable=True),
        sa.Column('boundary_kind', sa.String(16), nullable=False), sa.Column('site', sa.String(64), nullable=False),
        sa.Column('workshop', sa.String(128), nullable=True), sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('meters', sa.JSON(), nullable=False), sa.Column('status', sa.String(16), nullable=False),
        sa.Column('metrics', sa.JSON(), nullable=False), sa.Column('result', sa.JSON(), nullable=True),
        _when('created_at'), sa.Column('created_by', sa.String(128), nullable=False),
        _when('updated_at'), sa.Column('updated_by', sa.String(128), nullable=False),
        _when('finalised_at', True), sa.Column('finalised_by', sa.String(128), nullable=True),
    )
    op.create_index('ix_assessments_org', 'assessments', ['organisation_id', 'year'])
    op.create_table(
        'assessment_entries', sa.Column('id', sa.Integer(), primary_key=True), _org(),
        sa.Column('assessment_id', sa.Integer(), sa.ForeignKey('assessments.id'), nullable=False),
        sa.Column('metric', sa.String(128), nullable=False), sa.Column('value', sa.Float(), nullable=False),
        sa.Column('unit', sa.String(32), nullable=False), sa.Column('note', sa.Text(), nullable=True),
        sa.Column('evidence_name', sa.String(256), nullable=False),
        sa.Column('evidence_sha256', sa.String(64), nullable=False),
        sa.Column('evidence_size', sa.Integer(), nullable=False),
        sa.Column('evidence', sa.LargeBinary(), nullable=False),
        sa.Column('entered_by', sa.String(128), nullable=False), _when('entered_at'),
        sa.Column('review_state', sa.String(16), nullable=False),
        sa.Column('reviewed_by', sa.String(128), nullable=True), _when('reviewed_at', True),
        sa.Column('review_comment', sa.Text(), nullable=True),
    )
    op.create_index('ix_assessment_entries_key', 'assessment_entries', ['organisation_id', 'assessment_id', 'metric'])


def downgrade() -> None:
    op.drop_index('ix_assessment_entries_key', table_name='assessment_entries')
    op.drop_table('assessment_entries')
    op.drop_index('ix_assessments_org', table_name='assessments')
    op.drop_table('assessments')
    op.drop_index('ix_assessment_systems_organisation_id', table_name='assessment_systems')
    op.drop_table('assessment_systems')
