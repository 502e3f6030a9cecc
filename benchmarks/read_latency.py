"""Latency of reads at a steady rate below full load: a commit's code against the working tree's,
with the bare route as the floor, in alternating turns.

`read_cpu` tells whether a change made a read cheaper at full load; this tells whether it made a
read slower when the service is not busy (issue 12, session 9: answers sent at the end of the event
loop's round were cheaper at full load and later at 400 req/s). One fresh PostgreSQL database with
1,000 minigroups; three servers pinned to one core (`--baseline`'s code, the working tree's, the
bare route); each turn loads each in turn (the other two stopped) with wrk held at `--rate`
requests/s (16 connections, wrk's per-connection delay; the order reversed every other turn) and
prints p50 and p99; then the median p99 of each.

    uv run python -m benchmarks.read_latency --baseline HEAD~1 [--rate 400] [--rounds 6]
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks.read_cpu import compared
from benchmarks.read_path import SETTLE_SECONDS, Target, alone, half_load, measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="HEAD", help="the git revision compared against")
    parser.add_argument("--rate", type=float, default=400.0, help="requests/s held")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    args.connections = 32  # the warm-up runs at full load
    with compared(args.baseline, "read-latency-") as (directory, servers, paths):
        targets = alone([Target(name, server, paths[name]) for name, server in servers.items()])
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
