"""What PostgreSQL's plan cache saves on the pipeline's statements (issue 12).

One fresh database with 200 minigroups; a connection per `plan_cache_mode`, in turn, runs the
statements a pipeline handler runs on a class (lock the row, read its live recordings, store the
stage) in a transaction, `--count` times, and the benchmark prints the CPU the connection's
backend used per transaction (from /proc: the server must run on this machine). From the
repository root:

    uv run python -m benchmarks.plan_cache
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import asyncpg
from benchmarks.established import established_classes
from benchmarks.process_cpu import cpu_seconds
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from minigroups.adapters.db import minigroups as class_statements
from minigroups.adapters.db import recordings as recording_statements

CLASSES = 200


async def _run(url: str, ids: list[uuid.UUID], mode: str, count: int) -> tuple[float, float]:
    dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
    lock = class_statements._LOCK.compiled(dialect)
    live = recording_statements._LIVE_RECORDINGS.compiled(dialect)
    stage = recording_statements._SET_STAGE.compiled(dialect)
    connection = await asyncpg.connect(url, server_settings={"plan_cache_mode": mode})
    try:
        pid = await connection.fetchval("SELECT pg_backend_pid()")
        for index in range(CLASSES):  # warm: prepared, and past PostgreSQL's five custom plans
            await connection.fetch(lock.text, *lock.arguments({"p_id": ids[index]}))
        cpu, wall = cpu_seconds(pid), time.perf_counter()
        for index in range(count):
            class_id = ids[index % CLASSES]
            async with connection.transaction():
                await connection.fetch(lock.text, *lock.arguments({"p_id": class_id}))
                await connection.fetch(live.text, *live.arguments({"p_class_id": class_id}))
                values = {"p_class_id": class_id, "p_stage": "finished"}
                await connection.execute(stage.text, *stage.arguments(values))
        return (cpu_seconds(pid) - cpu) / count, (time.perf_counter() - wall) / count
    finally:
        await connection.close()


async def main(count: int, rounds: int) -> None:
    async with established_classes("plans", CLASSES) as (url, ids):
        print(f"{count} transactions (lock, live recordings, stage) per run, {rounds} rounds")
        print(f"{'plan_cache_mode':20} {'PostgreSQL CPU us':>18} {'wall us':>9}")
        for _ in range(rounds):
            for mode in ("force_custom_plan", "auto"):
                cpu, wall = await _run(url, ids, mode, count)
                print(f"{mode:20} {cpu * 1e6:18.0f} {wall * 1e6:9.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000, help="transactions per run")
    parser.add_argument("--rounds", type=int, default=2, help="runs per mode, in turn")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.rounds))
