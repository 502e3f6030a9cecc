"""The dialect's INSERT construct, which knows ON CONFLICT, for the database at hand."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_into(dialect_name: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
