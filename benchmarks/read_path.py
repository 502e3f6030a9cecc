"""Benchmark: the read path against a bare Starlette + asyncpg route, measured from outside.

Issue 12's read targets, in one invocation. A fresh PostgreSQL database is migrated and seeded
(`listing_scale.seed`: `--minigroups` classes, 60% of the past ones recorded) and copied into a
SQLite file. Then, every server pinned to core 0 and wrk (Debian's package) to core 1, each
server loaded with the others stopped (an idle service still polls its queues):

- `bare`: `benchmarks/bare_read_app.py`, one primary-key select, PostgreSQL serialises the row;
- `minigroups serve` on PostgreSQL with authorization `none`, read by id and by scope;
- the same with authorization `local` (the caller in `trusted`);
- `minigroups serve` on the embedded default (SQLite), read by id.

Each server verifies a real token (HS256, the development token that `serve` prints; the token
cache serves repeats, as it would a client's). The targets run in turns, `--rounds` times, each
for `--seconds` at `--connections`; ratios are taken within a round and the median is reported.
Then p99 at half of the service's measured maximum (wrk's per-connection delay holds the rate),
`--rounds` times in turn with the bare route at the same rate, the median of each reported.

`--scale N` instead compares read p50 at 1,000 and at N minigroups (two databases seeded alike).

    uv run python -m benchmarks.read_path [--minigroups 1000] [--seconds 10] [--rounds 3]
    uv run python -m benchmarks.read_path --scale 1000000
    uv run python -m benchmarks.read_path --profile benchmarks/profiles/read-after.svg
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from benchmarks.create_throughput import export_source
from benchmarks.listing_scale import AUDIENCE, seed
from benchmarks.process_cpu import cpu_seconds
from benchmarks.wrk import Load, run_wrk, wrk_binary
from sqlalchemy import insert, make_url, select
from tests.support.databases import ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL, admin
from tests.support.served import HOST, free_port, serve

from minigroups.adapters.db import migrate
from minigroups.adapters.db.engine import create_engines
from minigroups.adapters.db.tables import class_, recording

SERVER_CORE = 0
LOAD_CORE = 1
DEV_ACCOUNT = "dev.usr.minigroups.local"  # the development token's account
SAMPLE = 1000  # ids read at random per run
HALF_LOAD_CONNECTIONS = 16
SETTLE_SECONDS = 2  # between two runs: the target after the bare route measured lower without


@dataclass
class Server:
    name: str
    base: str
    pid: int
    token: str


@dataclass(frozen=True)
class Run(Load):
    """A measured run, with what it cost the server's process: CPU time per request, which the
    host's stolen time does not inflate as it does the requests per second."""

    cpu_us: float = 0.0


@dataclass(frozen=True)
class Target:
    name: str
    server: Server
    paths: list[str]
    paused: tuple[int, ...] = ()  # the other servers' processes, stopped while this one is loaded


def alone(targets: Sequence[Target]) -> list[Target]:
    """The targets, each measured with every other target's server stopped (`wrk.stopped`): the
    servers share one core, and an idle one's polls would land in the measured one's latency."""
    pids = {target.server.pid for target in targets}
    return [replace(target, paused=tuple(sorted(pids - {target.server.pid}))) for target in targets]


# --- databases ------------------------------------------------------------------------------------


@contextmanager
def postgres_database(admin_url: str, rows: int) -> Iterator[str]:
    """A fresh database seeded with `rows` minigroups; dropped at the end."""
    name = f"bench_read_{secrets.token_hex(4)}"
    asyncio.run(admin(admin_url, f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(False)
    try:
        migrate(url)
        asyncio.run(seed(url, rows, datetime.now(UTC)))
        yield url
    finally:
        asyncio.run(admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def copy_to_sqlite(source_url: str, sqlite_url: str) -> None:
    """The classes and recordings of `source_url` into a migrated SQLite file."""
    source, target = create_engines(source_url), create_engines(sqlite_url)
    try:
        async with source.autocommit.connect() as connection:
            classes = [dict(r._mapping) for r in await connection.execute(select(class_))]
            recordings = [dict(r._mapping) for r in await connection.execute(select(recording))]
        async with target.writer.begin() as connection:
            await connection.execute(insert(class_), classes)
            await connection.execute(insert(recording), recordings)
    finally:
        await source.writer.dispose()
        await target.writer.dispose()


async def sample(url: str, count: int) -> list[tuple[str, str]]:
    """`count` random (id, scope) pairs of the benchmark's audience."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT id, scope FROM class WHERE audience = $1 ORDER BY random() LIMIT $2",
            AUDIENCE,
            count,
        )
    finally:
        await connection.close()
    return [(str(row["id"]), row["scope"]) for row in rows]


# --- servers --------------------------------------------------------------------------------------


@contextmanager
def service(
    directory: Path,
    name: str,
    *,
    database_url: str | None,
    authz: str,
    source: Path | None = None,
    rate_limits: bool = False,
    access: bool = True,
) -> Iterator[Server]:
    """`minigroups serve` on the embedded default, pinned; PostgreSQL when `database_url`; the
    code of `source` (a baseline's `src`) when given."""
    data_dir = directory / name
    data_dir.mkdir(exist_ok=True)
    authz_key = f"APP_AUTHZ__{AUDIENCE}__"
    # The data directory itself (not serve()'s `data` below it): the SQLite copy is there.
    env = {"MINIGROUPS_DATA_DIR": str(data_dir), authz_key + "TYPE": authz}
    if authz == "local":
        env[authz_key + "TRUSTED"] = f'["{DEV_ACCOUNT}"]'
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    if source is not None:
        env["PYTHONPATH"] = str(source)
    if not access:
        env["APP_LOG__ACCESS"] = "false"
    if rate_limits:  # counted in memory, with quotas no run reaches (issue 10: the cost of it)
        env["APP_RATE_LIMITS__PER_ACCOUNT"] = '"1000000/second;100000000/minute"'
        env["APP_RATE_LIMITS__PER_AUDIENCE"] = '"1000000/second"'
    pinned = ("taskset", "-c", str(SERVER_CORE))
    with serve(data_dir, env=env, prefix=pinned, keep_output=False) as served:
        yield Server(name, served.base, served.pid, served.token)


@contextmanager
def bare(database_url: str) -> Iterator[Server]:
    """The bare route under uvicorn (uvloop, httptools), pinned like the service."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [
            *("taskset", "-c", str(SERVER_CORE), sys.executable, "-m", "uvicorn"),
            *("--factory", "benchmarks.bare_read_app:create_app"),
            *("--host", HOST, "--port", str(port), "--no-access-log", "--log-level", "warning"),
            *("--loop", "uvloop", "--http", "httptools"),
        ],
        env={**os.environ, "BARE_DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
    )
    try:
        base = f"http://{HOST}:{port}"
        _wait_bare(base, process)
        yield Server("bare", base, process.pid, "unused")
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_bare(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the bare app exited")
        try:
            httpx.get(f"{base}/minigroups/00000000-0000-0000-0000-000000000000", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return
    raise RuntimeError("the bare app never answered")


# --- runs -----------------------------------------------------------------------------------------


def by_id(ids: list[tuple[str, str]]) -> list[str]:
    return [f"/api/v1/minigroups/{id_}" for id_, _ in ids]


def by_scope(ids: list[tuple[str, str]]) -> list[str]:
    return [f"/api/v1/audiences/{AUDIENCE}/minigroups/{scope}" for _, scope in ids]


def measure(target: Target, args: argparse.Namespace, directory: Path) -> Run:
    cpu = cpu_seconds(target.server.pid)
    load = run_wrk(
        target.server.base,
        target.paths,
        token=target.server.token,
        directory=directory,
        seconds=args.seconds,
        connections=args.connections,
        core=LOAD_CORE,
        paused=target.paused,
    )
    used = cpu_seconds(target.server.pid) - cpu
    run = Run(**vars(load), cpu_us=used / load.requests * 1e6 if load.requests else 0.0)
    print(
        f"  {target.name:<22} {run.per_second:>8.0f} req/s  p50 {run.p50_ms:6.2f} ms  "
        f"p99 {run.p99_ms:7.2f} ms  CPU {run.cpu_us:6.1f} us a read  failures {run.failures}",
        flush=True,
    )
    return run


def rounds(
    targets: list[Target], args: argparse.Namespace, directory: Path
) -> dict[str, list[Run]]:
    """Warm every target up once, then `args.rounds` turns over all of them."""
    for target in targets:
        run_wrk(
            target.server.base,
            target.paths,
            token=target.server.token,
            directory=directory,
            seconds=3,
            connections=args.connections,
            core=LOAD_CORE,
            paused=target.paused,
        )
    results: dict[str, list[Run]] = {target.name: [] for target in targets}
    for turn in range(args.rounds):
        print(f"round {turn + 1} of {args.rounds}", flush=True)
        for target in targets:
            time.sleep(SETTLE_SECONDS)  # the last run's aftermath (PostgreSQL's, the kernel's)
            results[target.name].append(measure(target, args, directory))
    return results


def ratio(results: Mapping[str, Sequence[Load]], name: str, base: str, attribute: str) -> float:
    """The median over rounds of name's figure divided by base's figure in the same round."""
    pairs = zip(results[name], results[base], strict=True)
    return statistics.median(getattr(a, attribute) / getattr(b, attribute) for a, b in pairs)


def verdict(label: str, met: bool, figure: str) -> str:
    return f"target {label}: {'met' if met else 'NOT met'} ({figure})"


def half_load(target: Target, full: float, args: argparse.Namespace, directory: Path) -> Load:
    """p99 with wrk held near half of `full` requests/s by a per-connection delay."""
    rate = full / 2
    delay_ms = max(1, round(HALF_LOAD_CONNECTIONS * 1000 / rate))
    return run_wrk(
        target.server.base,
        target.paths,
        token=target.server.token,
        directory=directory,
        seconds=args.seconds,
        connections=HALF_LOAD_CONNECTIONS,
        core=LOAD_CORE,
        delay_ms=delay_ms,
        paused=target.paused,
    )


def compare(args: argparse.Namespace, admin_url: str, directory: Path) -> list[str]:
    with ExitStack() as stack:
        url = stack.enter_context(postgres_database(admin_url, args.minigroups))
        sqlite_dir = directory / "sqlite"
        sqlite_dir.mkdir()
        sqlite_url = f"sqlite:///{sqlite_dir / 'minigroups.sqlite3'}"
        migrate(sqlite_url)
        asyncio.run(copy_to_sqlite(url, sqlite_url))
        ids = asyncio.run(sample(url, SAMPLE))
        base = stack.enter_context(bare(url))
        source = export_source(args.baseline, directory) if args.baseline else None
        none = stack.enter_context(
            service(directory, "none", database_url=url, authz="none", source=source)
        )
        local = stack.enter_context(
            service(directory, "local", database_url=url, authz="local", source=source)
        )
        limited = stack.enter_context(
            service(directory, "limited", database_url=url, authz="none", rate_limits=True)
        )
        quiet = stack.enter_context(
            service(directory, "quiet", database_url=url, authz="none", access=False)
        )
        embedded = stack.enter_context(
            service(directory, "sqlite", database_url=None, authz="none", source=source)
        )
        bare_paths = [f"/minigroups/{id_}" for id_, _ in ids]
        targets = alone(
            [
                Target("bare PostgreSQL", base, bare_paths),
                Target("none, by id", none, by_id(ids)),
                Target("none, by scope", none, by_scope(ids)),
                Target("local, by id", local, by_id(ids)),
                Target("rate limits, by id", limited, by_id(ids)),
                Target("no access line, by id", quiet, by_id(ids)),
                Target("SQLite, by id", embedded, by_id(ids)),
            ]
        )
        if args.profile:
            profile(targets[1], args, directory)
        results = rounds(targets, args, directory)
        full = statistics.median(x.per_second for x in results["none, by id"])
        # `--rounds` turns, the service and the bare route at the same rate (what this machine
        # gives at that load: a floor); the run with the median p99 of each is reported.
        halves: list[Load] = []
        bare_halves: list[Load] = []
        for _ in range(args.rounds):
            halves.append(half_load(targets[1], full, args, directory))
            bare_halves.append(half_load(targets[0], full, args, directory))
    return report(results, halves, full, bare_halves)


def median_p99(loads: list[Load]) -> Load:
    return sorted(loads, key=lambda load: load.p99_ms)[len(loads) // 2]


def report(
    results: dict[str, list[Run]], halves: list[Load], full: float, bare_halves: list[Load]
) -> list[str]:
    half, bare_half = median_p99(halves), median_p99(bare_halves)
    lines = ["", "median over rounds (ratios within a round):"]
    for name, loads in results.items():
        rps = statistics.median(x.per_second for x in loads)
        p99 = statistics.median(x.p99_ms for x in loads)
        cpu = statistics.median(x.cpu_us for x in loads)
        vs = ratio(results, name, "bare PostgreSQL", "per_second")
        lines.append(
            f"  {name:<22} {rps:>8.0f} req/s  {vs:5.2f}x bare   p99 {p99:7.2f} ms  "
            f"CPU {cpu:6.1f} us a read"
        )
    lines.append(
        f"  half load: {half.per_second:.0f} req/s (of {full:.0f}), p99 {half.p99_ms:.2f} ms; "
        f"the bare route at the same rate ({bare_half.per_second:.0f} req/s): "
        f"p99 {bare_half.p99_ms:.2f} ms"
    )
    failures = sum(x.failures for loads in [*results.values(), halves, bare_halves] for x in loads)
    lines.append(f"  answers not 2xx: {failures}")
    # The bare route's CPU a read over the service's: the requests/s ratio of a server that has
    # its core to itself, as the host's stolen time cannot move it (the verdicts stay on req/s).
    by_cpu = {
        name: ratio(results, "bare PostgreSQL", name, "cpu_us")
        for name in ("none, by id", "local, by id", "SQLite, by id")
    }
    lines.append(
        "  the bare route's CPU a read over the service's: "
        + ", ".join(f"{name} {value:.2f}x" for name, value in by_cpu.items())
    )
    by_id_ratio = ratio(results, "none, by id", "bare PostgreSQL", "per_second")
    local_ratio = ratio(results, "local, by id", "bare PostgreSQL", "per_second")
    p99_ratio = ratio(results, "none, by id", "bare PostgreSQL", "p99_ms")
    scope_ratio = ratio(results, "none, by scope", "none, by id", "per_second")
    sqlite_ratio = ratio(results, "SQLite, by id", "bare PostgreSQL", "per_second")
    limited_ratio = ratio(results, "rate limits, by id", "none, by id", "per_second")
    lines += [
        verdict(
            "read by id >= 0.65x bare",
            min(by_id_ratio, local_ratio) >= 0.65,
            f"none {by_id_ratio:.2f}x, local {local_ratio:.2f}x",
        ),
        verdict("p99 at 32 connections <= 3x bare", p99_ratio <= 3.0, f"{p99_ratio:.2f}x"),
        verdict("p99 at half load <= 5 ms", half.p99_ms <= 5.0, f"{half.p99_ms:.2f} ms"),
        verdict(
            "read by scope within 10% of by id",
            abs(scope_ratio - 1) <= 0.10,
            f"{scope_ratio:.2f}x",
        ),
        verdict(
            "SQLite read by id >= 0.5x bare PostgreSQL", sqlite_ratio >= 0.5, f"{sqlite_ratio:.2f}x"
        ),
        verdict(
            "rate limits (memory) cost < 5% of req/s",
            limited_ratio > 0.95,
            f"{limited_ratio:.2f}x of the same service without",
        ),
        verdict("every answer 2xx", failures == 0, f"{failures} not"),
    ]
    return lines


def scale(args: argparse.Namespace, admin_url: str, directory: Path) -> list[str]:
    """Read p50 by id and by scope at 1,000 and at `args.scale` minigroups: both databases
    seeded alike, both services running, the four targets taking turns."""
    with ExitStack() as stack:
        targets: list[Target] = []
        for rows in (1000, args.scale):
            print(f"seeding {rows} minigroups", flush=True)
            url = stack.enter_context(postgres_database(admin_url, rows))
            ids = asyncio.run(sample(url, SAMPLE))
            server = stack.enter_context(
                service(directory, f"scale{rows}", database_url=url, authz="none")
            )
            targets += [
                Target(f"{rows}, by id", server, by_id(ids)),
                Target(f"{rows}, by scope", server, by_scope(ids)),
            ]
        results = rounds(alone(targets), args, directory)
    lines = [""]
    for kind in ("by id", "by scope"):
        small = statistics.median(x.p50_ms for x in results[f"1000, {kind}"])
        large = statistics.median(x.p50_ms for x in results[f"{args.scale}, {kind}"])
        lines.append(
            verdict(
                f"{kind} p50 at {args.scale} within 1.2x of 1000",
                large <= 1.2 * small,
                f"{large:.2f} ms vs {small:.2f} ms: {large / small:.2f}x",
            )
        )
    return lines


def profile(target: Target, args: argparse.Namespace, directory: Path) -> None:
    """A py-spy flame graph of the service while wrk loads it."""
    kind = "raw" if args.profile.endswith(".txt") else "flamegraph"  # raw: collapsed stacks
    recorder = subprocess.Popen(  # noqa: S603
        [
            *(str(Path(sys.executable).parent / "py-spy"), "record", "--nonblocking"),
            *("--pid", str(target.server.pid), "--duration", str(int(args.seconds))),
            *("--output", args.profile, "--format", kind),
        ]
    )
    measure(target, args, directory)
    recorder.wait(timeout=60)
    print(f"profile written to {args.profile}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minigroups", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--scale", type=int, help="compare p50 at 1,000 and this many instead")
    parser.add_argument("--profile", help="write a py-spy flame graph of a by-id run here")
    parser.add_argument("--baseline", help="serve git revision REF's code instead (for 'before')")
    args = parser.parse_args()
    wrk_binary()
    os.sched_setaffinity(0, {LOAD_CORE})  # draining the services' output: off the servers' core
    admin_url = os.environ.get(ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL)
    with tempfile.TemporaryDirectory(prefix="read-path-") as temporary:
        directory = Path(temporary)
        run = scale if args.scale else compare
        lines = run(args, admin_url, directory)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
