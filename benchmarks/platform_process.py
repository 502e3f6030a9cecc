"""The simulated platform of `pipeline_throughput.py`, in a process of its own.

The event and conference simulators (`BrokerPeers`), tq over HTTP (`TqServer`) and the sandbox
autopilot, which publishes every lifecycle event a peer would on the broker. Keeping them out of
the benchmark's process (and out of the service's) means the platform's work does not share an
event loop with the measurement or with the service under test.

Driven over stdin/stdout, one JSON object per line. Once connected it prints
`{"tq": "<base url>"}`; then each `{"finish": [<create answers>], "participants": N}` makes those
lessons end (the autopilot answering every request from then on) and is answered with
`{"finished": <count>}`; end of input stops it:

    python -m benchmarks.platform_process --host 127.0.0.1 --port 1883
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from tests.integration.pipeline.support import minigroup_of
from tests.integration.ulms.processes import TQ_ACCOUNT
from tests.integration.ulms.service import CONFERENCE_ACCOUNT, EVENT_ACCOUNT
from tests.support.simulators import BrokerPeers, CountingMetrics, TqServer

from minigroups.adapters.sandbox import Sandbox
from minigroups.adapters.sandbox.autopilot import Accounts, SandboxAutopilot
from minigroups.adapters.ulms import AgentOptions, Envelope, MqttAgent
from minigroups.adapters.ulms.errors import BrokerUnavailable

PUBLISH_RETRY_SECONDS = 30.0
PACE = 0.01  # seconds between the autopilot's looks at what the service asked


async def serve_platform(host: str, port: int) -> None:
    sandbox = Sandbox()
    tq = TqServer(sandbox)
    await tq.start()
    peers = BrokerPeers(
        sandbox,
        host=host,
        port=port,
        event_account_id=EVENT_ACCOUNT,
        conference_account_id=CONFERENCE_ACCOUNT,
    )
    publisher = MqttAgent(
        AgentOptions(
            host=host,
            port=port,
            agent_id="autopilot.platform.svc.example.org",
            username=None,
            clean_session=True,
            reconnect_interval=0.1,
        ),
        CountingMetrics(),
    )

    async def emit(topic: str, properties: dict[str, str], payload: str) -> None:
        deadline = time.monotonic() + PUBLISH_RETRY_SECONDS
        while True:
            try:
                await publisher.publish(topic, Envelope(payload, properties), qos=1)
            except BrokerUnavailable:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
            else:
                return

    accounts = Accounts(event=EVENT_ACCOUNT, conference=CONFERENCE_ACCOUNT, tq=TQ_ACCOUNT)
    autopilot = SandboxAutopilot(sandbox, accounts, emit, upload_delay=0)
    pilot: asyncio.Task[None] | None = None
    await peers.start()
    await publisher.start()
    try:
        while not peers.connected:  # noqa: ASYNC110 - the simulators have no event for it
            await asyncio.sleep(0.05)
        _say({"tq": tq.base_url})
        while line := await asyncio.to_thread(sys.stdin.readline):
            command: dict[str, Any] = json.loads(line)
            if pilot is None:
                pilot = asyncio.create_task(autopilot.run(PACE))
            for created in command["finish"]:
                await autopilot.finish(minigroup_of(created), command["participants"])
            _say({"finished": len(command["finish"])})
    finally:
        if pilot is not None:
            pilot.cancel()
            await asyncio.gather(pilot, return_exceptions=True)
        await publisher.close()
        await peers.close()
        await tq.close()


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True, help="the broker's address")
    parser.add_argument("--port", type=int, required=True, help="the broker's port")
    args = parser.parse_args()
    import uvloop

    uvloop.run(serve_platform(args.host, args.port))


if __name__ == "__main__":
    main()
