"""The listing: each class's recording stage, backfilled, and the indexes of a schedule walk.

Revision ID: 0005_listing
Revises: 0004_idempotency
Create Date: 2027-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_listing"
down_revision: str | Sequence[str] | None = "0004_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rule of domain/minigroup.py `recorded_status`, once, for the rows stored before this
# revision: the first live recording by (created_at, id) (D4) decides; none at all is 'none'.
BACKFILL = """
UPDATE "class" SET recording_stage = (
    SELECT CASE
        WHEN r.transcoded_at IS NOT NULL THEN 'transcoded'
        WHEN r.adjusted_at IS NOT NULL THEN 'adjusted'
        ELSE 'finished'
    END
    FROM recording AS r
    WHERE r.class_id = "class".id AND r.deleted_at IS NULL
    ORDER BY r.created_at, r.id
    LIMIT 1
)
WHERE EXISTS (
    SELECT 1 FROM recording AS r WHERE r.class_id = "class".id AND r.deleted_at IS NULL
)
"""

# PostgreSQL only (tables.py `running_window` and `scope_bytes`): bounded windows running at an
# instant, and scope prefixes as ranges whatever the database's collation.
RUNNING = (
    'CREATE INDEX class_running ON "class" USING gist '
    "(tstzrange(time_start, time_end, '[]')) WHERE time_start <= time_end"
)
SCOPE_C = 'CREATE INDEX class_audience_scope_c ON "class" (audience, scope COLLATE "C")'


def upgrade() -> None:
    # NOT NULL with a constant default: no table rewrite on PostgreSQL 11+, plain on SQLite.
    op.add_column(
        "class",
        sa.Column("recording_stage", sa.Text(), server_default=sa.text("'none'"), nullable=False),
    )
    op.execute(BACKFILL)
    op.create_index("class_audience_start", "class", ["audience", "time_start", "id"])
    op.create_index(
        "class_audience_stage_start", "class", ["audience", "recording_stage", "time_start", "id"]
    )
    for name, columns, where in (
        ("class_unbounded_end", ["audience", "time_start", "id"], "time_end IS NULL"),
        (
            "class_unbounded_end_stage",
            ["audience", "recording_stage", "time_start", "id"],
            "time_end IS NULL",
        ),
        ("class_inverted", ["audience", "time_start", "id"], "time_end < time_start"),
    ):
        op.create_index(
            name, "class", columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where)
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RUNNING)
        op.execute(SCOPE_C)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("class_audience_scope_c", table_name="class")
        op.drop_index("class_running", table_name="class")
    op.drop_index("class_inverted", table_name="class")
    op.drop_index("class_unbounded_end_stage", table_name="class")
    op.drop_index("class_unbounded_end", table_name="class")
    op.drop_index("class_audience_stage_start", table_name="class")
    op.drop_index("class_audience_start", table_name="class")
    with op.batch_alter_table("class") as batch:
        batch.drop_column("recording_stage")
