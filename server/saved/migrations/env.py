"""Alembic's environment: migrations run on the connection `backprop_lab.server.saved.run_store` hands over (never
on a URL read from a file), inside the transaction that connection holds."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
