"""The listing's one statement: a page of an audience's minigroups in schedule order.

Each branch of the filter (domain/listing.py `branches`) is split into parts that an index gives
in order, each limited to the page; a UNION ALL of the parts is ordered and limited once more.
Every part starts after the cursor with a row-value comparison, which the b-tree seeks to. The
statement is built once per shape (dialect, branches, which filters and what kind of cursor) and
kept; the values are bound parameters.

- The unbounded starts, by (start, id): `class_audience_start` or, with a stage,
  `class_audience_stage_start` (equality on `start IS NULL` keeps the index order).
- The bounded starts, by (start, id), along the same indexes. With a bound `L` on the end
  (`from`, or now for `real-time`), only what may still run at `L`:
  - started before `L` with an unbounded end (`class_unbounded_end`, `..._stage`);
  - started before `L`, bounded end after it: running at `L`, found on PostgreSQL through the
    GiST index `class_running` and then sorted (few rows, however long the history);
  - starting at `L` or later.
  So the rows that ended before `L` are never walked.
- With an end before `E` (`closed`: now), the bounded starts before `E`, and the inverted windows
  (a room closed before its start) through `class_inverted`; the future is never walked either.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    Integer,
    Select,
    Text,
    Uuid,
    bindparam,
    cast,
    or_,
    select,
    true,
    tuple_,
    union_all,
)

from minigroups.adapters.db.tables import (
    MINIGROUP,
    UtcDateTime,
    class_,
    running_window,
    scope_bytes,
)
from minigroups.domain.listing import Branch
from minigroups.ports import PageQuery

_c = class_.c
AfterKind = Literal["none", "unbounded", "bounded"]


@dataclass(frozen=True, slots=True)
class _BranchShape:
    stage: bool
    end_from: bool
    inclusive: bool
    end_before: bool


@dataclass(frozen=True, slots=True)
class _Shape:
    """What decides the statement's text; the values are parameters."""

    dialect: str
    branches: tuple[_BranchShape, ...]
    to: bool
    prefix: bool
    prefix_upper: bool
    after: AfterKind


def page_statement(dialect: str, query: PageQuery) -> tuple[Select[Any], dict[str, Any]]:
    """The statement of one page, and its parameters."""
    after: AfterKind = "none"
    params: dict[str, Any] = {"p_audience": query.audience, "p_limit": query.limit}
    if query.after is not None:
        after = "unbounded" if query.after.start is None else "bounded"
        params.update(p_after_start=query.after.start, p_after_id=query.after.id)
    if query.start_before is not None:
        params["p_to"] = query.start_before
    upper = None
    if query.scope_prefix is not None:
        upper = prefix_upper_bound(query.scope_prefix)
        params.update(p_prefix=query.scope_prefix, p_prefix_upper=upper)
    for index, branch in enumerate(query.branches):
        params.update(_branch_params(index, branch))
    shape = _Shape(
        dialect,
        tuple(_branch_shape(branch) for branch in query.branches),
        to=query.start_before is not None,
        prefix=query.scope_prefix is not None,
        prefix_upper=upper is not None,
        after=after,
    )
    return _statement(shape), params


def _branch_shape(branch: Branch) -> _BranchShape:
    bound = branch.end_from
    return _BranchShape(
        stage=branch.stage is not None,
        end_from=bound is not None,
        inclusive=bound is not None and bound.inclusive,
        end_before=branch.end_before is not None,
    )


def _branch_params(index: int, branch: Branch) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if branch.stage is not None:
        params[f"p_stage_{index}"] = branch.stage
    if branch.end_from is not None:
        params[f"p_from_{index}"] = branch.end_from.at
    if branch.end_before is not None:
        params[f"p_before_{index}"] = branch.end_before
    return params


@functools.lru_cache(maxsize=512)
def _statement(shape: _Shape) -> Select[Any]:
    limit = bindparam("p_limit", type_=Integer())
    parts = [
        part.limit(limit)
        for index, branch in enumerate(shape.branches)
        for part in _parts(shape, index, branch)
    ]
    if len(parts) == 1:
        return parts[0]
    page = union_all(*(select(part.subquery()) for part in parts)).subquery("page")
    return select(page).order_by(page.c.time_start.asc().nulls_first(), page.c.id).limit(limit)


def _parts(shape: _Shape, index: int, branch: _BranchShape) -> list[Select[Any]]:
    common = [_c.audience == _text("p_audience"), _c.established == true()]
    common.append(_c.kind == MINIGROUP)
    if branch.stage:
        common.append(_c.recording_stage == _text(f"p_stage_{index}"))
    if shape.prefix:
        scope = scope_bytes() if shape.dialect == "postgresql" else _c.scope  # SQLite: bytes
        common.append(scope >= _text("p_prefix"))
        if shape.prefix_upper:
            common.append(scope < _text("p_prefix_upper"))
    parts: list[Select[Any]] = []
    if shape.after != "bounded":
        unbounded = [*common, _c.time_start.is_(None), *_end_conditions(index, branch)]
        if shape.after == "unbounded":
            unbounded.append(_c.id > bindparam("p_after_id", type_=Uuid()))
        parts.append(_in_order(unbounded))
    bounded = [*common, _c.time_start.is_not(None)]
    if shape.to:
        bounded.append(_c.time_start < _at("p_to"))
    if shape.after == "bounded":
        cursor = tuple_(_at("p_after_start"), bindparam("p_after_id", type_=Uuid()))
        bounded.append(tuple_(_c.time_start, _c.id) > cursor)
    for conditions, fenced in _spans(shape.dialect, index, branch):
        parts.append((_fenced if fenced else _in_order)([*bounded, *conditions]))
    return parts


Conditions = list[ColumnElement[bool]]


def _spans(dialect: str, index: int, branch: _BranchShape) -> list[tuple[Conditions, bool]]:
    """The bounded starts of a branch in parts that an index walks cheaply (`True`: fetched
    whole, then sorted, since it is small and no index gives it in order)."""
    if not branch.end_from:
        return [(span, False) for span in _closing([], index, branch)]
    at = _at(f"p_from_{index}")
    spans: list[tuple[Conditions, bool]] = []
    if not branch.end_before:  # started before the bound and never ends: `class_unbounded_end`
        spans.append(([_c.time_start < at, _c.time_end.is_(None)], False))
    running = [_c.time_start < at, _c.time_start <= _c.time_end, _past(index, branch)]
    if dialect == "postgresql":
        running.append(_c.id.in_(_running_at(at)))
    if branch.end_before:
        running.append(_c.time_end < _at(f"p_before_{index}"))
    spans.append((running, True))
    later = [_c.time_start >= at, or_(_c.time_end.is_(None), _past(index, branch))]
    spans += [(span, False) for span in _closing(later, index, branch)]
    return spans


def _running_at(moment: ColumnElement[Any]) -> Select[Any]:
    """The ids of the bounded windows containing `moment`, through the GiST index
    `class_running` alone: the OFFSET 0 fence keeps the planner from combining it with another
    index of the other conditions (bitmaps of tens of thousands of rows for a few matches)."""
    window = class_.alias("running")
    contains = running_window(window).op("@>")(cast(moment, DateTime(timezone=True)))
    return select(window.c.id).where(contains, window.c.time_start <= window.c.time_end).offset(0)


def _closing(span: Conditions, index: int, branch: _BranchShape) -> list[Conditions]:
    """With an end before `E`: starts before it, and the inverted windows (a room closed
    before its start) after it, along `class_inverted`; otherwise the span as it is."""
    if not branch.end_before:
        return [span]
    at = _at(f"p_before_{index}")
    ended = _c.time_end < at
    return [
        [*span, _c.time_start < at, ended],
        [*span, _c.time_start >= at, _c.time_end < _c.time_start, ended],
    ]


def _in_order(conditions: Conditions) -> Select[Any]:
    # (start, id) even where every start is NULL: then the b-tree's order is the wanted one.
    return select(class_).where(*conditions).order_by(_c.time_start, _c.id)


def _fenced(conditions: Conditions) -> Select[Any]:
    """All matching rows, then sorted: OFFSET 0 keeps PostgreSQL from walking an index in
    order in the hope of meeting them early (they are few, and scattered)."""
    rows = select(class_).where(*conditions).offset(0).subquery()
    return select(rows).order_by(rows.c.time_start, rows.c.id)


def _end_conditions(index: int, branch: _BranchShape) -> Conditions:
    conditions: Conditions = []
    if branch.end_from:
        conditions.append(or_(_c.time_end.is_(None), _past(index, branch)))
    if branch.end_before:
        conditions.append(_c.time_end < _at(f"p_before_{index}"))
    return conditions


def _past(index: int, branch: _BranchShape) -> ColumnElement[bool]:
    """The (bounded) end lies after the bound, or at it when the bound is inclusive."""
    at = _at(f"p_from_{index}")
    return _c.time_end >= at if branch.inclusive else _c.time_end > at


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


def _at(name: str) -> BindParameter[Any]:
    return bindparam(name, type_=UtcDateTime())


def _text(name: str) -> BindParameter[Any]:
    return bindparam(name, type_=Text())
