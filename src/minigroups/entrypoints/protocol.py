"""uvicorn's httptools protocol with the two bounds it lacks (time and bytes to send the headers),
writing each answer to the socket once.

uvicorn closes idle kept-alive connections (`timeout_keep_alive`) and bounds connections
(`limit_concurrency`), but a client that opens a connection and sends its headers slowly, or
endlessly, holds it forever. Here a request's head (request line and headers) must arrive within
`head_seconds` of the connection or of the request's first byte, and be at most `head_bytes`;
otherwise the connection is closed (with a 431 answer for a head that is too large).

uvicorn writes an answer's status line and headers, then its body, each with its own system
call. The connection's writes here go through `CoalescedWrites`, which holds the head until the
body comes and sends both in one, at once when the loop is idle, and in a burst with the other
answers of its round when it is busy (`WriteRounds`; issue 12).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_TOO_LARGE_BODY = (
    b'{"type":"request_header_fields_too_large","title":"Request header fields too large"}'
)
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
    b"content-length: " + str(len(_TOO_LARGE_BODY)).encode() + b"\r\n\r\n" + _TOO_LARGE_BODY
)


log = logging.getLogger(__name__)

LINGER_SECONDS = 2.0
# A piece this large is written as it is, not copied to join what waits.
COALESCED_BYTES = 64 * 1024


class WriteRounds:
    """When the connections of one event loop send their answers. The first answer finished in a
    round of the loop goes out at once; answers finished later in the same round go out together
    at its end. An idle service answers without delay; a busy one sends its answers in bursts,
    which cost the kernel and the client less per answer than one at a time (issue 12: 4-11% of
    a read's CPU at full load, measured with `benchmarks/read_cpu.py`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._sent = False  # an answer went out in this round
        self._ending = False  # the round's end is scheduled
        self._held: list[CoalescedWrites] = []

    def now(self) -> bool:
        """Whether an answer goes out now (the round's first); otherwise it waits for the end."""
        if self._sent:
            return False
        self._sent = True
        self._end_of_round()
        return True

    def hold(self, writes: CoalescedWrites) -> None:
        """`writes.flush()` at the end of this round."""
        self._held.append(writes)
        self._end_of_round()

    def _end_of_round(self) -> None:
        if not self._ending:
            self._ending = True
            self._loop.call_soon(self._end)

    def _end(self) -> None:
        self._ending = self._sent = False
        held, self._held = self._held, []
        for writes in held:
            try:
                writes.flush()
            except Exception:  # one connection's failed write must not keep the others' answers
                log.exception("an answer could not be written")


class CoalescedWrites(asyncio.Transport):
    """A connection's transport that sends an answer in one write: uvicorn writes an answer's
    head, then, in the same step, its body; the head waits here and goes out with the body, in
    one system call and one segment instead of two. When it goes out is `WriteRounds`'s: at once
    for the round's first answer, at the round's end for the others. A write that nothing follows
    (a head without a body, a streamed body's last piece) goes out at the round's end. Nothing
    waits longer than the round.

    Order is kept: every write of the connection goes through here, and closing, ending the
    output or handing the connection to another protocol sends what waits first. What waits when
    the connection is lost, or aborted, is dropped, as the transport itself would drop it. Once
    `COALESCED_BYTES` would wait, what waits goes out, and a piece that large on its own is
    written as it is.
    """

    def __init__(self, transport: asyncio.Transport, rounds: WriteRounds) -> None:
        super().__init__()
        self._transport = transport
        self._rounds = rounds
        self._waiting: bytes | None = None
        self._in_round = False  # in `rounds`' list, flushed at the end of the round

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        chunk = data if type(data) is bytes else bytes(data)
        waiting = self._waiting
        if waiting is None:
            if len(chunk) >= COALESCED_BYTES:
                self._send(chunk)
                return
            self._waiting = chunk
            if not self._in_round:
                self._in_round = True
                self._rounds.hold(self)
        elif len(waiting) + len(chunk) >= COALESCED_BYTES:
            self._waiting = None
            self._send(waiting)
            self.write(chunk)
        elif self._rounds.now():  # the body after its head
            self._waiting = None
            self._send(waiting + chunk)
        else:
            self._waiting = waiting + chunk

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Send what waits now (the end of the round does it otherwise)."""
        self._in_round = False
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self._send(waiting)

    def _send(self, data: bytes) -> None:
        if not self._transport.is_closing():
            self._transport.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._waiting = None
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        waiting = 0 if self._waiting is None else len(self._waiting)
        return self._transport.get_write_buffer_size() + waiting

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """`head_seconds` and `head_bytes` are set on the subclass `bounded_protocol` makes."""

    head_seconds: float = 10.0
    head_bytes: int = 28 * 1024
    _head_timer: asyncio.TimerHandle | None = None
    _head_received = 0
    _in_head = True
    _head_begun = False  # a kept-alive connection's next request has begun, its head not done
    _discarding = False
    _rounds: WriteRounds | None = None  # the class's: one per serving loop

    def connection_made(self, transport: Any) -> None:
        rounds = type(self)._rounds
        if rounds is None:
            rounds = type(self)._rounds = WriteRounds(self.loop)
        super().connection_made(CoalescedWrites(transport, rounds))
        self._head_begins()

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        if self._in_head:
            self._head_received += len(data)
            if self._head_received > self.head_bytes:
                self._refuse_head()
                return
        super().data_received(data)
        # A kept-alive connection's next request whose head did not come whole in this read:
        # its clock starts now. (Armed here rather than at its first byte, a head that comes
        # in one read, as nearly all do, costs no timer; issue 12.)
        if self._head_begun and self._head_timer is None and not self.transport.is_closing():
            self._head_begins()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_begun = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_begun = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._in_head, self._head_received = True, 0  # counted again for the next request

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _refuse_head(self) -> None:
        """Answer 431, then read and drop the rest for a moment before closing: closing with
        unread input would reset the connection and lose the answer."""
        self._cancel_head_timer()
        self._discarding = True
        self.transport.write(TOO_LARGE)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _head_begins(self) -> None:
        self._in_head = True
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.head_seconds, self._head_too_slow)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self.transport.close()


def bounded_protocol(*, head_seconds: float, head_bytes: int) -> type[asyncio.Protocol]:
    """The protocol class bound to these limits (uvicorn's `http=` takes a class)."""
    bounds = {"head_seconds": head_seconds, "head_bytes": head_bytes}
    return type("BoundedHttpToolsProtocol", (BoundedHttpToolsProtocol,), bounds)
