"""instants of users, memberships, API tokens, login sessions and failed logins are time-zone aware

On PostgreSQL their columns become ``timestamp with time zone``, the stored values read as UTC (what the
application always wrote). SQLite keeps the UTC text it holds; the store reads it back as UTC, so a login
session or token written before this revision keeps working and expires at the same instant.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 03:00:00
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# table -> its columns holding an instant (naive UTC before this revision)
INSTANTS = {"users": ["created_at"], "memberships": ["created_at"],
            "api_tokens": ["created_at", "last_used_at", "revoked_at"],
            "login_sessions": ["created_at", "expires_at"], "login_failures": ["at"]}


def _convert(to: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in INSTANTS.items():
        for c in columns:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN "{c}" TYPE TIMESTAMP {to} TIME ZONE '
                       f'USING "{c}" AT TIME ZONE \'UTC\'')


def upgrade() -> None:
    _convert("WITH")


def downgrade() -> None:
    _convert("WITHOUT")
