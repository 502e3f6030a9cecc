"""Benchmark: `POST /api/v1/minigroups` on PostgreSQL over the broker, one real serving process.

Starts a throwaway Mosquitto on a free loopback port, the event and conference simulators in a
process of their own (`benchmarks/create_peers.py`), and for each round a fresh PostgreSQL
database and one `minigroups serve --config` process (upstream = "ulms", authorization `none`,
a real HS256 token verified on every request). Measures creates one at a time (median, p99,
creates/s) and at `--concurrency` requests in flight (16), and prints a verdict per target of
issue 12 (median <= 5 ms one at a time, >= 400 creates/s at 16).

With `--baseline REF` the same rounds also run the service's code of git revision REF (its `src`
exported with `git archive`, same virtual environment and schema), alternating with the working
tree's, and the ratios are printed. Run from the repository root (PostgreSQL from
MINIGROUPS_TEST_POSTGRES_URL, as for the tests):

    uv run python -m benchmarks.create_throughput [--count 500] [--rounds 2] [--baseline REF]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import uvloop
from benchmarks.create_latency import Result, broker_binary
from benchmarks.process_cpu import cpu_seconds
from sqlalchemy import make_url
from tests.api.conftest import ADMIN, _private_key_pem, bearer_token
from tests.integration.ulms.processes import AUDIENCE, serve, stop, wait_ready, write_config
from tests.integration.ulms.service import CONFERENCE_ACCOUNT, EVENT_ACCOUNT
from tests.support.databases import ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL, admin
from tests.support.mosquitto import Mosquitto

from minigroups.adapters.db import migrate

MEDIAN_TARGET_MS = 5.0
RATE_TARGET = 400.0
CURRENT = "current"


@dataclass(frozen=True)
class Phase(Result):
    """One phase of a round: `Result`'s latencies, plus whose code ran and its CPU."""

    code: str = CURRENT  # or the baseline's revision
    cpu_seconds: float = 0.0  # of the serving process during the phase (user + system)

    @property
    def cpu_ms_per_create(self) -> float:
        return self.cpu_seconds / len(self.latencies) * 1000


@dataclass(frozen=True)
class Plan:
    count: int  # creates one at a time
    concurrent_count: int  # creates at `concurrency` in flight
    concurrency: int
    warmup: int
    rounds: int


class Connection:
    """A minimal HTTP/1.1 keep-alive client for one connection: the benchmark's own cost stays
    small beside the service's on a 2-core machine (httpx costs about as much as the service)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    @classmethod
    async def open(cls, base: str) -> Connection:
        host, port = base.removeprefix("http://").rsplit(":", 1)
        return cls(*await asyncio.open_connection(host, int(port)))

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: minigroups.bench\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self._writer.write(head.encode() + body)
        lines = (await self._reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = next(
            int(line.split(":", 1)[1])
            for line in lines[1:]
            if line.lower().startswith("content-length:")
        )
        return status, await self._reader.readexactly(length)

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()


class Creator:
    """Creates minigroups with unique scopes over `connections` keep-alive connections."""

    def __init__(self, base: str, token: str, prefix: str) -> None:
        self.base, self.token, self.prefix = base, token, prefix
        self._numbers = itertools.count()

    async def one(self, connection: Connection) -> float:
        body = json.dumps({"audience": AUDIENCE, "scope": f"{self.prefix}-{next(self._numbers)}"})
        before = time.perf_counter()
        status, answer = await connection.post("/api/v1/minigroups", body.encode(), self.token)
        took = time.perf_counter() - before
        if status != 201:
            raise RuntimeError(f"create answered {status}: {answer[:300]!r}")
        return took

    async def sequential(self, count: int) -> tuple[list[float], float]:
        connection = await Connection.open(self.base)
        try:
            started = time.perf_counter()
            latencies = [await self.one(connection) for _ in range(count)]
            return latencies, time.perf_counter() - started
        finally:
            await connection.close()

    async def concurrent(self, count: int, concurrency: int) -> tuple[list[float], float]:
        connections = [await Connection.open(self.base) for _ in range(concurrency)]
        latencies: list[float] = []
        left = itertools.count()

        async def worker(connection: Connection) -> None:
            while next(left) < count:
                latencies.append(await self.one(connection))

        try:
            started = time.perf_counter()
            await asyncio.gather(*(worker(c) for c in connections))
            return latencies, time.perf_counter() - started
        finally:
            for connection in connections:
                await connection.close()


@asynccontextmanager
async def peers_process(broker: Mosquitto) -> AsyncIterator[subprocess.Popen[bytes]]:
    """The simulators in a child process; ready once it prints `ready`."""
    command = [sys.executable, "-m", "benchmarks.create_peers", "--port", str(broker.port)]
    command += ["--event", EVENT_ACCOUNT, "--conference", CONFERENCE_ACCOUNT]
    process = subprocess.Popen(  # noqa: ASYNC220, S603 - started once, before anything is measured
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None  # noqa: S101 - piped above
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 30)
        if line.strip() != b"ready":
            raise RuntimeError("the peer simulators did not start")
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 10)


def export_source(revision: str, directory: Path) -> Path:
    """The `src` tree of `revision`, for a baseline served with PYTHONPATH pointing at it."""
    target = directory / f"baseline-{revision}"
    target.mkdir()
    git, tar = shutil.which("git"), shutil.which("tar")
    if git is None or tar is None:
        raise SystemExit("--baseline needs git and tar")
    archive = subprocess.run(  # noqa: S603 - our own command line
        [git, "archive", revision, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run([tar, "-x", "-C", str(target)], input=archive, check=True)  # noqa: S603
    return target / "src"


class Profiler:
    """py-spy recording the serving process while the phases run (SIGINT writes the SVG, or
    collapsed stacks when the file name ends in `.txt`)."""

    def __init__(self, pid: int, output: Path) -> None:
        command = [str(Path(sys.executable).parent / "py-spy"), "record", "-o", str(output)]
        command += ["--pid", str(pid), "--rate", "250", "--nonblocking"]
        command += ["--format", "raw" if output.suffix == ".txt" else "flamegraph"]
        self._process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            stdout=subprocess.DEVNULL,
        )
        time.sleep(1)  # let it attach

    def stop(self) -> None:
        self._process.send_signal(signal.SIGINT)
        self._process.wait(30)


async def one_round(  # noqa: PLR0917 - one round's whole setup
    directory: Path,
    admin_url: str,
    broker: Mosquitto,
    code: str,
    source: Path | None,
    plan: Plan,
    profile: Path | None,
) -> list[Phase]:
    """A fresh database and serving process; warm-up, then creates one at a time, then at once."""
    database = f"bench_create_{secrets.token_hex(4)}"
    await admin(admin_url, f'CREATE DATABASE "{database}"')
    url = make_url(admin_url).set(database=database).render_as_string(False)
    label = f"bench{secrets.token_hex(2)}"
    try:
        await asyncio.to_thread(migrate, url)
        secret = directory / "hs256.secret"
        key = directory / "svc.private.pem"
        config = write_config(directory, label, broker, secret, key, database_url=url)
        served = serve(
            config, label, extra_env={} if source is None else {"PYTHONPATH": str(source)}
        )
        try:
            await wait_ready(served)
            creator = Creator(served.base, bearer_token(secret, ADMIN, AUDIENCE), label)
            await creator.sequential(plan.warmup)
            await creator.concurrent(plan.warmup, plan.concurrency)
            profiler = None if profile is None else Profiler(served.process.pid, profile)
            pid = served.process.pid
            try:
                cpu = cpu_seconds(pid)
                found = await creator.sequential(plan.count)
                sequential = Phase(
                    "sequential", *found, code=code, cpu_seconds=cpu_seconds(pid) - cpu
                )
                cpu = cpu_seconds(pid)
                found = await creator.concurrent(plan.concurrent_count, plan.concurrency)
                name = f"concurrent {plan.concurrency}"
                concurrent = Phase(name, *found, code=code, cpu_seconds=cpu_seconds(pid) - cpu)
            finally:
                if profiler is not None:
                    await asyncio.to_thread(profiler.stop)
            return [sequential, concurrent]
        finally:
            await stop(served)
    finally:
        await admin(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def run(
    plan: Plan, baseline: str | None, profile: Path | None, profile_baseline: Path | None
) -> list[Phase]:
    admin_url = os.environ.get(ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL)
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="create-throughput-") as temporary:
        directory = Path(temporary)
        (directory / "hs256.secret").write_text(secrets.token_urlsafe(32))
        _private_key_pem(directory / "svc.private.pem")
        codes: list[tuple[str, Path | None, Path | None]] = [(CURRENT, None, profile)]
        if baseline is not None:
            codes.insert(0, (baseline, export_source(baseline, directory), profile_baseline))
        broker_dir = directory / "mosquitto"
        broker_dir.mkdir()
        broker = Mosquitto(broker_binary(), broker_dir)
        broker.start()
        try:
            async with peers_process(broker):
                for round_number in range(plan.rounds):
                    for code, source, svg in codes:
                        svg_now = svg if round_number == 0 else None
                        found = await one_round(
                            directory, admin_url, broker, code, source, plan, svg_now
                        )
                        for phase in found:
                            print(_row(phase), flush=True)
                        phases += found
        finally:
            broker.stop()
    return phases


def report(phases: list[Phase], concurrency: int) -> str:
    lines = ["", _header()]
    lines += [_row(p) for p in phases]
    current = [p for p in phases if p.code == CURRENT]
    sequential = [p for p in current if p.name == "sequential"]
    concurrent = [p for p in current if p.name != "sequential"]
    medians = [p.median_ms for p in sequential]
    rates = [p.per_second for p in concurrent]
    median, rate = statistics.median(medians), statistics.median(rates)
    baselines = {p.code for p in phases} - {CURRENT}
    for code in sorted(baselines):
        before_seq = statistics.median(
            [p.median_ms for p in phases if p.code == code and p.name == "sequential"]
        )
        before_rate = statistics.median(
            [p.per_second for p in phases if p.code == code and p.name != "sequential"]
        )
        before_cpu = statistics.median([p.cpu_ms_per_create for p in phases if p.code == code])
        cpu = statistics.median([p.cpu_ms_per_create for p in current])
        lines.append(
            f"against {code}: service CPU per create {before_cpu:.2f} -> {cpu:.2f} ms "
            f"(x{before_cpu / cpu:.2f} less)"
        )
        lines.append(
            f"against {code}: sequential median {before_seq:.2f} -> {median:.2f} ms "
            f"(x{before_seq / median:.2f} faster); concurrent {before_rate:.0f} -> {rate:.0f} "
            f"creates/s (x{rate / before_rate:.2f})"
        )
    lines.append(
        f"target median <= {MEDIAN_TARGET_MS:g} ms one at a time: "
        f"{'met' if median <= MEDIAN_TARGET_MS else 'NOT met'} "
        f"(median of rounds {median:.2f} ms; rounds {_span(medians, '.2f')})"
    )
    lines.append(
        f"target >= {RATE_TARGET:g} creates/s at {concurrency} concurrent: "
        f"{'met' if rate >= RATE_TARGET else 'NOT met'} "
        f"(median of rounds {rate:.0f}/s; rounds {_span(rates, '.0f')})"
    )
    return "\n".join(lines)


def _header() -> str:
    return (
        f"{'code':<10} {'phase':<14} {'creates':>8} {'median ms':>10} {'p99 ms':>8} "
        f"{'creates/s':>10} {'CPU ms/create':>14}"
    )


def _row(p: Phase) -> str:
    return (
        f"{p.code:<10} {p.name:<14} {len(p.latencies):>8} {p.median_ms:>10.2f} "
        f"{p.p99_ms:>8.2f} {p.per_second:>10.1f} {p.cpu_ms_per_create:>14.2f}"
    )


def _span(values: list[float], spec: str) -> str:
    return f"{format(min(values), spec)}-{format(max(values), spec)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="creates one at a time per round")
    parser.add_argument(
        "--concurrent-count", type=int, default=2000, help="creates at --concurrency per round"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured creates first")
    parser.add_argument("--rounds", type=int, default=2, help="rounds (per code)")
    parser.add_argument("--baseline", help="also run git revision REF's service, alternating")
    parser.add_argument("--profile", type=Path, help="py-spy SVG of the first round (current)")
    parser.add_argument("--profile-baseline", type=Path, help="py-spy SVG of the baseline's")
    args = parser.parse_args()
    plan = Plan(args.count, args.concurrent_count, args.concurrency, args.warmup, args.rounds)
    print(_header(), flush=True)
    phases = uvloop.run(run(plan, args.baseline, args.profile, args.profile_baseline))
    print(report(phases, args.concurrency))


if __name__ == "__main__":
    main()
