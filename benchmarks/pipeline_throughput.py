"""Benchmark: lifecycle events handled per second on PostgreSQL, with one and with two instances.

Each run starts a throwaway Mosquitto on a free loopback port, a fresh PostgreSQL database, and
one or two real `minigroups serve --config` processes (upstream = "ulms", different agent labels,
one shared subscription group). The platform is simulated in this process, on the broker: the
event and conference simulators, tq over HTTP and the sandbox autopilot, which publishes each
lifecycle event a peer would (close, upload, a conversion per recording, adjust, dump,
transcoding: 7 events per minigroup with 2 participants).

The minigroups are created one after the other over HTTP (spread over the instances; these
creates are printed in the format of `create_latency.py`), then all finish at once. Events per
second = events handled / (last `handled_at` - first `received_at`) in the inbox. Run from the
repository root (PostgreSQL from MINIGROUPS_TEST_POSTGRES_URL, as for the tests):

    uv run python -m benchmarks.pipeline_throughput [--minigroups 100] [--max-seconds 120]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from benchmarks import create_latency
from benchmarks.create_latency import Result, broker_binary
from sqlalchemy import make_url
from tests.api.conftest import _private_key_pem
from tests.integration.pipeline.support import Platform, ServiceApi, running_platform
from tests.integration.ulms.processes import Served, serve, stop, wait_ready, write_config
from tests.support.databases import ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL
from tests.support.mosquitto import Mosquitto

from minigroups.adapters.db import migrate

PIPELINE: dict[str, float] = {"retry_base_seconds": 0.2, "retry_max_seconds": 1, "max_attempts": 50}
# Per minigroup: close, upload, adjust, dump and transcoding, plus a conversion per participant.
EVENTS_PER_MINIGROUP = 5
POLL = 0.2  # seconds between looks at the inbox
T = TypeVar("T")


@dataclass(frozen=True)
class Plan:
    minigroups: int
    participants: int
    max_seconds: float  # cap on the pipeline part of one run
    concurrency: int | None = None  # `[pipeline] concurrency`; None keeps the default (8)

    @property
    def events(self) -> int:
        return self.minigroups * (EVENTS_PER_MINIGROUP + self.participants)


@dataclass(frozen=True)
class Throughput:
    instances: int
    minigroups: int
    events: int  # handled
    expected: int
    seconds: float  # first received .. last handled

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def run_once(
    directory: Path, admin_url: str, instances: int, plan: Plan
) -> tuple[Result, Throughput]:
    """One run: broker, database, `instances` processes; creates, then the pipeline."""
    broker_dir = directory / "mosquitto"
    broker_dir.mkdir()
    broker = Mosquitto(broker_binary(), broker_dir)
    broker.start()
    database = f"bench_pipeline_{secrets.token_hex(4)}"
    await _admin(admin_url, f'CREATE DATABASE "{database}"')
    url = make_url(admin_url).set(database=database).render_as_string(False)
    try:
        await asyncio.to_thread(migrate, url)
        async with running_platform(broker) as platform:
            served = _serve(directory, broker, platform, url=url, instances=instances, plan=plan)
            try:
                await asyncio.gather(*(wait_ready(s) for s in served))
                creates, created = await _create(directory, served, plan.minigroups)
                return creates, await _finish(platform, created, url, plan, instances)
            finally:
                await asyncio.gather(*(stop(s) for s in served))
    finally:
        broker.stop()
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _serve(
    directory: Path, broker: Mosquitto, platform: Platform, *, url: str, instances: int, plan: Plan
) -> list[Served]:
    secret = directory / "hs256.secret"
    secret.write_text(secrets.token_urlsafe(32))
    key = _private_key_pem(directory / "svc.private.pem")
    labels = ["alpha", "beta", "gamma", "delta"][:instances]
    pipeline = dict(PIPELINE)
    if plan.concurrency is not None:
        pipeline["concurrency"] = plan.concurrency
    configs = [
        write_config(
            directory,
            label,
            broker,
            secret,
            key,
            database_url=url,
            tq_base_url=platform.tq.base_url,
            peer_timeout=10,
            pipeline=pipeline,
        )
        for label in labels
    ]
    return [serve(config, label) for config, label in zip(configs, labels, strict=True)]


async def _create(
    directory: Path, served: list[Served], count: int
) -> tuple[Result, list[dict[str, Any]]]:
    """`count` creates over HTTP, one at a time, taking turns among the instances."""
    apis = [ServiceApi(s, directory / "hs256.secret") for s in served]
    created: list[dict[str, Any]] = []
    latencies: list[float] = []
    try:
        started = time.perf_counter()
        for n in range(count):
            before = time.perf_counter()
            created.append(await apis[n % len(apis)].create(f"bench-{n}"))
            latencies.append(time.perf_counter() - before)
        elapsed = time.perf_counter() - started
    finally:
        for api in apis:
            await api.aclose()
    return Result(f"{len(served)} x PG", latencies, elapsed), created


async def _finish(
    platform: Platform, created: list[dict[str, Any]], url: str, plan: Plan, instances: int
) -> Throughput:
    """Every minigroup finishes at once; wait until every event is handled (or the cap)."""
    async with platform.autopiloting(pace=0.01):
        for item in created:
            await platform.finish(item, plan.participants)
        for _ in range(int(plan.max_seconds / POLL)):
            if await _handled(url) >= plan.events:
                break
            await asyncio.sleep(POLL)
    events, seconds = await _span(url)
    return Throughput(instances, plan.minigroups, events, plan.events, seconds)


async def _handled(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        done: int = await connection.fetchval("SELECT count(*) FROM inbox WHERE status = 'done'")
        return done
    finally:
        await connection.close()


async def _span(url: str) -> tuple[int, float]:
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT count(*) AS events,"
            " extract(epoch FROM max(handled_at) - min(received_at)) AS seconds"
            " FROM inbox WHERE status = 'done'"
        )
    finally:
        await connection.close()
    return int(row["events"]), float(row["seconds"] or 0)


async def _admin(admin_url: str, statement: str) -> None:
    connection = await asyncpg.connect(admin_url, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def run(instances: list[int], plan: Plan) -> list[tuple[Result, Throughput]]:
    admin_url = os.environ.get(ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL)
    results = []
    for n in instances:
        with tempfile.TemporaryDirectory(prefix="pipeline-throughput-") as temporary:
            results.append(await run_once(Path(temporary), admin_url, n, plan))
    return results


def report(results: list[tuple[Result, Throughput]]) -> str:
    lines = ["HTTP creates (real processes on PostgreSQL, over the broker, one at a time)"]
    lines.append(f"{'path':<8} {'creates':>8} {'median ms':>10} {'p99 ms':>8} {'creates/s':>10}")
    lines += [
        f"{c.name:<8} {len(c.latencies):>8} {c.median_ms:>10.2f} {c.p99_ms:>8.2f} "
        f"{c.per_second:>10.1f}"
        for c, _ in results
    ]
    lines.append("lifecycle events handled (all minigroups finish at once)")
    lines.append(
        f"{'instances':<9} {'minigroups':>10} {'events':>7} {'seconds':>8} {'events/s':>9}"
    )
    for _, t in results:
        partial = "" if t.events == t.expected else f"  (of {t.expected}: cut by --max-seconds)"
        lines.append(
            f"{t.instances:<9} {t.minigroups:>10} {t.events:>7} {t.seconds:>8.2f} "
            f"{t.per_second:>9.1f}{partial}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minigroups", type=int, default=100, help="minigroups per run")
    parser.add_argument("--participants", type=int, default=2, help="recordings per minigroup")
    parser.add_argument("--instances", default="1,2", help="runs, by instance count")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="cap on the pipeline")
    parser.add_argument("--concurrency", type=int, help="[pipeline] concurrency (default 8)")
    parser.add_argument(
        "--with-create-latency", action="store_true", help="run create_latency.py first"
    )
    parser.add_argument("--asyncio", action="store_true", help="the stdlib loop, not uvloop")
    args = parser.parse_args()
    instances = [int(n) for n in args.instances.split(",")]
    if args.with_create_latency:
        print(create_latency.report(_loop(args.asyncio)(create_latency.run(500, 50, 60.0))))
    plan = Plan(args.minigroups, args.participants, args.max_seconds, args.concurrency)
    work = run(instances, plan)
    print(report(_loop(args.asyncio)(work)))


def _loop(stdlib: bool) -> Callable[[Coroutine[Any, Any, T]], T]:
    if stdlib:
        return asyncio.run
    import uvloop

    return uvloop.run


if __name__ == "__main__":
    main()
