"""A create's claim and establish statements (R9, D13), built once, run by the repository in a
unit of work or directly (`creates.py`)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import and_, bindparam, exists, false, or_, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningInsert

from minigroups.adapters.db.tables import MINIGROUP, UtcDateTime, class_, webhook_endpoint
from minigroups.domain.timerange import TimeRange
from minigroups.ports import Dummy, NewMinigroup

_c = class_.c
_DUMMY_COLUMNS = (
    _c.id,
    _c.claim,
    _c.scope,
    _c.audience,
    _c.time_start,
    _c.time_end,
    _c.created_at,
    _c.tags,
    _c.properties,
    _c.reserve,
    _c.preserve_history,
    _c.content_id,
)


def dummy_from_row(row: Any) -> Dummy:
    return Dummy(
        id=row.id,
        claim=row.claim,
        scope=row.scope,
        audience=row.audience,
        time=TimeRange(row.time_start, row.time_end),
        created_at=row.created_at,
        tags=row.tags,
        properties=row.properties,
        reserve=row.reserve,
        preserve_history=row.preserve_history,
        content_id=row.content_id,
    )


_CLAIMED_COLUMNS = (
    "id",
    "kind",
    "audience",
    "scope",
    "time_start",
    "time_end",
    "tags",
    "properties",
    "reserve",
    "preserve_history",
    "established",
    "created_at",
    "claim",
    "claimed_at",
)


@functools.cache
def claim_statement(dialect_name: str) -> ReturningInsert[Any]:
    """INSERT ... ON CONFLICT (audience, scope) DO UPDATE ... WHERE <stale dummy> (D13).

    Built once per dialect with a bound parameter per value (`p_<column>`): a create compiles
    nothing and SQLAlchemy finds the statement in its cache without walking fresh values.
    """
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    statement = insert(class_).values(
        {name: bindparam(f"p_{name}", type_=_c[name].type) for name in _CLAIMED_COLUMNS}
    )
    new = statement.excluded
    taken_over = {
        "kind": new.kind,  # not the old row's kind: the reference's bug HTTP §9.1 item 8
        "time_start": new.time_start,
        "time_end": new.time_end,
        "tags": new.tags,
        "properties": new.properties,
        "reserve": new.reserve,
        "preserve_history": new.preserve_history,
        "claim": new.claim,
        "claimed_at": new.claimed_at,
    }
    stale = or_(_c.claimed_at.is_(None), _c.claimed_at < bindparam("p_stale", type_=UtcDateTime()))
    return statement.on_conflict_do_update(
        index_elements=[_c.audience, _c.scope],
        set_=taken_over,
        where=and_(_c.established == false(), stale),
    ).returning(*_DUMMY_COLUMNS)


ESTABLISH = (
    update(class_)
    .where(_c.id == bindparam("p_id"), _c.claim == bindparam("p_claim"), _c.established == false())
    .values(
        event_room_id=bindparam("p_event_room_id"),
        conference_room_id=bindparam("p_conference_room_id"),
        established=True,
        claim=None,
        claimed_at=None,
    )
    .returning(class_)
)
# A create's establish when no enabled webhook endpoint of the audience exists, so that nothing
# is queued with it: one statement, its look and its write in one snapshot (issue 12; D13).
ESTABLISH_UNOBSERVED = ESTABLISH.where(
    ~exists().where(
        webhook_endpoint.c.audience == _c.audience, webhook_endpoint.c.enabled.is_(true())
    )
)


def claim_values(
    new: NewMinigroup, claim: UUID, *, now: datetime, stale_before: datetime
) -> dict[str, Any]:
    """The parameters of `claim_statement`: a new dummy row of `new`, claimed by `claim`."""
    return {
        "p_id": uuid4(),
        "p_kind": MINIGROUP,
        "p_audience": new.audience,
        "p_scope": new.scope,
        "p_time_start": new.time.start,
        "p_time_end": new.time.end,
        "p_tags": new.tags,
        "p_properties": new.properties,
        "p_reserve": new.reserve,
        "p_preserve_history": True,
        "p_established": False,
        "p_created_at": now,
        "p_claim": claim,
        "p_claimed_at": now,
        "p_stale": stale_before,
    }


def establish_values(dummy: Dummy, event_room_id: UUID, conference_room_id: UUID) -> dict[str, Any]:
    """The parameters of the establish statements."""
    return {
        "p_id": dummy.id,
        "p_claim": dummy.claim,
        "p_event_room_id": event_room_id,
        "p_conference_room_id": conference_room_id,
    }
