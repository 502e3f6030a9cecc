"""PostgreSQL can answer each listing statement from indexes, never by reading the whole table.

A few hundred rows are too few for the planner to prefer an index on its own, so the plans are
taken with `enable_seqscan = off`: a Seq Scan on `class` would then only remain if no index could
serve the statement (a wrapped column, a missing index). The scale itself is measured by
`benchmarks/listing_scale.py` (1,000,000 rows).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Engine

from minigroups.adapters.db import SqlStore, create_store, schema_differences
from minigroups.adapters.db.tables import class_
from minigroups.domain.listing import ListingFilter, Position, branches
from minigroups.domain.minigroup import Status
from minigroups.ports import PageQuery
from tests.integration.db.helpers import execute

pytestmark = pytest.mark.postgres
AUDIENCE = "usr.example.org"
NOW = datetime(2030, 6, 1, tzinfo=UTC)
STAGES = ["none", "none", "finished", "adjusted", "transcoded"]


@pytest.fixture
async def seeded(postgres_url: str) -> AsyncIterator[SqlStore]:
    rows = []
    for index in range(400):
        start = NOW + timedelta(days=index - 300) if index % 40 else None
        rows.append(
            {
                "id": uuid4(),
                "audience": AUDIENCE if index % 4 else "other.example.org",
                "scope": f"course-{index % 7}-lesson-{index}",
                "time_start": start,
                "time_end": None if index % 50 == 0 else (start or NOW) + timedelta(hours=1),
                "conference_room_id": uuid4(),
                "event_room_id": uuid4(),
                "created_at": NOW,
                "recording_stage": STAGES[index % 5],
            }
        )
    await execute(postgres_url, insert(class_).values(rows))
    await execute(postgres_url, text("ANALYZE class"))
    store = create_store(postgres_url)
    yield store
    await store.close()


@pytest.fixture
def captured() -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", capture)
    yield seen
    event.remove(Engine, "before_cursor_execute", capture)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _plan(store: SqlStore, statement: str, parameters: Any) -> list[dict[str, Any]]:
    async with store.unit_of_work() as uow:  # a transaction: SET LOCAL ends with it
        connection = uow._connection
        assert connection is not None
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        result = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        document = result.scalar_one()
    plan = json.loads(document) if isinstance(document, str) else document
    return list(_nodes(plan[0]["Plan"]))


CASES: list[tuple[ListingFilter, str]] = [
    (ListingFilter(), "class_audience_start"),
    (ListingFilter(frozenset({Status.TRANSCODED})), "class_audience_stage_start"),
    (ListingFilter(frozenset({Status.REAL_TIME})), "class_running"),
    (ListingFilter(frozenset({Status.CLOSED, Status.FINISHED})), "class_audience_stage_start"),
    (ListingFilter(from_=NOW, to=NOW + timedelta(days=30)), "class_running"),
    (ListingFilter(scope_prefix="course-3-"), ""),
    (ListingFilter(frozenset({Status.REAL_TIME}), from_=NOW, scope_prefix="course-"), ""),
]


async def test_no_listing_statement_needs_a_seq_scan_of_class(
    seeded: SqlStore, captured: list[tuple[str, Any]]
) -> None:
    for (listing, index), deep in itertools.product(CASES, (False, True)):
        after = Position(NOW - timedelta(days=20), uuid4()) if deep else None
        query = PageQuery(
            AUDIENCE,
            branches(listing, NOW),
            limit=21,
            start_before=listing.to,
            scope_prefix=listing.scope_prefix,
            after=after,
        )
        async with seeded.unit_of_work(read_only=True) as uow:
            found = await uow.minigroups.list_page(query)
        assert found, (listing, deep)
        statement, parameters = captured[-1]
        nodes = await _plan(seeded, statement, parameters)
        scans = [(node["Node Type"], node.get("Index Name")) for node in nodes]
        assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], (listing, deep, scans)
        if index:
            assert index in {name for _, name in scans}, (listing, deep, scans)


async def test_a_missing_postgresql_only_index_is_drift(postgres_url: str) -> None:
    await execute(postgres_url, text("DROP INDEX class_running"))
    differences = await schema_differences(postgres_url)
    assert [(kind, index.name) for kind, index in differences] == [("add_index", "class_running")]
