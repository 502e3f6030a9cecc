"""Benchmark: what the rate limits cost the read path, in requests per second (issue 10).

Two apps over one SQLite database in a temporary directory: one without `[rate_limits]`, one
with the issue's quotas in memory (per account in two windows, per audience, create), set high
enough that no read is refused, so every read is counted against three quotas. The apps are
called in process as ASGI applications (no HTTP client or server: their costs would dilute the
difference), each by `--concurrency` tasks reading `GET /api/v1/minigroups/{id}` as
`--accounts` accounts in turn. Rounds of `--seconds` alternate between the two (off-on, then
on-off) so that the machine's drift hits both alike; the verdict is the median of the rounds'
on/off ratios. Beside requests per second it reports the process's CPU time per read in each
mode, and the CPU time spent counting itself (thread time inside `RateLimits.count`), which a
machine shared with other work disturbs least. Run from the repository root:

    uv run python -m benchmarks.rate_limit_cost [--rounds 30] [--seconds 0.5] [--accounts 200]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from minigroups.adapters.auth.keys import load_signing_key
from minigroups.adapters.auth.tokens import mint_token
from minigroups.adapters.db import migrate
from minigroups.adapters.metrics import PrometheusMetrics
from minigroups.adapters.rate_limits import build_rate_limiter, quotas_of
from minigroups.bootstrap import Container, build_container, create_app
from minigroups.config import Settings
from minigroups.domain.ids import AccountId
from minigroups.services.rate_limits import Policies, RateLimits, Tally

ISSUER = "iam.bench.local"
AUDIENCE = "usr.bench.local"
TARGET = 0.05  # the issue's budget: under 5% fewer requests per second
# The issue's quotas, scaled up so that no read is refused: every read is counted, none is cut.
QUOTAS = {
    "per_account": "1000000/second;100000000/minute",
    "per_audience": "10000000/second",
    "create_per_account": "5/second",
}

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class TimedRateLimits(RateLimits):
    """The rate limits, with the event loop thread's CPU time spent counting added up: the
    cost itself, which a loaded machine disturbs far less than requests per second."""

    def __init__(self, metrics: PrometheusMetrics) -> None:
        policies = Policies(**{key: quotas_of(key, text) for key, text in QUOTAS.items()})
        super().__init__(build_rate_limiter("memory://", timeout=1.0), policies, metrics)
        self.seconds = 0.0
        self.counted = 0

    async def count(self, caller: AccountId, *, creating: bool) -> Tally:
        started = time.thread_time()
        try:
            return await super().count(caller, creating=creating)
        finally:
            self.seconds += time.thread_time() - started
            self.counted += 1


@dataclass
class Mode:
    name: str
    app: App
    container: Container
    rates: list[float] = field(default_factory=list)  # requests per second, one per round
    cpu: list[float] = field(default_factory=list)  # process CPU seconds per request, per round
    counting: float = 0.0  # CPU seconds spent counting per request (the event loop's thread)

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def cpu_us(self) -> float:
        return statistics.median(self.cpu) * 1e6


def settings_for(directory: Path, rate_limits: dict[str, str] | None) -> Settings:
    secret = directory / "hs256.secret"
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(32))
    data: dict[str, object] = {
        "id": "dispatcher.svc.bench.local",
        "agent_label": "bench",
        "turn_hosts": ["turn0"],
        "database_url": f"sqlite:///{directory / 'bench.db'}",
        "storage": {"base_url": "https://storage.bench.local"},
        "authn": {ISSUER: {"audience": [AUDIENCE], "algorithm": "HS256", "key": str(secret)}},
        "authz": {AUDIENCE: {"type": "none"}},
        "event_client": {"account_id": "event.svc.bench.local"},
        "conference_client": {"account_id": "conference.svc.bench.local"},
        "tq_client": {"base_url": "http://127.0.0.1:9/", "account_id": "tq.svc.bench.local"},
        "rate_limits": rate_limits or {},
    }
    return msgspec.convert(data, Settings)


def authorization(settings: Settings, label: str) -> list[tuple[bytes, bytes]]:
    key = load_signing_key(Path(settings.authn[ISSUER].key), "HS256")
    token = mint_token(issuer=ISSUER, audience=AUDIENCE, subject=label, algorithm="HS256", key=key)
    return [(b"authorization", f"Bearer {token}".encode())]


async def call(
    app: App, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> tuple[int, bytes]:
    """One request straight through the ASGI app: its status and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"minigroups.bench"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("minigroups.bench", 80),
    }
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


Read = tuple[str, list[tuple[bytes, bytes]]]


async def measure(
    mode: Mode, reads: Iterator[Read], concurrency: int, seconds: float
) -> tuple[float, float]:
    """Reads per second of `concurrency` tasks reading one after the other for `seconds`, and
    the process's CPU seconds per read (every thread: SQLite's too)."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            path, headers = next(reads)
            status, _ = await call(mode.app, "GET", path, headers)
            if status != 200:
                raise RuntimeError(f"{mode.name}: a read answered {status}")
            done += 1

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started), (time.process_time() - cpu) / done


async def seed(app: App, settings: Settings, count: int) -> list[str]:
    """Create `count` minigroups; their ids."""
    ids = []
    for _ in range(count):
        body = msgspec.json.encode({"audience": AUDIENCE, "scope": secrets.token_hex(8)})
        headers = [*authorization(settings, "admin"), (b"content-type", b"application/json")]
        status, answer = await call(app, "POST", "/api/v1/minigroups", headers, body)
        if status != 201:
            raise RuntimeError(f"a create answered {status}: {answer!r}")
        ids.append(msgspec.json.decode(answer)["id"])
    return ids


async def run(rounds: int, seconds: float, accounts: int, concurrency: int) -> tuple[Mode, Mode]:
    with tempfile.TemporaryDirectory(prefix="rate-limit-cost-") as temporary:
        directory = Path(temporary)
        off_settings = settings_for(directory, None)
        migrate(off_settings.database_url)
        containers = [
            build_container(off_settings),
            build_container(settings_for(directory, QUOTAS)),
        ]
        timed = containers[1].rate_limits = TimedRateLimits(containers[1].metrics)
        off, on = (
            Mode(name, create_app(c), c) for name, c in zip(("off", "on"), containers, strict=True)
        )
        try:
            ids = await seed(off.app, off_settings, 20)
            callers = [authorization(off_settings, f"user{n}") for n in range(accounts)]
            paths = itertools.cycle(f"/api/v1/minigroups/{i}" for i in ids)
            reads = zip(paths, itertools.cycle(callers), strict=False)
            for mode in (off, on):  # warm up: caches, verified tokens, pooled connections
                await measure(mode, reads, concurrency, 1.0)
            for round_ in range(rounds):
                for mode in (off, on) if round_ % 2 == 0 else (on, off):
                    rate, cpu = await measure(mode, reads, concurrency, seconds)
                    mode.rates.append(rate)
                    mode.cpu.append(cpu)
            on.counting = timed.seconds / timed.counted
        finally:
            for container in containers:
                await container.close()
    return off, on


def report(off: Mode, on: Mode, accounts: int, concurrency: int) -> str:
    """Each round measures both modes one right after the other: the ratio of a round's pair is
    what drift on a shared machine disturbs least, so the verdict is the median of those."""
    rates = [b / a for a, b in zip(off.rates, on.rates, strict=True)]
    cpus = [b / a for a, b in zip(off.cpu, on.cpu, strict=True)]
    lines = [
        f"read path (GET /api/v1/minigroups/{{id}}), {len(rates)} rounds of both, "
        f"{accounts} accounts, concurrency {concurrency}",
        f"{'rate limits':<12} {'median req/s':>13} {'min':>9} {'max':>9} {'CPU us/read':>12}",
    ]
    lines.extend(
        f"{mode.name:<12} {mode.median:>13.1f} {min(mode.rates):>9.1f} {max(mode.rates):>9.1f} "
        f"{mode.cpu_us:>12.0f}"
        for mode in (off, on)
    )
    ratio, low, high = _median_and_quartiles(rates)
    verdict = "PASS" if 1 - ratio < TARGET else "FAIL"
    lines.append(
        f"requests/s on/off, median of the rounds' pairs: {ratio:.3f} (quartiles {low:.3f}-"
        f"{high:.3f}): cost {100 * (1 - ratio):.1f}% (target < {100 * TARGET:.0f}%): {verdict}"
    )
    cpu, low, high = _median_and_quartiles(cpus)
    lines.append(
        f"CPU per read on/off, median of the pairs: {cpu:.3f} (quartiles {low:.3f}-{high:.3f}), "
        f"about {(cpu - 1) * off.cpu_us:+.0f} us a read"
    )
    lines.append(
        f"counting itself: {on.counting * 1e6:.1f} us of CPU per read, "
        f"{100 * on.counting * 1e6 / off.cpu_us:.1f}% of a read's CPU without rate limits"
    )
    return "\n".join(lines)


def _median_and_quartiles(values: list[float]) -> tuple[float, float, float]:
    low, _, high = statistics.quantiles(values, n=4)
    return statistics.median(values), low, high


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="measured rounds of both modes")
    parser.add_argument("--seconds", type=float, default=0.5, help="length of a mode's round")
    parser.add_argument("--accounts", type=int, default=200, help="callers taking turns")
    parser.add_argument("--concurrency", type=int, default=4, help="reading tasks")
    parser.add_argument("--asyncio", action="store_true", help="the stdlib loop, not uvloop")
    args = parser.parse_args()
    work = run(args.rounds, args.seconds, args.accounts, args.concurrency)
    if args.asyncio:
        off, on = asyncio.run(work)
    else:
        import uvloop

        off, on = uvloop.run(work)
    print(report(off, on, args.accounts, args.concurrency))


if __name__ == "__main__":
    main()
