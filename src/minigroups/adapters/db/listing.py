"""The listing's one statement: a page of an audience's minigroups in schedule order.

Each branch of the filter (domain/listing.py `branches`) is walked in parts that an index gives in
order, each part limited to the page; a UNION ALL of the parts is ordered and limited once more.

- No bound on the end: the unbounded starts (`start IS NULL`, by id), then the others (by start,
  id), along `class_audience_start` or, with a stage, `class_audience_stage_start`.
- An end bound `L` (`from`, or `now` for `real-time`): the windows already running at `L` (on
  PostgreSQL found through the GiST index `class_live_window`, a few rows however long the
  history), then those starting at `L` or later, along the same b-tree indexes. So the rows that
  ended before `L` are never walked.

A cursor (`after`) continues each part with a row-value comparison, which the b-tree seeks to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    and_,
    cast,
    literal,
    or_,
    select,
    true,
    tuple_,
    union_all,
)

from minigroups.adapters.db.tables import MINIGROUP, UtcDateTime, class_, live_window, scope_bytes
from minigroups.domain.listing import Branch, EndBound, Position
from minigroups.ports import PageQuery

_c = class_.c


def page_statement(dialect: str, query: PageQuery) -> Select[Any] | None:
    """The statement of one page, or None when no row can follow the cursor."""
    parts = [
        part.limit(query.limit)
        for branch in query.branches
        for part in _parts(dialect, query, branch)
    ]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    page = union_all(*(select(part.subquery()) for part in parts)).subquery("page")
    return (
        select(page).order_by(page.c.time_start.asc().nulls_first(), page.c.id).limit(query.limit)
    )


def _parts(dialect: str, query: PageQuery, branch: Branch) -> list[Select[Any]]:
    common = [_c.audience == query.audience, _c.established == true(), _c.kind == MINIGROUP]
    if branch.stage is not None:
        common.append(_c.recording_stage == branch.stage)
    if branch.end_before is not None:
        common.append(_c.time_end < _at(branch.end_before))
    if query.scope_prefix is not None:
        common.extend(_prefix(dialect, query.scope_prefix))
    after = query.after
    bounded = branch.end_from
    parts: list[Select[Any]] = []
    if bounded is None:
        if after is None or after.start is None:
            parts.append(_unbounded_starts(common, after))
        parts.append(_bounded_starts(common, query, after))
    else:
        if after is None or after.start is None or after.start < bounded.at:
            parts.append(_running_at(dialect, common, query, bounded, after))
        later = _bounded_starts([*common, _ends_after(bounded)], query, after)
        parts.append(later.where(_c.time_start >= _at(bounded.at)))
    return parts


def _unbounded_starts(common: list[ColumnElement[bool]], after: Position | None) -> Select[Any]:
    """Unbounded starts (always before `to`), by id."""
    conditions = [*common, _c.time_start.is_(None)]
    if after is not None:
        conditions.append(_c.id > after.id)
    return select(class_).where(*conditions).order_by(_c.id)


def _bounded_starts(
    common: list[ColumnElement[bool]], query: PageQuery, after: Position | None
) -> Select[Any]:
    """Bounded starts, by (start, id), from the cursor on and before `to`."""
    conditions = [*common, _c.time_start.is_not(None)]
    if query.start_before is not None:
        conditions.append(_c.time_start < _at(query.start_before))
    if after is not None and after.start is not None:
        conditions.append(_beyond(after.start, after))
    return select(class_).where(*conditions).order_by(_c.time_start, _c.id)


def _running_at(
    dialect: str,
    common: list[ColumnElement[bool]],
    query: PageQuery,
    bound: EndBound,
    after: Position | None,
) -> Select[Any]:
    """Windows that started before `bound.at` (or unboundedly) and end after it (or never)."""
    conditions = [
        *common,
        or_(_c.time_start.is_(None), _c.time_start < _at(bound.at)),
        _ends_after(bound),
    ]
    if dialect == "postgresql":  # the GiST index finds a superset; the lines above are exact
        conditions.append(live_window().op("@>")(cast(_at(bound.at), DateTime(timezone=True))))
    if query.start_before is not None:
        conditions.append(or_(_c.time_start.is_(None), _c.time_start < _at(query.start_before)))
    if after is not None:
        conditions.append(_after_mixed(after))
    order = (_c.time_start.asc().nulls_first(), _c.id)
    return select(class_).where(*conditions).order_by(*order)


def _after_mixed(after: Position) -> ColumnElement[bool]:
    """After the cursor, among unbounded and bounded starts together."""
    if after.start is None:
        return or_(and_(_c.time_start.is_(None), _c.id > after.id), _c.time_start.is_not(None))
    return and_(_c.time_start.is_not(None), _beyond(after.start, after))


def _beyond(start: datetime, after: Position) -> ColumnElement[bool]:
    """(start, id) > the cursor's: a row-value comparison the b-tree seeks to."""
    return tuple_(_c.time_start, _c.id) > tuple_(_at(start), literal(after.id))


def _ends_after(bound: EndBound) -> ColumnElement[bool]:
    end = _c.time_end
    beyond = end >= _at(bound.at) if bound.inclusive else end > _at(bound.at)
    return or_(end.is_(None), beyond)


def _prefix(dialect: str, prefix: str) -> list[ColumnElement[bool]]:
    """`scope` starts with `prefix`, as a range in code point order (exact, index-friendly)."""
    scope = scope_bytes() if dialect == "postgresql" else _c.scope  # SQLite compares bytes
    conditions = [scope >= prefix]
    upper = prefix_upper_bound(prefix)
    if upper is not None:
        conditions.append(scope < upper)
    return conditions


def prefix_upper_bound(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix` (None: there is none)."""
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates never occur in stored (UTF-8) text
            code = 0xE000
        if code <= 0x10FFFF:
            return "".join(chars) + chr(code)
    return None


def _at(moment: datetime) -> ColumnElement[Any]:
    return literal(moment, UtcDateTime())
