"""R1/R3's data in one statement: the minigroup, its live recordings and the reader's viewer data.

One row per live recording (D4 order), or one row with NULL recording columns when there is none;
the reader's account properties and saved position ride along as scalar subqueries. A read used
to take three round trips (class, recordings, viewer); issue 12 measured them as the largest cost
of the read path after the event loop.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, bindparam, select, true
from sqlalchemy.sql import Select

from minigroups.adapters.db.rows import minigroup_from_row, recording_from_row
from minigroups.adapters.db.tables import MINIGROUP, account, class_, record_timestamp, recording
from minigroups.ports import MinigroupRead, Viewer

RECORDING_PREFIX = "r_"
_c, _r = class_.c, recording.c
_VIEWER_PROPERTIES = (
    select(account.c.properties)
    .where(account.c.id == bindparam("p_viewer"))
    .scalar_subquery()
    .label("viewer_properties")
)
_VIEWER_POSITION = (
    select(record_timestamp.c.position_secs)
    .where(
        record_timestamp.c.class_id == _c.id,
        record_timestamp.c.account_id == bindparam("p_viewer"),
    )
    .scalar_subquery()
    .label("viewer_position")
)


def _read(*where: Any) -> Select[Any]:
    recordings = [column.label(RECORDING_PREFIX + column.name) for column in recording.c]
    return (
        select(class_, _VIEWER_PROPERTIES, _VIEWER_POSITION, *recordings)
        .select_from(
            class_.outerjoin(recording, and_(_r.class_id == _c.id, _r.deleted_at.is_(None)))
        )
        .where(*where, _c.established == true())
        .order_by(_r.created_at, _r.id)
    )


_IS_MINIGROUP = _c.kind == MINIGROUP
READ_BY_ID = _read(_c.id == bindparam("p_id"), _IS_MINIGROUP)
READ_BY_ID_ANY_KIND = _read(_c.id == bindparam("p_id"))
READ_BY_SCOPE = _read(
    _c.audience == bindparam("p_audience"), _c.scope == bindparam("p_scope"), _IS_MINIGROUP
)


# The recording's columns close each row (`_read`), in the table's order: taken by position as a
# row of their own, read by `recording_from_row` under their own names (issue 12: a proxy that
# renamed each attribute cost a third of the mapping).
_RecordingRow = namedtuple("_RecordingRow", [column.name for column in recording.c])  # type: ignore[misc]
_RECORDING_COLUMNS = len(recording.c)


def read_from_rows(rows: Sequence[Any]) -> MinigroupRead | None:
    """The read from its rows: sequences in the statement's column order, the columns also as
    attributes (SQLAlchemy's rows, the readers' named tuples)."""
    if not rows:
        return None
    first = rows[0]
    recordings = [
        recording_from_row(_RecordingRow._make(row[-_RECORDING_COLUMNS:]))
        for row in rows
        if row.r_id is not None
    ]
    return MinigroupRead(
        minigroup=minigroup_from_row(first),
        recordings=recordings,
        viewer=Viewer(properties=first.viewer_properties, position=first.viewer_position),
    )
