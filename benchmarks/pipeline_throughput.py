"""Benchmark: lifecycle events handled per second on PostgreSQL, baseline commit against this code.

Each run starts a throwaway Mosquitto on a free loopback port, a fresh PostgreSQL database, the
simulated platform in a process of its own (`benchmarks/platform_process.py`: the event and
conference simulators, tq over HTTP and the sandbox autopilot, which publishes each lifecycle
event a peer would: close, upload, a conversion per recording, adjust, dump, transcoding; 7
events per minigroup with 2 participants) and one or two real `minigroups serve --config`
processes (upstream = "ulms", different agent labels, one shared subscription group).

The same runs are made with the code of a baseline commit (`--baseline`, default 193989f, the
main of issue 12: its `src` is extracted with `git archive` and run with PYTHONPATH under the same
virtual environment; it migrates its own database) and with this checkout, alternating, so that
the ratios compare figures of one invocation on one loaded machine.

The minigroups are created one after the other over HTTP (spread over the instances; printed in
the format of `create_latency.py`), then all finish at once. Events per second = events handled /
(last `handled_at` - first `received_at`) in the inbox. Run from the repository root (PostgreSQL
from MINIGROUPS_TEST_POSTGRES_URL, as for the tests):

    uv run python -m benchmarks.pipeline_throughput [--minigroups 200] [--rounds 2]

`--timeline` prints, after each run, how long events of each label waited in the inbox and how
many were handled in each quarter second (where the time went when the CPU is not full).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import uvloop
from benchmarks import create_latency
from benchmarks.create_latency import Result, broker_binary
from benchmarks.process_cpu import cpu_seconds
from sqlalchemy import make_url
from tests.api.conftest import _private_key_pem
from tests.integration.pipeline.support import ServiceApi
from tests.integration.ulms.processes import Served, serve, stop, wait_ready, write_config
from tests.support.databases import ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL, admin
from tests.support.mosquitto import Mosquitto

BASELINE = "193989f"  # main when issue 12 was filed
# Failed events come back quickly in a benchmark (a conversion may arrive before its upload).
PIPELINE: dict[str, float] = {"retry_base_seconds": 0.2, "retry_max_seconds": 1, "max_attempts": 50}
# Per minigroup: close, upload, adjust, dump and transcoding, plus a conversion per participant.
EVENTS_PER_MINIGROUP = 5
POLL = 0.1  # seconds between looks at the inbox
TARGET_EVENTS_PER_SECOND = 400.0
TARGET_RATIO = 3.0  # new / baseline, one instance
TARGET_SCALING = 1.7  # two instances / one
PARTS = ("service", "postgres", "platform", "broker")


@dataclass(frozen=True)
class Code:
    """The code a run serves: this checkout (no PYTHONPATH) or an extracted commit's `src`."""

    name: str
    pythonpath: str | None = None

    @property
    def env(self) -> dict[str, str]:
        return {} if self.pythonpath is None else {"PYTHONPATH": self.pythonpath}


@dataclass(frozen=True)
class Plan:
    minigroups: int
    participants: int
    max_seconds: float  # cap on the pipeline part of one run
    concurrency: int | None = None  # `[pipeline] concurrency`; None keeps the default
    profile: Path | None = None  # a directory: py-spy flame graphs of each served process
    profile_format: str = "flamegraph"  # py-spy's --format: flamegraph (SVG) or raw (stacks)
    timeline: bool = False  # print each run's waits by label and events handled over time

    @property
    def events(self) -> int:
        return self.minigroups * (EVENTS_PER_MINIGROUP + self.participants)


@dataclass(frozen=True)
class Throughput:
    code: str
    instances: int
    minigroups: int
    events: int  # handled
    expected: int
    seconds: float  # first received .. last handled
    cpu: Mapping[str, float]  # CPU seconds of each part while the pipeline ran
    attempts: float  # handler runs per handled event

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def cpu_ms_per_event(self, part: str) -> float:
        return 1000 * self.cpu.get(part, 0.0) / self.events if self.events else 0.0


async def run_once(
    directory: Path, admin_url: str, code: Code, instances: int, plan: Plan
) -> tuple[Result, Throughput]:
    """One run: broker, database, platform process, `instances` services; creates, pipeline."""
    broker_dir = directory / "mosquitto"
    broker_dir.mkdir()
    broker = Mosquitto(broker_binary(), broker_dir)
    broker.start()
    database = f"bench_pipeline_{secrets.token_hex(4)}"
    await admin(admin_url, f'CREATE DATABASE "{database}"')
    url = make_url(admin_url).set(database=database).render_as_string(False)
    try:
        async with platform_process(broker) as platform:
            configs = _configs(
                directory, broker, platform.tq, url=url, instances=instances, plan=plan
            )
            await _migrate(next(iter(configs.values())), code)
            served = [serve(config, label, extra_env=code.env) for label, config in configs.items()]
            try:
                await asyncio.gather(*(wait_ready(s) for s in served))
                creates, created = await _create(directory, served, plan.minigroups)
                creates = Result(f"{code.name} {instances}x", creates.latencies, creates.elapsed)
                parts = {
                    "service": [s.process.pid for s in served],
                    "platform": [platform.process.pid],
                    "broker": [broker.pid] if broker.pid else [],
                }
                before = await _cpu(parts, url)
                async with _profiled(served, code, instances, plan):
                    await _finish(platform, created, url, plan)
                after = await _cpu(parts, url)
                events, seconds, attempts = await _span(url)
                if plan.timeline:
                    print(await _timeline(url), flush=True)
                cpu = {part: after[part] - before.get(part, 0.0) for part in after}
                result = Throughput(
                    code.name,
                    instances,
                    plan.minigroups,
                    events,
                    plan.events,
                    seconds,
                    cpu,
                    attempts,
                )
                return creates, result
            finally:
                await asyncio.gather(*(stop(s) for s in served))
    finally:
        broker.stop()
        await admin(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


class Platform:
    """The platform process: `finish` ends lessons; the autopilot then answers the service."""

    def __init__(self, process: asyncio.subprocess.Process, tq: str) -> None:
        self.process = process
        self.tq = tq

    async def finish(self, created: list[dict[str, Any]], participants: int) -> None:
        if self.process.stdin is None or self.process.stdout is None:
            raise RuntimeError("the platform process has no pipes")
        command = {"finish": created, "participants": participants}
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        await self.process.stdin.drain()
        json.loads(await self.process.stdout.readline())


@asynccontextmanager
async def platform_process(broker: Mosquitto) -> AsyncIterator[Platform]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.platform_process",
        "--host",
        broker.host,
        "--port",
        str(broker.port),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        limit=2**24,
    )
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 30) if process.stdout else b""
        if not line:
            raise RuntimeError("the platform process did not start")
        yield Platform(process, json.loads(line)["tq"])
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


def _configs(
    directory: Path, broker: Mosquitto, tq: str, *, url: str, instances: int, plan: Plan
) -> dict[str, Path]:
    secret = directory / "hs256.secret"
    secret.write_text(secrets.token_urlsafe(32))
    key = _private_key_pem(directory / "svc.private.pem")
    labels = ["alpha", "beta", "gamma", "delta"][:instances]
    pipeline = dict(PIPELINE)
    if plan.concurrency is not None:
        pipeline["concurrency"] = plan.concurrency
    return {
        label: write_config(
            directory,
            label,
            broker,
            secret,
            key,
            database_url=url,
            tq_base_url=tq,
            peer_timeout=10,
            pipeline=pipeline,
        )
        for label in labels
    }


async def _migrate(config: Path, code: Code) -> None:
    """`minigroups migrate` of the code under test: the baseline has a schema of its own."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "minigroups",
        "migrate",
        "--config",
        str(config),
        env={**os.environ, **code.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"migrating with {code.name} failed:\n{output.decode()}")


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


async def _finish(platform: Platform, created: list[dict[str, Any]], url: str, plan: Plan) -> None:
    """Every minigroup finishes at once; wait until every event is handled (or the cap)."""
    deadline = time.monotonic() + plan.max_seconds
    await platform.finish(created, plan.participants)
    connection = await asyncpg.connect(url)
    try:
        while time.monotonic() < deadline:
            done = await connection.fetchval("SELECT count(*) FROM inbox WHERE status = 'done'")
            if done >= plan.events:
                return
            await asyncio.sleep(POLL)
    finally:
        await connection.close()


@asynccontextmanager
async def _profiled(
    served: list[Served], code: Code, instances: int, plan: Plan
) -> AsyncIterator[None]:
    """py-spy records each served process while the block runs (its SVG is written on SIGINT)."""
    directory = plan.profile
    if directory is None:
        yield
        return
    suffix = "svg" if plan.profile_format == "flamegraph" else "txt"
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    directory.mkdir(parents=True, exist_ok=True)
    slug = code.name.replace(" ", "-")
    recorders = [
        subprocess.Popen(  # noqa: S603, ASYNC220 - our own tool; started before measuring
            [
                spy,
                "record",
                "--pid",
                str(s.process.pid),
                "--rate",
                "200",
                "--format",
                plan.profile_format,
                "--output",
                str(directory / f"pipeline-{slug}-{instances}x-{s.label}.{suffix}"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for s in served
    ]
    try:
        yield
    finally:
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)
        for recorder in recorders:
            await asyncio.to_thread(recorder.wait, 30)


async def _cpu(parts: Mapping[str, list[int]], url: str) -> dict[str, float]:
    """CPU seconds used so far by each part's processes (Linux's /proc); `postgres` sums the
    backends connected to the run's database now (a backend that went away is not counted)."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    every = {**parts, "postgres": [row["pid"] for row in rows]}
    return {part: sum(cpu_seconds(pid) for pid in pids) for part, pids in every.items()}


async def _span(url: str) -> tuple[int, float, float]:
    """Events handled, first received .. last handled, and attempts per handled event (a
    conversion that arrives before its upload is tried again, for example)."""
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT count(*) AS events, sum(attempts) AS attempts,"
            " extract(epoch FROM max(handled_at) - min(received_at)) AS seconds"
            " FROM inbox WHERE status = 'done'"
        )
    finally:
        await connection.close()
    events = int(row["events"])
    return events, float(row["seconds"] or 0), int(row["attempts"] or 0) / max(events, 1)


async def _timeline(url: str) -> str:
    """Where a run's time went: by label, how long events waited in the inbox (received to
    handled) and when the first came and the last was done; then the events handled in each
    quarter second. A label whose events wait long while the service's CPU is not full points
    at a wait (a peer, a pool, a lease), not at the cost of handling."""
    connection = await asyncpg.connect(url)
    try:
        start = await connection.fetchval("SELECT min(received_at) FROM inbox")
        labels = await connection.fetch(
            "SELECT label, count(*) AS events,"
            " percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP"
            "  (ORDER BY extract(epoch FROM handled_at - received_at)) AS waits,"
            " extract(epoch FROM min(received_at) - $1) AS first,"
            " extract(epoch FROM max(handled_at) - $1) AS last"
            " FROM inbox WHERE status = 'done' GROUP BY label ORDER BY first",
            start,
        )
        quarters = await connection.fetch(
            "SELECT floor(extract(epoch FROM handled_at - $1) * 4)::int AS quarter, count(*)"
            " FROM inbox WHERE status = 'done' GROUP BY 1 ORDER BY 1",
            start,
        )
    finally:
        await connection.close()
    lines = [f"  {'label':<18} {'events':>6} {'wait p50':>9} {'p90 s':>6} {'first':>6} {'last':>6}"]
    lines += [
        f"  {row['label']:<18} {row['events']:>6} {row['waits'][0]:>9.3f} {row['waits'][1]:>6.3f}"
        f" {float(row['first']):>6.2f} {float(row['last']):>6.2f}"
        for row in labels
    ]
    handled = " ".join(f"{row['quarter'] / 4:.2f}:{row['count']}" for row in quarters)
    lines.append(f"  handled per 0.25 s from the first event: {handled}")
    return "\n".join(lines)


def extract(revision: str, into: Path) -> Code:
    """The `src` of `revision`, extracted with `git archive` (the repository is the cwd's)."""
    archive = subprocess.run(  # noqa: S603 - git from the PATH, as a developer runs it
        ["git", "archive", revision, "src"],  # noqa: S607
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)  # noqa: S603,S607
    return Code(f"baseline {revision}", str(into / "src"))


async def run(
    codes: list[Code], instances: list[int], rounds: int, plan: Plan
) -> list[tuple[Result, Throughput]]:
    """Every (instances, code) pair `rounds` times, alternating the codes within a round."""
    admin_url = os.environ.get(ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL)
    results = []
    for _ in range(rounds):
        for n in instances:
            for code in codes:
                with tempfile.TemporaryDirectory(prefix="pipeline-throughput-") as temporary:
                    results.append(await run_once(Path(temporary), admin_url, code, n, plan))
                print(_line(results[-1][1]), flush=True)
    return results


def _line(t: Throughput) -> str:
    partial = "" if t.events == t.expected else f"  (of {t.expected}: cut by --max-seconds)"
    return (
        f"{t.code:<18} {t.instances:>9} {t.minigroups:>10} {t.events:>7} {t.seconds:>8.2f} "
        f"{t.per_second:>9.1f}{partial}"
    )


def report(results: list[tuple[Result, Throughput]], codes: list[Code]) -> str:
    lines = ["HTTP creates (real processes on PostgreSQL, over the broker, one at a time)"]
    lines.append(f"{'run':<24} {'creates':>8} {'median ms':>10} {'p99 ms':>8} {'creates/s':>10}")
    lines += [
        f"{c.name:<24} {len(c.latencies):>8} {c.median_ms:>10.2f} {c.p99_ms:>8.2f} "
        f"{c.per_second:>10.1f}"
        for c, _ in results
    ]
    lines.append("lifecycle events handled (all minigroups finish at once)")
    lines.append(
        f"{'code':<18} {'instances':>9} {'minigroups':>10} {'events':>7} {'seconds':>8} "
        f"{'events/s':>9}"
    )
    lines += [_line(t) for _, t in results]
    lines.append("CPU ms per event while the pipeline ran (postgres: the run's backends)")
    lines.append(
        f"{'code':<18} {'instances':>9} "
        + " ".join(f"{p:>9}" for p in PARTS)
        + f" {'attempts/event':>15}"
    )
    lines += [
        f"{t.code:<18} {t.instances:>9} "
        + " ".join(f"{t.cpu_ms_per_event(p):>9.2f}" for p in PARTS)
        + f" {t.attempts:>15.2f}"
        for _, t in results
    ]
    rates: dict[tuple[str, int], list[float]] = {}
    for _, t in results:
        rates.setdefault((t.code, t.instances), []).append(t.per_second)
    lines.append("medians (range)")
    for (code, n), values in rates.items():
        lines.append(
            f"  {code:<18} {n} instance(s): {statistics.median(values):7.1f} events/s "
            f"({min(values):.1f}-{max(values):.1f})"
        )
    lines += _verdicts(rates, codes)
    return "\n".join(lines)


def _verdicts(rates: Mapping[tuple[str, int], list[float]], codes: list[Code]) -> list[str]:
    new = codes[-1].name
    median = {key: statistics.median(values) for key, values in rates.items()}
    lines = []
    if len(codes) > 1:
        for n in sorted({n for _, n in median}):
            before, after = median.get((codes[0].name, n)), median.get((new, n))
            if before and after:
                lines.append(f"ratio new / {codes[0].name}, {n} instance(s): {after / before:.2f}x")
    one, two = median.get((new, 1)), median.get((new, 2))
    if one is not None:
        base = median.get((codes[0].name, 1)) if len(codes) > 1 else None
        met = one >= TARGET_EVENTS_PER_SECOND and (base is None or one >= TARGET_RATIO * base)
        ratio = f", {one / base:.2f}x the baseline" if base else ""
        lines.append(
            f"target 3 (one instance >= {TARGET_EVENTS_PER_SECOND:.0f} events/s and >= "
            f"{TARGET_RATIO:.0f}x the baseline): {one:.1f} events/s{ratio}: "
            f"{'met' if met else 'NOT met'}"
        )
    if one and two is not None:
        met = two >= TARGET_SCALING * one
        lines.append(
            f"target 3 (two instances >= {TARGET_SCALING}x one): {two / one:.2f}x: "
            f"{'met' if met else 'NOT met'}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minigroups", type=int, default=200, help="minigroups per run")
    parser.add_argument("--participants", type=int, default=2, help="recordings per minigroup")
    parser.add_argument("--instances", default="1,2", help="runs, by instance count")
    parser.add_argument("--rounds", type=int, default=2, help="how often each run is made")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="cap on the pipeline")
    parser.add_argument(
        "--concurrency", type=int, help="[pipeline] concurrency (default: the code's)"
    )
    parser.add_argument("--baseline", default=BASELINE, help="the commit compared against")
    parser.add_argument("--no-baseline", action="store_true", help="this checkout only")
    parser.add_argument("--profile", type=Path, help="a directory for py-spy flame graphs")
    parser.add_argument(
        "--profile-format", default="flamegraph", choices=["flamegraph", "raw"], help="py-spy's"
    )
    parser.add_argument(
        "--timeline", action="store_true", help="each run's inbox waits by label, and over time"
    )
    parser.add_argument(
        "--with-create-latency", action="store_true", help="run create_latency.py first"
    )
    args = parser.parse_args()
    instances = [int(n) for n in args.instances.split(",")]
    if args.with_create_latency:
        print(create_latency.report(uvloop.run(create_latency.run(500, 50, 60.0))))
    plan = Plan(
        args.minigroups,
        args.participants,
        args.max_seconds,
        args.concurrency,
        args.profile,
        args.profile_format,
        args.timeline,
    )
    with tempfile.TemporaryDirectory(prefix="pipeline-baseline-") as baseline:
        codes = [Code("new")]
        if not args.no_baseline:
            codes.insert(0, extract(args.baseline, Path(baseline)))
        results = uvloop.run(run(codes, instances, args.rounds, plan))
    print(report(results, codes))


if __name__ == "__main__":
    main()
