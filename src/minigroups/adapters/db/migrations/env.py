"""Alembic environment: runs on the connection that `minigroups.adapters.db.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from minigroups.adapters.db.tables import metadata

connection = context.config.attributes.get("connection")
if context.is_offline_mode() or not isinstance(connection, Connection):
    raise RuntimeError("run migrations with `minigroups migrate` (minigroups.adapters.db.migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them; one set of migrations for both
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
