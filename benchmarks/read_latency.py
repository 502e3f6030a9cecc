"""Latency of reads at a steady rate below full load: a commit's code against the working tree's,
with the bare route as the floor, in alternating turns.

`read_cpu` tells whether a change made a read cheaper at full load; this tells whether it made a
read slower when the service is not busy (issue 12, session 9: answers sent at the end of the
event loop's round were cheaper at full load and later at 400 req/s). One fresh PostgreSQL
database with 1,000 minigroups; three servers pinned to one core (`--baseline`'s code, the
working tree's, the bare route); each turn loads each in turn with wrk held at `--rate`
requests/s (16 connections, wrk's per-connection delay; the order reversed every other turn) and
prints p50 and p99; then the median p99 of each.

    uv run python -m benchmarks.read_latency --baseline HEAD~1 [--rate 400] [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from benchmarks.create_throughput import export_source
from benchmarks.read_path import (
    LOAD_CORE,
    SETTLE_SECONDS,
    Target,
    bare,
    by_id,
    half_load,
    measure,
    postgres_database,
    sample,
    service,
)
from benchmarks.wrk import wrk_binary
from tests.support.databases import ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="HEAD", help="the git revision compared against")
    parser.add_argument("--rate", type=float, default=400.0, help="requests/s held")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    args.connections = 32  # the warm-up runs at full load
    wrk_binary()
    os.sched_setaffinity(0, {LOAD_CORE})
    admin_url = os.environ.get(ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL)
    with tempfile.TemporaryDirectory(prefix="read-latency-") as temporary, ExitStack() as stack:
        directory = Path(temporary)
        url = stack.enter_context(postgres_database(admin_url, 1000))
        ids = asyncio.run(sample(url, 1000))
        source = export_source(args.baseline, directory)
        old = service(directory, "baseline", database_url=url, authz="none", source=source)
        targets = [
            Target("baseline", stack.enter_context(old), by_id(ids)),
            Target(
                "new",
                stack.enter_context(service(directory, "new", database_url=url, authz="none")),
                by_id(ids),
            ),
            Target("bare", stack.enter_context(bare(url)), [f"/minigroups/{i}" for i, _ in ids]),
        ]
        for target in targets:  # warm up
            measure(target, args, directory)
        p99s: dict[str, list[float]] = {target.name: [] for target in targets}
        for turn in range(args.rounds):
            for target in targets if turn % 2 == 0 else list(reversed(targets)):
                time.sleep(SETTLE_SECONDS)
                load = half_load(target, args.rate * 2, args, directory)
                p99s[target.name].append(load.p99_ms)
                print(
                    f"turn {turn + 1} {target.name:<8} {load.per_second:6.0f} req/s  "
                    f"p50 {load.p50_ms:5.2f} ms  p99 {load.p99_ms:6.2f} ms",
                    flush=True,
                )
    for name, figures in p99s.items():
        label = f"{name} {args.baseline}" if name == "baseline" else name
        print(f"median p99 {label:<20} {statistics.median(figures):6.2f} ms")


if __name__ == "__main__":
    main()
