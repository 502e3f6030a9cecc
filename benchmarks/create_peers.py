"""The event and conference simulators in a process of their own, for `create_throughput.py`.

Connects `BrokerPeers` (tests/support/simulators) to the broker named on the command line, prints
`ready` once both agents are connected and answers until stdin closes or SIGTERM arrives.

    python -m benchmarks.create_peers --port N --event ACCOUNT --conference ACCOUNT
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import uvloop
from tests.support.simulators import BrokerPeers

from minigroups.adapters.sandbox import Sandbox


async def answer(host: str, port: int, event: str, conference: str) -> None:
    peers = BrokerPeers(
        Sandbox(), host=host, port=port, event_account_id=event, conference_account_id=conference
    )
    peers.requests = _Forgetful()  # a long run must not keep every request it answered
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    loop.add_reader(sys.stdin.fileno(), lambda: stopped.set() if not sys.stdin.read(1) else None)
    await peers.start()
    while not peers.connected:  # noqa: ASYNC110 - the agents offer no event to wait on
        await asyncio.sleep(0.05)
    print("ready", flush=True)
    try:
        await stopped.wait()
    finally:
        await peers.close()


class _Forgetful(list):  # type: ignore[type-arg]
    def append(self, _: object) -> None:
        return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--event", required=True, help="the event service's account id")
    parser.add_argument("--conference", required=True, help="the conference service's account id")
    args = parser.parse_args()
    uvloop.run(answer(args.host, args.port, args.event, args.conference))


if __name__ == "__main__":
    main()
