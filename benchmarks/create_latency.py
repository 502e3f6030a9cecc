"""Benchmark: latency of `POST /api/v1/minigroups` over the broker versus the in-process sandbox.

Both runs drive the real app (in-process ASGI, SQLite in a temporary directory). The broker run
starts a throwaway Mosquitto on a free loopback port with the event/conference simulators as their
own agents; each create then makes three MQTT round trips (event room.create, conference
room.create, event room.locked_types). Run from the repository root:

    uv run python -m benchmarks.create_latency [--count 500] [--warmup 50] [--max-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
from tests.support.mosquitto import BINARY_VARIABLE, DEFAULT_BINARY, Mosquitto
from tests.support.simulators import BrokerPeers

from minigroups.adapters.auth.keys import load_signing_key
from minigroups.adapters.auth.tokens import mint_token
from minigroups.adapters.db import migrate
from minigroups.adapters.sandbox import Sandbox
from minigroups.bootstrap import build_container, create_app
from minigroups.config import Settings

ISSUER = "iam.bench.local"
AUDIENCE = "usr.bench.local"
EVENT_ACCOUNT = "event.svc.bench.local"
CONFERENCE_ACCOUNT = "conference.svc.bench.local"


@dataclass(frozen=True)
class Result:
    name: str
    latencies: list[float]  # seconds, one per create
    elapsed: float

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.elapsed


def settings_for(directory: Path, upstream: str, broker: Mosquitto | None) -> Settings:
    secret = directory / "hs256.secret"
    secret.write_text(secrets.token_urlsafe(32))
    data: dict[str, object] = {
        "id": "dispatcher.svc.bench.local",
        "agent_label": f"bench-{upstream}",
        "turn_hosts": ["turn0"],
        "database_url": f"sqlite:///{directory / f'{upstream}.db'}",
        "storage": {"base_url": "https://storage.bench.local"},
        "authn": {ISSUER: {"audience": [AUDIENCE], "algorithm": "HS256", "key": str(secret)}},
        "authz": {AUDIENCE: {"type": "none"}},
        "event_client": {"account_id": EVENT_ACCOUNT, "timeout": 5},
        "conference_client": {"account_id": CONFERENCE_ACCOUNT, "timeout": 5},
        "tq_client": {"base_url": "http://127.0.0.1:9/", "account_id": "tq.svc.bench.local"},
        "id_token": {"algorithm": "HS256", "key": str(secret)},
        "upstream": upstream,
    }
    if broker is not None:
        data["mqtt"] = {"uri": broker.uri}
    return msgspec.convert(data, Settings)


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    container = build_container(settings)
    migrate(settings.database_url)
    app = create_app(container)
    await container.start()  # what the lifespan start-up runs
    secret = Path(settings.authn[ISSUER].key)
    key = load_signing_key(secret, "HS256")
    token = mint_token(
        issuer=ISSUER, audience=AUDIENCE, subject="admin", algorithm="HS256", key=key
    )
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://minigroups.bench",
            headers={"authorization": f"Bearer {token}"},
        ) as client:
            yield client
    finally:
        await container.close()


async def measure(
    name: str, client: httpx.AsyncClient, count: int, warmup: int, max_seconds: float
) -> Result:
    for n in range(warmup):
        await create(client, f"warmup-{n}")
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + max_seconds
    for n in range(count):
        before = time.perf_counter()
        await create(client, f"lesson-{n}")
        latencies.append(time.perf_counter() - before)
        if time.perf_counter() > deadline:
            break
    return Result(name, latencies, time.perf_counter() - started)


async def create(client: httpx.AsyncClient, scope: str) -> None:
    response = await client.post("/api/v1/minigroups", json={"audience": AUDIENCE, "scope": scope})
    if response.status_code != 201:
        raise RuntimeError(f"create answered {response.status_code}: {response.text}")


async def run(count: int, warmup: int, max_seconds: float) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="create-latency-") as temporary:
        directory = Path(temporary)
        sandbox_settings = settings_for(directory, "sandbox", None)
        async with client_for(sandbox_settings) as client:
            sandbox = await measure("sandbox", client, count, warmup, max_seconds)
        broker_dir = directory / "mosquitto"
        broker_dir.mkdir()
        broker = Mosquitto(broker_binary(), broker_dir)
        broker.start()
        try:
            peers = BrokerPeers(
                Sandbox(),
                host=broker.host,
                port=broker.port,
                event_account_id=EVENT_ACCOUNT,
                conference_account_id=CONFERENCE_ACCOUNT,
            )
            await peers.start()
            try:
                async with client_for(settings_for(directory, "ulms", broker)) as client:
                    over_broker = await measure("broker", client, count, warmup, max_seconds)
            finally:
                await peers.close()
        finally:
            broker.stop()
    return [sandbox, over_broker]


def broker_binary() -> str:
    binary = os.environ.get(BINARY_VARIABLE, DEFAULT_BINARY)
    found = shutil.which(binary)
    if found is None:
        raise SystemExit(f"Mosquitto is not installed at {binary} (set {BINARY_VARIABLE})")
    return found


def report(results: list[Result]) -> str:
    lines = [f"{'path':<8} {'creates':>8} {'median ms':>10} {'p99 ms':>8} {'creates/s':>10}"]
    lines += [
        f"{r.name:<8} {len(r.latencies):>8} {r.median_ms:>10.2f} {r.p99_ms:>8.2f} "
        f"{r.per_second:>10.1f}"
        for r in results
    ]
    sandbox, broker = results
    lines.append(
        f"the broker path adds {broker.median_ms - sandbox.median_ms:.2f} ms at the median"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="creates per path")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured creates first")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="cap per path")
    parser.add_argument("--asyncio", action="store_true", help="the stdlib loop, not uvloop")
    args = parser.parse_args()
    work = run(args.count, args.warmup, args.max_seconds)
    if args.asyncio:
        results = asyncio.run(work)
    else:
        import uvloop

        results = uvloop.run(work)
    print(report(results))


if __name__ == "__main__":
    main()
