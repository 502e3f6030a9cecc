"""An answer goes out in one write (issue 12): its head waits for its body and both go out in one
system call, at once for the event loop round's first answer and at the round's end for the
others; a write that nothing follows goes out at the round's end; the order is kept, and nothing
is sent after the connection is gone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from starlette.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send
from uvicorn.server import ServerState

from minigroups.entrypoints.protocol import (
    COALESCED_BYTES,
    CoalescedWrites,
    WriteRounds,
    bounded_protocol,
)


class RecordingTransport(asyncio.Transport):
    """A socket's transport that keeps, in order, every call that reaches it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes]] = []
        self.closing = False
        self.protocol: asyncio.BaseProtocol | None = None

    @property
    def written(self) -> list[bytes]:
        return [data for name, data in self.calls if name == "write"]

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closing, "written after the transport was closed"
        self.calls.append(("write", bytes(data)))

    def write_eof(self) -> None:
        self.calls.append(("write_eof", b""))

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        self.calls.append(("close", b""))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort", b""))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.calls.append(("set_protocol", b""))
        self.protocol = protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        self.calls.append(("pause_reading", b""))

    def resume_reading(self) -> None:
        self.calls.append(("resume_reading", b""))

    def get_write_buffer_size(self) -> int:
        return 7


async def rounds(count: int = 20) -> None:
    """Let the loop run `count` rounds: what a round scheduled at its end is done by then."""
    for _ in range(count):
        await asyncio.sleep(0)


def connections(count: int) -> list[tuple[CoalescedWrites, RecordingTransport]]:
    """`count` connections' writes, sharing one loop's rounds as `serve`'s connections do."""
    shared = WriteRounds(asyncio.get_running_loop())
    made = []
    for _ in range(count):
        transport = RecordingTransport()
        made.append((CoalescedWrites(transport, shared), transport))
    return made


async def test_an_answer_waits_for_its_body_and_goes_out_at_once_in_one_write() -> None:
    [(writes, transport)] = connections(1)
    writes.write(b"HTTP/1.1 200 OK\r\n\r\n")
    writes.write(b"")
    assert transport.calls == []
    assert writes.get_write_buffer_size() == 7 + 19
    writes.write(bytearray(b"{}"))
    assert transport.written == [b"HTTP/1.1 200 OK\r\n\r\n{}"]  # not held: the round's first
    assert writes.get_write_buffer_size() == 7


async def test_later_answers_of_a_round_go_out_together_at_its_end() -> None:
    (first, first_sent), (second, second_sent), (third, third_sent) = connections(3)
    for writes in (first, second, third):
        writes.write(b"head ")
        writes.write(memoryview(b"body"))
    assert first_sent.written == [b"head body"]
    assert second_sent.written == third_sent.written == []
    await rounds(1)
    assert second_sent.written == third_sent.written == [b"head body"]
    first.writelines([b"next ", b"round"])  # a new round's first answer: at once again
    assert first_sent.written[1:] == [b"next round"]


async def test_a_write_that_nothing_follows_goes_out_at_the_end_of_the_round() -> None:
    [(writes, transport)] = connections(1)
    writes.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    await rounds(1)
    assert transport.written == [b"HTTP/1.1 204 No Content\r\n\r\n"]


async def test_a_large_piece_goes_out_as_it_is_after_what_waits() -> None:
    [(writes, transport)] = connections(1)
    writes.write(b"head")
    writes.write(b"x" * COALESCED_BYTES)
    assert transport.written == [b"head", b"x" * COALESCED_BYTES]
    writes.write(b"tail")
    await rounds()
    assert transport.written[2:] == [b"tail"]


async def test_what_waits_goes_out_before_closing_ending_the_output_or_changing_protocol() -> None:
    for call in ("close", "write_eof", "set_protocol"):
        [(writes, transport)] = connections(1)
        writes.write(b"answer")
        if call == "set_protocol":
            writes.set_protocol(asyncio.Protocol())
        else:
            getattr(writes, call)()
        assert transport.calls == [("write", b"answer"), (call, b"")]
        await rounds()
        assert transport.written == [b"answer"], call  # the end of the round sends nothing twice


class FailingTransport(RecordingTransport):
    def write(self, data: bytes | bytearray | memoryview) -> None:
        raise RuntimeError("the handle is closed")


async def test_a_failed_write_at_the_end_of_a_round_does_not_keep_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shared = WriteRounds(asyncio.get_running_loop())
    failing, working = FailingTransport(), RecordingTransport()
    for transport in (failing, working):
        CoalescedWrites(transport, shared).write(b"head")
    await rounds()
    assert working.written == [b"head"]
    assert "an answer could not be written" in caplog.text


async def test_what_waits_is_dropped_when_the_connection_is_aborted_or_gone() -> None:
    (writes, aborted), (other, lost) = connections(2)
    writes.write(b"answer")
    writes.abort()
    other.write(b"answer")
    lost.closing = True  # the peer went away before the round ended
    await rounds()
    assert aborted.calls == [("abort", b"")]
    assert lost.calls == []


def connection(app: Any) -> tuple[asyncio.Protocol, RecordingTransport]:
    """The service's protocol (as `serve` configures it) serving `app` on a recording transport."""
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False)
    protocol: asyncio.Protocol = bounded_protocol(head_seconds=5, head_bytes=16 * 1024)(  # type: ignore[call-arg]
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = RecordingTransport()
    protocol.connection_made(transport)
    return protocol, transport


async def test_an_answer_goes_out_in_one_write_head_and_body() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"id": "a"})(scope, receive, send)

    protocol, transport = connection(app)
    protocol.data_received(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
    await rounds()
    protocol.connection_lost(None)
    assert len(transport.written) == 1
    head, body = transport.written[0].split(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"content-length: 10" in head
    assert body == b'{"id":"a"}'


async def test_a_streamed_answer_is_sent_as_it_comes_not_held_to_its_end() -> None:
    release = asyncio.Event()

    async def parts() -> Any:
        yield b"first"
        await release.wait()
        yield b"second"

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await StreamingResponse(parts())(scope, receive, send)

    protocol, transport = connection(app)
    protocol.data_received(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
    await rounds()
    sent = b"".join(transport.written)
    assert sent.startswith(b"HTTP/1.1 200 OK\r\n")
    assert sent.endswith(b"5\r\nfirst\r\n")
    release.set()
    await rounds()
    assert b"".join(transport.written).endswith(b"6\r\nsecond\r\n0\r\n\r\n")
    protocol.connection_lost(None)
