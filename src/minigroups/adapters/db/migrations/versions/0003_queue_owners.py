"""Claims of the inbox and the outbox record their owner: the instance and its incarnation.

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("inbox", "outbox")


def upgrade() -> None:
    # Nullable columns without a default: a plain ADD COLUMN on both databases, no table rewrite.
    for table in TABLES:
        op.add_column(table, sa.Column("owner", sa.Text(), nullable=True))
        op.add_column(table, sa.Column("incarnation", sa.Uuid(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("incarnation")
            batch.drop_column("owner")
