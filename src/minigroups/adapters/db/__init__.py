"""Storage on PostgreSQL or SQLite: the `Store` port over SQLAlchemy Core, and migrations."""

from minigroups.adapters.db.engine import Pools, shown_url
from minigroups.adapters.db.migrate import migrate, migrate_async, schema_differences
from minigroups.adapters.db.store import SqlStore, SqlUnitOfWork, create_store

__all__ = [
    "Pools",
    "SqlStore",
    "SqlUnitOfWork",
    "create_store",
    "migrate",
    "migrate_async",
    "schema_differences",
    "shown_url",
]
