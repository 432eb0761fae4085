"""audit trail chained by hash

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 00:00:00

Existing entries are chained in the order they were written (by id), so a database that had an audit log keeps
it and can be verified from now on.
"""
import json
from datetime import datetime

from alembic import op
import sqlalchemy as sa

from zerocarbon.core.audit import GENESIS, entry_hash

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, at, actor, action, entity, organisation_id, detail FROM audit_log "
                                "ORDER BY id")).fetchall()
    prev = GENESIS
    for seq, (id_, at, actor, action, entity, org_id, detail) in enumerate(rows, start=1):
        if isinstance(at, str):  # SQLite hands back its text form
            at = datetime.fromisoformat(at)
        detail = json.loads(detail) if isinstance(detail, str) else (detail or {})
        digest = entry_hash(prev, seq, at, actor, action, entity, org_id, detail)
        conn.execute(sa.text("UPDATE audit_log SET seq = :s, prev_hash = :p, hash = :h WHERE id = :i"),
                     {"s": seq, "p": prev, "h": digest, "i": id_})
        prev = digest
    with op.batch_alter_table('audit_log') as batch:
        batch.alter_column('seq', nullable=False)
        batch.alter_column('prev_hash', nullable=False)
        batch.alter_column('hash', nullable=False)
        batch.create_unique_constraint('uq_audit_log_seq', ['seq'])


def downgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_constraint('uq_audit_log_seq', type_='unique')
        batch.drop_column('hash')
        batch.drop_column('prev_hash')
        batch.drop_column('seq')
