"""The sandbox's tq as a real HTTP server on a loopback port: the tq stand-in for the ULMS adapters.

A small HTTP/1.1 server (keep-alive, `Content-Length` bodies) hands each request to
`SandboxTqTransport`, so routing, recording and failure injection are the in-process sandbox's.
Silence keeps the connection open without an answer; an outage closes it without one. `slow()`
delays every answer.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from minigroups.adapters.sandbox.sandbox import Sandbox
from minigroups.adapters.sandbox.tq_transport import SandboxTqTransport

_MAX_HEAD = 64 * 1024


class TqServer:
    """`start()` binds 127.0.0.1 on a free port; `base_url` is then `http://127.0.0.1:<port>/`."""

    def __init__(self, sandbox: Sandbox, *, host: str = "127.0.0.1") -> None:
        self.sandbox = sandbox
        self.host = host
        self.port = 0
        self.delay = 0.0
        self.targets: list[str] = []  # each request's target, as it came off the wire
        self._transport = SandboxTqTransport(sandbox)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def slow(self, seconds: float) -> None:
        """Answer every request only after `seconds`."""
        self.delay = seconds

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            while (request := await _read_request(reader, self.port, self.targets)) is not None:
                if self.delay:
                    await asyncio.sleep(self.delay)
                try:
                    response = await self._transport.handle_async_request(request)
                except httpx.ConnectError:  # the sandbox's tq outage: hang up without answering
                    return
                writer.write(await _encode(response))
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            if task is not None:
                self._connections.discard(task)


async def _read_request(
    reader: asyncio.StreamReader, port: int, targets: list[str]
) -> httpx.Request | None:
    """The next request of the connection, or None when the client closed it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise
        return None
    if len(head) > _MAX_HEAD:
        raise ConnectionError("request head too large")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    targets.append(target)
    headers: list[tuple[str, str]] = []
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    length = next((int(v) for n, v in headers if n.lower() == "content-length"), 0)
    body = await reader.readexactly(length)
    return httpx.Request(method, f"http://127.0.0.1:{port}{target}", headers=headers, content=body)


async def _encode(response: httpx.Response) -> bytes:
    body = await response.aread()
    reason = response.reason_phrase or "Status"
    head = [f"HTTP/1.1 {response.status_code} {reason}"]
    content_type = response.headers.get("content-type", "application/json")
    head += [f"content-type: {content_type}", f"content-length: {len(body)}", "", ""]
    return "\r\n".join(head).encode("latin-1") + body
