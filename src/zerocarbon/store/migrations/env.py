from alembic import context

from zerocarbon.store import users  # noqa: F401 - registers the users, memberships, tokens and sessions tables
from zerocarbon.store.tables import Base

connection = context.config.attributes.get("connection")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
