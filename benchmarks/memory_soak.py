"""Benchmark: the memory of one serving process over 1,000,000 reads and 10,000 creates.

Issue 12, target 5: the resident set (RSS) of one `minigroups serve` process stays at or under
150 MB after `--reads` reads and `--creates` creates, and does not grow between the second and
the last third of the run. The service runs on PostgreSQL (a fresh database) with upstream "ulms"
on a throwaway Mosquitto, the peer simulators in their own process (`create_peers.py`), so that
what the service holds is all the service's: the sandbox would keep its stand-in rooms in the
service's process. Each third: a third of the creates (16 at once), then a third of the reads (wrk
on the other core, 32 connections, ids drawn from the minigroups created so far), then the RSS
from /proc. Run from the repository root:

    uv run python -m benchmarks.memory_soak [--reads 1000000] [--creates 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import uvloop
from benchmarks.create_latency import broker_binary
from benchmarks.create_throughput import Creator, peers_process
from benchmarks.wrk import run_wrk, wrk_binary
from sqlalchemy import make_url
from tests.api.conftest import ADMIN, _private_key_pem, bearer_token
from tests.integration.ulms.processes import AUDIENCE, serve, stop, wait_ready, write_config
from tests.support.databases import ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL, admin
from tests.support.mosquitto import Mosquitto

from minigroups.adapters.db import migrate

RSS_TARGET_MB = 150.0
GROWTH_TOLERANCE_MB = 3.0  # "no growth": the last third adds less than this
THIRDS = 3
CONCURRENCY = 16
LOAD_CORE = 1


@dataclass(frozen=True)
class Third:
    creates: int
    reads: int
    rss_mb: float


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def _ids(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT id FROM class ORDER BY random() LIMIT 1000")
    finally:
        await connection.close()
    return [str(row["id"]) for row in rows]


def read(base: str, paths: list[str], token: str, directory: Path, count: int) -> int:
    """wrk until `count` reads were answered; the number actually made."""
    done, seconds = 0, 10.0
    while done < count:
        load = run_wrk(
            base,
            paths,
            token=token,
            directory=directory,
            seconds=seconds,
            connections=32,
            core=LOAD_CORE,
        )
        if load.failures:
            raise RuntimeError(f"{load.failures} reads were not answered 2xx")
        done += load.requests
        seconds = min(60.0, max(1.0, (count - done) / max(load.per_second, 1.0)))
    return done


async def soak(directory: Path, reads: int, creates: int) -> list[Third]:
    admin_url = os.environ.get(ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL)
    broker_dir = directory / "mosquitto"
    broker_dir.mkdir()
    broker = Mosquitto(broker_binary(), broker_dir)
    broker.start()
    database = f"bench_memory_{secrets.token_hex(4)}"
    await admin(admin_url, f'CREATE DATABASE "{database}"')
    url = make_url(admin_url).set(database=database).render_as_string(False)
    thirds: list[Third] = []
    try:
        await asyncio.to_thread(migrate, url)
        secret = directory / "hs256.secret"
        secret.write_text(secrets.token_urlsafe(32))
        key = _private_key_pem(directory / "svc.private.pem")
        async with peers_process(broker):
            config = write_config(directory, "soak", broker, secret, key, database_url=url)
            served = serve(config, "soak")
            try:
                await wait_ready(served)
                token = bearer_token(secret, ADMIN, AUDIENCE)
                creator = Creator(served.base, token, "soak")
                pid = served.process.pid
                print(f"start: RSS {rss_mb(pid):.1f} MB", flush=True)
                made, answered = 0, 0
                for n in range(THIRDS):
                    batch = creates // THIRDS + (1 if n < creates % THIRDS else 0)
                    await creator.concurrent(batch, CONCURRENCY)
                    made += batch
                    paths = [f"/api/v1/minigroups/{id_}" for id_ in await _ids(url)]
                    share = reads // THIRDS
                    answered += await asyncio.to_thread(
                        read, served.base, paths, token, directory, share
                    )
                    thirds.append(Third(made, answered, rss_mb(pid)))
                    print(
                        f"third {n + 1}: {made} creates, {answered} reads, "
                        f"RSS {thirds[-1].rss_mb:.1f} MB",
                        flush=True,
                    )
            finally:
                await stop(served)
    finally:
        broker.stop()
        await admin(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return thirds


def verdicts(thirds: list[Third]) -> list[str]:
    last, second = thirds[-1], thirds[-2]
    growth = last.rss_mb - second.rss_mb
    return [
        f"target RSS <= {RSS_TARGET_MB:.0f} MB after {last.reads} reads and {last.creates} "
        f"creates: {'met' if last.rss_mb <= RSS_TARGET_MB else 'NOT met'} ({last.rss_mb:.1f} MB)",
        f"target no growth over the last third: "
        f"{'met' if growth < GROWTH_TOLERANCE_MB else 'NOT met'} ({growth:+.1f} MB)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--creates", type=int, default=10_000)
    args = parser.parse_args()
    wrk_binary()
    with tempfile.TemporaryDirectory(prefix="memory-soak-") as temporary:
        thirds = uvloop.run(soak(Path(temporary), args.reads, args.creates))
    print("\n".join(verdicts(thirds)))


if __name__ == "__main__":
    main()
