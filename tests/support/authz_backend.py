"""A real HTTP authorization backend on a loopback port, answering a fixed list of actions."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AuthzBackend:
    """Answers every POST with `allowed` (a JSON array) and remembers the request bodies.

    `status` is the answer's HTTP status (200 unless a test sets another); the body stays
    `allowed` whatever it is, as an error page that happens to be a JSON array would. With a
    `gate`, each answer waits until the gate is set: a slow backend holds its callers.
    """

    allowed: list[str] = field(default_factory=lambda: ["read", "update", "create", "download"])
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    gate: asyncio.Event | None = None
    _server: asyncio.Server | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/authz"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length)
                self.requests.append(json.loads(body))
                if self.gate is not None:
                    await self.gate.wait()
                answer = json.dumps(self.allowed).encode()
                writer.write(
                    f"HTTP/1.1 {self.status} Status\r\ncontent-type: application/json\r\n".encode()
                    + f"content-length: {len(answer)}\r\n\r\n".encode()
                    + answer
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
