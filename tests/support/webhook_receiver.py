"""A real HTTP webhook receiver on a loopback port: records every request and answers as told.

`answers` are the statuses of the next requests, in order (then `default`); `hang` keeps every
request unanswered (a dead endpoint: the connection stays open, nothing comes back), and
`hang_first` the first few only. Each
request is kept with its headers and raw body, so tests verify signatures byte for byte with
the `standardwebhooks` library, as a receiver would.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks import Webhook


@dataclass(frozen=True)
class Received:
    target: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float  # time.monotonic() when the body was read
    answered: int | None  # the status sent back; None: never answered

    def verify(self, secret: str) -> Any:
        """The parsed body, once `standardwebhooks` accepted its signature (raises if not)."""
        return Webhook(secret).verify(self.body, self.headers)

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class WebhookReceiver:
    answers: deque[int] = field(default_factory=deque)
    default: int = 200
    hang: bool = False
    hang_first: int = 0  # the first requests get no answer, the later ones do
    answer_body: bytes = b"ok"
    answer_headers: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def answer(self, statuses: Iterable[int]) -> None:
        self.answers.extend(statuses)

    @property
    def succeeded(self) -> list[Received]:
        return [r for r in self.requests if r.answered is not None and 200 <= r.answered < 300]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and drop every connection (a hanging request is never answered)."""
        self._closing.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def wait_for(self, count: int, within: float = 20.0) -> list[Received]:
        """Until `count` requests arrived; fail after `within` seconds."""
        deadline = time.monotonic() + within
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.requests)} of {count} requests in {within} s")
            await asyncio.sleep(0.02)
        return self.requests

    async def __aenter__(self) -> WebhookReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._writers.add(writer)
        try:
            while not self._closing.is_set() and await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        target = request_line.split(" ")[1]
        if self.hang or len(self.requests) < self.hang_first:
            self.requests.append(Received(target, headers, body, time.monotonic(), None))
            await self._closing.wait()  # never answers: the connection is dropped at close
            return False
        status = self.answers.popleft() if self.answers else self.default
        self.requests.append(Received(target, headers, body, time.monotonic(), status))
        extra = "".join(f"{name}: {value}\r\n" for name, value in self.answer_headers.items())
        length = len(self.answer_body)
        answer = f"HTTP/1.1 {status} X\r\ncontent-length: {length}\r\n{extra}\r\n"
        writer.write(answer.encode() + self.answer_body)
        await writer.drain()
        return True
