"""suppliers, green-specification submissions and evidence, data campaigns, reduction projects; the supplier a
member speaks for (memberships.supplier_code)

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-27 08:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _org():
    return sa.Column('organisation_id', sa.Integer(), sa.ForeignKey('organisations.id'), nullable=False)


def _when(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table('memberships') as b:
        b.add_column(sa.Column('supplier_code', sa.String(length=64), nullable=True))
    op.create_table(
        'suppliers', sa.Column('id', sa.Integer(), primary_key=True), _org(),
        sa.Column('code', sa.String(64), nullable=False), sa.Column('name', sa.String(256), nullable=False),
        sa.Column('tier', sa.Integer(), nullable=False), sa.Column('category', sa.String(128), nullable=False),
        sa.Column('country', sa.String(8), nullable=False), sa.Column('region', sa.String(128), nullable=False),
        sa.Column('site', sa.String(128), nullable=False), sa.Column('annual_spend', sa.Float(), nullable=True),
        sa.Column('currency', sa.String(8), nullable=True), sa.Column('parts', sa.Text(), nullable=False),
        sa.Column('emissions_t', sa.Float(), nullable=True),
        sa.Column('emissions_source', sa.String(16), nullable=False),
        sa.Column('contact', sa.String(320), nullable=False), _when('updated_at'),
        sa.Column('updated_by', sa.String(128), nullable=False),
        sa.UniqueConstraint('organisation_id', 'code'))
    op.create_index('ix_suppliers_organisation_id', 'suppliers', ['organisation_id'])
    op.create_table(
        'supply_settings',
        sa.Column('organisation_id', sa.Integer(), sa.ForeignKey('organisations.id'), primary_key=True),
        sa.Column('spec_yaml', sa.Text(), nullable=False), sa.Column('spec_sha256', sa.String(64), nullable=False),
        _when('updated_at'), sa.Column('updated_by', sa.String(128), nullable=False))
    op.create_table(
        'supplier_campaigns', sa.Column('id', sa.Integer(), primary_key=True), _org(),
        sa.Column('name', sa.String(256), nullable=False), sa.Column('indicators', sa.JSON(), nullable=False),
        sa.Column('due', sa.Date(), nullable=False), _when('created_at'),
        sa.Column('created_by', sa.String(128), nullable=False))
    op.create_index('ix_supplier_campaigns_organisation_id', 'supplier_campaigns', ['organisation_id'])
    op.create_table(
        'supplier_requests', sa.Column('id', sa.Integer(), primary_key=True), _org(),
        sa.Column('campaign_id', sa.Integer(), sa.ForeignKey('supplier_campaigns.id'), nullable=False),
        sa.Column('supplier_code', sa.String(64), nullable=False), sa.Column('status', sa.String(16), nullable=False),
        sa.Column('reminders', sa.Integer(), server_default='0', nullable=False), _when('reminded_at', True),
        sa.Column('reminded_by', sa.String(128), nullable=True),
        sa.UniqueConstraint('campaign_id', 'supplier_code'))
    op.create_index('ix_supplier_requests_org', 'supplier_requests', ['organisation_id', 'supplier_code'])
    op.create_table(
        'supplier_evidence', sa.Column('id', sa.Integer(), primary_key=True), _org(),
        sa.Column('supplier_code', sa.String(64), nullable=False), sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('file_name', sa.String(256), nullable=False), sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False), _when('uploaded_at'),
        sa.Column('uploaded_by', sa.String(128), nullable=False),
        sa.UniqueConstraint('organisation_id', 'supplier_code', 'sha256'))
    op.create_index('ix_supplier_evidence_organisation_id', 'supplier_evidence', ['organisation_id'])
    op.create_table(
        'supplier_submissions', sa.Column('id', sa.Integer(), primary_key=True), _org(),
        sa.Column('supplier_code', sa.String(64), nullable=False),
        sa.Column('request_id', sa.Integer(), sa.ForeignKey('supplier_requests.id'), nullable=True),
        sa.Column('source', sa.String(256), nullable=False), sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('status', sa.String(16), nullable=False), _when('submitted_at'),
        sa.Column('submitted_by', sa.String(128), nullable=False),
        sa.Column('review_comment', sa.Text(), nullable=True), _when('reviewed_at', True),
        sa.Column('reviewed_by', sa.String(128), nullable=True))
    op.create_index('ix_supplier_submissions_org', 'supplier_submissions', ['organisation_id', 'supplier_code'])
    op.create_table(
        'supplier_answers', sa.Column('id', sa.Integer(), primary_key=True), _org(),
        sa.Column('submission_id', sa.Integer(), sa.ForeignKey('supplier_submissions.id'), nullable=False),
        sa.Column('supplier_code', sa.String(64), nullable=False), sa.Column('indicator', sa.String(64), nullable=False),
        sa.Column('value', sa.String(256), nullable=False), sa.Column('unit', sa.String(32), nullable=False),
        sa.Column('evidence_ref', sa.String(256), nullable=True),
        sa.Column('evidence_id', sa.Integer(), sa.ForeignKey('supplier_evidence.id'), nullable=True),
        sa.Column('valid_until', sa.Date(), nullable=True))
    op.create_index('ix_supplier_answers_submission_id', 'supplier_answers', ['submission_id'])
    op.create_table(
        'supplier_projects', sa.Column('id', sa.Integer(), primary_key=True), _org(),
        sa.Column('project_id', sa.String(128), nullable=False), sa.Column('project_key', sa.String(128), nullable=False),
        sa.Column('supplier_code', sa.String(64), nullable=False), sa.Column('description', sa.Text(), nullable=False),
        sa.Column('type', sa.String(32), nullable=False), sa.Column('start_year', sa.Integer(), nullable=False),
        sa.Column('annual_reduction_t', sa.Float(), nullable=False), sa.Column('baseline_t', sa.Float(), nullable=True),
        sa.Column('evidence_ref', sa.String(256), nullable=True),
        sa.Column('evidence_id', sa.Integer(), sa.ForeignKey('supplier_evidence.id'), nullable=True),
        sa.Column('evidence_sha256', sa.String(64), nullable=True), sa.Column('status', sa.String(16), nullable=False),
        _when('submitted_at'), sa.Column('submitted_by', sa.String(128), nullable=False),
        sa.Column('review_comment', sa.Text(), nullable=True), _when('reviewed_at', True),
        sa.Column('reviewed_by', sa.String(128), nullable=True))
    op.create_index('ix_supplier_projects_key', 'supplier_projects', ['organisation_id', 'project_key'])


def downgrade() -> None:
    for table in ('supplier_projects', 'supplier_answers', 'supplier_submissions', 'supplier_evidence',
                  'supplier_requests', 'supplier_campaigns', 'supply_settings', 'suppliers'):
        op.drop_table(table)
    with op.batch_alter_table('memberships') as b:
        b.drop_column('supplier_code')
