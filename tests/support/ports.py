"""Free loopback ports for the processes the tests start (a broker, a server, PostgreSQL,
Redis), and for an address where nothing listens."""

from __future__ import annotations

import contextlib
import random
import socket

HOST = "127.0.0.1"
# Below Linux's ephemeral range (32768-60999): no outgoing connection takes one meanwhile.
_RUN_PORTS = range(20000, 32000)


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice, released at once)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def free_port_run(count: int) -> int:
    """The first of `count` consecutive free ports (`serve --workers N` listens for metrics on
    the configured port + n: a port from the kernel may have its neighbour taken)."""
    for _ in range(200):
        first = random.randrange(_RUN_PORTS.start, _RUN_PORTS.stop - count)
        with contextlib.ExitStack() as stack:
            try:
                for port in range(first, first + count):
                    sock = stack.enter_context(socket.socket())
                    sock.bind((HOST, port))
            except OSError:
                continue
        return first
    raise RuntimeError(f"no {count} consecutive free ports in {_RUN_PORTS}")
