"""Benchmark: the listing's page statement on PostgreSQL with 1,000,000 minigroups in an audience.

A fresh database (dropped at the end unless --keep) is migrated to head, then seeded with COPY:
`--rows` minigroups in `bench.example.org` (plus 5% as many in another audience), their windows
spread over two years of past and one of future in 15-minute slots (1% with an unbounded start,
0.5% with an unbounded end), 60% of the past ones recorded (two recordings each; the first one
transcoded, adjusted or only finished), scopes `course-<k>-lesson-<n>` over 2,000 courses. The
secondary indexes are dropped for the COPY and rebuilt from their own definitions, then ANALYZE.

Each scenario is a first page and a page deep in the walk: the cursor is the middle row of the
scenario's own rows in schedule order. For each page the statement the adapter sends (captured
from SQLAlchemy) is run under `EXPLAIN (ANALYZE, BUFFERS)` (median execution time of 5), then the
adapter's `list_page` is timed end to end through the store (asyncpg, prepared statements;
median and p95 of 30 after 3 warm-ups). Verdict: every EXPLAIN execution time under 10 ms.
Run from the repository root (PostgreSQL from MINIGROUPS_TEST_POSTGRES_URL, as for the tests):

    uv run python -m benchmarks.listing_scale [--rows 1000000] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from sqlalchemy import event, make_url
from sqlalchemy.engine import Engine
from tests.support.databases import ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL, admin

from minigroups.adapters.db import SqlStore, create_store, migrate_async
from minigroups.domain.listing import ListingFilter, Position, branches
from minigroups.domain.minigroup import Status
from minigroups.ports import PageQuery

AUDIENCE = "bench.example.org"
OTHER = "other.example.org"
BUDGET_MS = 10.0
SLOT = timedelta(minutes=15)
CHUNK = 100_000
CLASS_COLUMNS = [
    "id",
    "audience",
    "scope",
    "time_start",
    "time_end",
    "conference_room_id",
    "event_room_id",
    "created_at",
    "recording_stage",
]
RECORDING_COLUMNS = [
    "id",
    "class_id",
    "rtc_id",
    "created_by",
    "created_at",
    "adjusted_at",
    "transcoded_at",
]


# --- seeding ------------------------------------------------------------------------------------


@dataclass
class Seeder:
    now: datetime
    rng: random.Random = field(default_factory=lambda: random.Random(2027))  # noqa: S311
    recordings: list[tuple[Any, ...]] = field(default_factory=list)

    def window(self) -> tuple[datetime | None, datetime | None]:
        rng = self.rng
        slot = rng.randrange(-730 * 96, 365 * 96)
        start = None if rng.random() < 0.01 else self.now + slot * SLOT
        if rng.random() < 0.005:
            return start, None
        anchor = start or self.now + rng.randrange(-730, 365) * timedelta(days=1)
        return start, anchor + timedelta(minutes=rng.choice([30, 45, 60, 90, 120, 180]))

    def stage(self, end: datetime | None) -> str:
        if end is None or end >= self.now or self.rng.random() >= 0.6:
            return "none"
        return self.rng.choices(["transcoded", "adjusted", "finished"], [70, 15, 15])[0]

    def rows(self, audience: str, count: int, offset: int) -> Iterator[tuple[Any, ...]]:
        for n in range(offset, offset + count):
            start, end = self.window()
            stage = self.stage(end)
            class_id = uuid4()
            scope = f"course-{n % 2000}-lesson-{n}"
            if stage != "none" and end is not None:
                self._record(class_id, end, stage)
            yield (class_id, audience, scope, start, end, uuid4(), uuid4(), self.now, stage)

    def _record(self, class_id: UUID, end: datetime, stage: str) -> None:
        adjusted = end + timedelta(hours=1) if stage in ("adjusted", "transcoded") else None
        transcoded = end + timedelta(hours=2) if stage == "transcoded" else None
        first = (uuid4(), class_id, uuid4(), "web.host.bench", end, adjusted, transcoded)
        second = (uuid4(), class_id, uuid4(), "web.guest.bench", end + SLOT, None, None)
        self.recordings += [first, second]


async def seed(url: str, rows: int, now: datetime) -> dict[str, float]:
    timings: dict[str, float] = {}
    connection = await asyncpg.connect(url)
    try:
        definitions = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('class', 'recording') "
            "AND indexname NOT LIKE 'pk\\_%'"
        )
        for row in definitions:
            await connection.execute(f'DROP INDEX "{row["indexname"]}"')
        await connection.execute("SET session_replication_role = replica")  # no FK triggers
        seeder = Seeder(now)
        started = time.perf_counter()
        for audience, count in ((AUDIENCE, rows), (OTHER, rows // 20)):
            for offset in range(0, count, CHUNK):
                batch = list(seeder.rows(audience, min(CHUNK, count - offset), offset))
                await connection.copy_records_to_table(
                    "class", records=batch, columns=CLASS_COLUMNS
                )
        await connection.copy_records_to_table(
            "recording", records=seeder.recordings, columns=RECORDING_COLUMNS
        )
        timings["copy"] = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute("SET maintenance_work_mem = '256MB'")
        for row in definitions:
            await connection.execute(row["indexdef"])
        timings["indexes"] = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute("ANALYZE")
        timings["analyze"] = time.perf_counter() - started
        timings["recordings"] = len(seeder.recordings)
    finally:
        await connection.close()
    return timings


# --- scenarios ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    listing: ListingFilter
    where: str  # the same rows in plain SQL ($2 is now), to find the middle of the walk
    limit: int = 20


def scenarios(now: datetime) -> list[Scenario]:
    day = timedelta(days=1)
    window_from, window_to = now - 100 * day, now - 93 * day
    return [
        Scenario("no filter", ListingFilter(), "TRUE"),
        Scenario("no filter, limit 100", ListingFilter(), "TRUE", limit=100),
        Scenario(
            "status=transcoded",
            ListingFilter(frozenset({Status.TRANSCODED})),
            "recording_stage = 'transcoded'",
        ),
        Scenario(
            "status=finished",
            ListingFilter(frozenset({Status.FINISHED})),
            "recording_stage = 'finished'",
        ),
        Scenario(
            "status=real-time",
            ListingFilter(frozenset({Status.REAL_TIME})),
            "recording_stage = 'none' AND (time_end IS NULL OR time_end >= $2)",
        ),
        Scenario(
            "status=closed",
            ListingFilter(frozenset({Status.CLOSED})),
            "recording_stage = 'none' AND time_end < $2",
        ),
        Scenario(
            "status=real-time&status=closed",
            ListingFilter(frozenset({Status.REAL_TIME, Status.CLOSED})),
            "recording_stage = 'none'",
        ),
        Scenario(
            "from&to: one week, 100 days ago",
            ListingFilter(from_=window_from, to=window_to),
            f"time_start < '{window_to.isoformat()}' "
            f"AND (time_end IS NULL OR time_end > '{window_from.isoformat()}')",
        ),
        Scenario(
            "from=now (upcoming and running)",
            ListingFilter(from_=now),
            "time_end IS NULL OR time_end > $2",
        ),
        Scenario(
            "scope_prefix=course-42- (0.05%)",
            ListingFilter(scope_prefix="course-42-"),
            "scope LIKE 'course-42-%'",
        ),
        Scenario(
            "scope_prefix=course-4 (5.6%)",
            ListingFilter(scope_prefix="course-4"),
            "scope LIKE 'course-4%'",
        ),
        Scenario(
            "transcoded, last year",
            ListingFilter(frozenset({Status.TRANSCODED}), now - 365 * day, now - 30 * day),
            f"recording_stage = 'transcoded' AND time_start < '{(now - 30 * day).isoformat()}' "
            f"AND (time_end IS NULL OR time_end > '{(now - 365 * day).isoformat()}')",
        ),
        Scenario(
            "real-time, course-42-",
            ListingFilter(frozenset({Status.REAL_TIME}), scope_prefix="course-42-"),
            "recording_stage = 'none' AND (time_end IS NULL OR time_end >= $2) "
            "AND scope LIKE 'course-42-%'",
        ),
        Scenario(
            "transcoded, last year, course-4",
            ListingFilter(
                frozenset({Status.TRANSCODED}), now - 365 * day, now - 30 * day, "course-4"
            ),
            f"recording_stage = 'transcoded' AND time_start < '{(now - 30 * day).isoformat()}' "
            f"AND (time_end IS NULL OR time_end > '{(now - 365 * day).isoformat()}') "
            "AND scope LIKE 'course-4%'",
        ),
    ]


async def middle(connection: asyncpg.Connection, scenario: Scenario, now: datetime) -> Position:
    """The scenario's middle row in schedule order (its bounded starts; unbounded come first)."""
    rows = (
        "FROM class WHERE audience = $1 AND $2::timestamptz IS NOT NULL "
        f"AND time_start IS NOT NULL AND ({scenario.where})"
    )
    half = await connection.fetchval(f"SELECT count(*) / 2 {rows}", AUDIENCE, now)
    row = await connection.fetchrow(
        f"SELECT time_start, id {rows} ORDER BY time_start, id OFFSET $3 LIMIT 1",
        AUDIENCE,
        now,
        half,
    )
    return Position(row["time_start"], row["id"])


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Measured:
    scenario: str
    page: str
    rows: int
    execution_ms: float  # EXPLAIN ANALYZE, median of 5
    planning_ms: float
    query_ms: float  # the prepared statement over asyncpg, median of 30
    query_p95_ms: float
    adapter_ms: float  # `list_page` through the store (SQLAlchemy, row decoding), median of 30
    plan: str

    @property
    def ok(self) -> bool:
        return self.execution_ms < BUDGET_MS and self.query_ms < BUDGET_MS


class Capture:
    """The last statement SQLAlchemy sent, with its parameters, as the driver got them."""

    def __init__(self) -> None:
        self.statement = ""
        self.parameters: Any = ()

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.statement, self.parameters = statement, parameters


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _summary(plan: dict[str, Any]) -> str:
    """The scans of the plan, e.g. `Index Scan class_audience_start x2, Bitmap ... `."""
    scans: dict[str, int] = {}
    for node in _nodes(plan):
        if "Scan" in node["Node Type"]:
            name = f"{node['Node Type']} {node.get('Index Name') or node.get('Relation Name')}"
            scans[name] = scans.get(name, 0) + 1
    return ", ".join(f"{name} x{count}" if count > 1 else name for name, count in scans.items())


async def measure(
    store: SqlStore,
    explainer: asyncpg.Connection,
    capture: Capture,
    query: PageQuery,
    label: tuple[str, str],
) -> Measured:
    async with store.unit_of_work(read_only=True) as uow:
        found = await uow.minigroups.list_page(query)
    statement, parameters = capture.statement, tuple(capture.parameters)
    executions, plannings, plan = [], [], {}
    for _ in range(5):
        document = await explainer.fetchval(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", *parameters
        )
        result = json.loads(document)[0]
        executions.append(result["Execution Time"])
        plannings.append(result["Planning Time"])
        plan = result["Plan"]
    prepared = await explainer.prepare(statement)
    queries = await _timed(lambda: prepared.fetch(*parameters))
    adapter = await _timed(lambda: _list_page(store, query))
    return Measured(
        label[0],
        label[1],
        len(found),
        statistics.median(executions),
        statistics.median(plannings),
        statistics.median(queries),
        queries[int(len(queries) * 0.95) - 1],
        statistics.median(adapter),
        _summary(plan),
    )


async def _list_page(store: SqlStore, query: PageQuery) -> None:
    async with store.unit_of_work(read_only=True) as uow:
        await uow.minigroups.list_page(query)


async def _timed(call: Callable[[], Awaitable[Any]], runs: int = 30) -> list[float]:
    """Milliseconds of `runs` calls after 3 warm-ups, sorted."""
    timings = []
    for run in range(runs + 3):
        started = time.perf_counter()
        await call()
        if run >= 3:
            timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)


async def run(rows: int, keep: bool, reuse: str | None) -> list[Measured]:
    admin_url = os.environ.get(ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL)
    if reuse is not None:  # a database an earlier `--keep` run seeded (its "now" has moved on)
        url = make_url(admin_url).set(database=reuse).render_as_string(False)
        return await _measure_all(url, await _seeded_at(url))
    database = f"minigroups_listing_bench_{secrets.token_hex(4)}"
    url = make_url(admin_url).set(database=database).render_as_string(False)
    await admin(admin_url, f'CREATE DATABASE "{database}"')
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        await migrate_async(url)
        timings = await seed(url, rows, now)
        print(
            f"seeded {rows:,} + {rows // 20:,} minigroups and {int(timings['recordings']):,} "
            f"recordings: COPY {timings['copy']:.1f} s, indexes {timings['indexes']:.1f} s, "
            f"ANALYZE {timings['analyze']:.1f} s",
            flush=True,
        )
        return await _measure_all(url, now)
    finally:
        if keep:
            print(f"kept database {database}")
        else:
            await admin(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def _measure_all(url: str, now: datetime) -> list[Measured]:
    store = create_store(url)
    # As the service's own connections (adapters/db/engine.py): custom plans only.
    explainer = await asyncpg.connect(url, server_settings={"plan_cache_mode": "force_custom_plan"})
    capture = Capture()
    event.listen(Engine, "before_cursor_execute", capture)
    results = []
    print(HEADER, flush=True)
    try:
        for scenario in scenarios(now):
            deep = await middle(explainer, scenario, now)
            for page_name, after in (("first", None), ("deep", deep)):
                query = PageQuery(
                    AUDIENCE,
                    branches(scenario.listing, now),
                    limit=scenario.limit + 1,
                    start_before=scenario.listing.to,
                    scope_prefix=scenario.listing.scope_prefix,
                    after=after,
                )
                label = (scenario.name, page_name)
                measured = await measure(store, explainer, capture, query, label)
                print(_line(measured), flush=True)
                results.append(measured)
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
        await explainer.close()
        await store.close()
    return results


async def _seeded_at(url: str) -> datetime:
    """The "now" of the seeding: every minigroup's `created_at`."""
    connection = await asyncpg.connect(url)
    try:
        moment: datetime = await connection.fetchval("SELECT max(created_at) FROM class")
    finally:
        await connection.close()
    return moment


HEADER = (
    "| scenario | page | rows | EXPLAIN ANALYZE ms | planning ms | query ms (median / p95) "
    "| list_page ms | < 10 ms | scans |\n|---|---|---|---|---|---|---|---|---|"
)


def _line(m: Measured) -> str:
    verdict = "yes" if m.ok else "**no**"
    return (
        f"| {m.scenario} | {m.page} | {m.rows} | {m.execution_ms:.2f} | {m.planning_ms:.2f} "
        f"| {m.query_ms:.2f} / {m.query_p95_ms:.2f} | {m.adapter_ms:.2f} | {verdict} | {m.plan} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--database", help="measure a database a --keep run left, no seeding")
    args = parser.parse_args()
    results = asyncio.run(run(args.rows, args.keep, args.database))
    slow = [m for m in results if not m.ok]
    worst = max(results, key=lambda m: m.execution_ms)
    print(
        f"\nverdict: {'PASS' if not slow else 'FAIL'}: {len(results) - len(slow)} of "
        f"{len(results)} pages under {BUDGET_MS:.0f} ms at the database (EXPLAIN ANALYZE and "
        "the timed query) "
        f"(worst {worst.execution_ms:.2f} ms: {worst.scenario}, {worst.page} page)"
    )


if __name__ == "__main__":
    main()
