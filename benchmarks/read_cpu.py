"""The service's CPU per read: a commit's code against the working tree's, in alternating turns.

`read_path` compares the service with the bare route; this compares two versions of the service, to
tell whether a change to the read path helped (issue 12, session 8). One fresh PostgreSQL database
with 1,000 minigroups (and, with `--sqlite`, a SQLite copy for each service); three servers pinned
to one core: `--baseline`'s code, the working tree's, and the bare route. Each turn loads each
server in turn (the other two stopped) with wrk (32 connections on the other core; the order
reversed every other turn, so that neither version always follows the other) and reads the server's
CPU time from `/proc` before and after. Printed per turn and as medians: requests/s and CPU per
read (user and system, the server's process only).

    uv run python -m benchmarks.read_cpu --baseline HEAD~1 [--rounds 6] [--sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchmarks.create_throughput import export_source
from benchmarks.process_cpu import cpu_seconds
from benchmarks.read_path import (
    LOAD_CORE,
    Server,
    bare,
    by_id,
    copy_to_sqlite,
    postgres_database,
    sample,
    service,
)
from benchmarks.wrk import run_wrk, wrk_binary
from tests.support.databases import ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL

from minigroups.adapters.db import migrate

VERSIONS = ("baseline", "new")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="HEAD", help="the git revision compared against")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--sqlite", action="store_true", help="both versions on SQLite")
    args = parser.parse_args()
    with compared(args.baseline, "read-cpu-", sqlite=args.sqlite) as (directory, servers, paths):
        results = turns(servers, paths, args, directory)
    report(results, args.baseline)


@contextmanager
def compared(
    baseline: str, prefix: str, *, sqlite: bool = False
) -> Iterator[tuple[Path, dict[str, Server], dict[str, list[str]]]]:
    """A fresh database with 1,000 minigroups; three servers pinned to one core (`baseline`'s
    code, the working tree's, the bare route; `sqlite`: both versions on SQLite copies), each
    with its by-id paths; this process on the load generator's core. Also `read_latency`'s."""
    wrk_binary()
    os.sched_setaffinity(0, {LOAD_CORE})
    admin_url = os.environ.get(ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL)
    with tempfile.TemporaryDirectory(prefix=prefix) as temporary, ExitStack() as stack:
        directory = Path(temporary)
        url = stack.enter_context(postgres_database(admin_url, 1000))
        ids = asyncio.run(sample(url, 1000))
        served_url: str | None = url
        if sqlite:
            served_url = None  # the embedded default: each service's data directory
            for name in VERSIONS:
                (directory / name).mkdir()
                sqlite_url = f"sqlite:///{directory / name / 'minigroups.sqlite3'}"
                migrate(sqlite_url)
                asyncio.run(copy_to_sqlite(url, sqlite_url))
        source = export_source(baseline, directory)
        servers: dict[str, Server] = {
            "baseline": stack.enter_context(
                service(directory, "baseline", database_url=served_url, authz="none", source=source)
            ),
            "new": stack.enter_context(
                service(directory, "new", database_url=served_url, authz="none")
            ),
            "bare": stack.enter_context(bare(url)),
        }
        paths = {name: by_id(ids) for name in VERSIONS}
        paths["bare"] = [f"/minigroups/{id_}" for id_, _ in ids]
        yield directory, servers, paths


def turns(
    servers: dict[str, Server],
    paths: dict[str, list[str]],
    args: argparse.Namespace,
    directory: Path,
) -> dict[str, list[tuple[float, float]]]:
    """(requests/s, CPU us a read) per server and turn; turn 0 warms up and is not kept."""
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
    for turn in range(args.rounds + 1):
        order = list(servers.items())
        for name, server in order if turn % 2 else reversed(order):
            before = cpu_seconds(server.pid)
            load = run_wrk(
                server.base,
                paths[name],
                token=server.token,
                directory=directory,
                seconds=args.seconds,
                connections=32,
                core=LOAD_CORE,
                paused=[other.pid for other in servers.values() if other is not server],
            )
            used = cpu_seconds(server.pid) - before
            time.sleep(1)
            if turn == 0 or not load.requests:
                continue
            per_read = used / load.requests * 1e6
            results[name].append((load.per_second, per_read))
            print(
                f"turn {turn} {name:<8} {load.per_second:7.0f} req/s {per_read:7.1f} us CPU a read"
                f" (failures {load.failures})",
                flush=True,
            )
    return results


def report(results: dict[str, list[tuple[float, float]]], baseline: str) -> None:
    for name, figures in results.items():
        rates, costs = [rate for rate, _ in figures], [cost for _, cost in figures]
        label = f"{name} {baseline}" if name == "baseline" else name
        print(
            f"median {label:<20} {statistics.median(rates):7.0f} req/s "
            f"{statistics.median(costs):7.1f} us CPU a read ({min(costs):.1f}-{max(costs):.1f})"
        )
    for name in VERSIONS:
        ratios = [a[0] / b[0] for a, b in zip(results[name], results["bare"], strict=True)]
        print(f"{name}: {statistics.median(ratios):.2f}x the bare route (median of the turns)")


if __name__ == "__main__":
    main()
