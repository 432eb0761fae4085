import importlib

from alembic import context

from zerocarbon.store.tables import Base

# Registers the users, memberships, tokens and sessions tables on Base (a module of their own).
importlib.import_module("zerocarbon.store.users")

connection = context.config.attributes.get("connection")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
