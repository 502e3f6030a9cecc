"""uvicorn's httptools protocol with the two bounds it lacks: time and bytes to send the headers.

uvicorn closes idle kept-alive connections (`timeout_keep_alive`) and bounds connections
(`limit_concurrency`), but a client that opens a connection and sends its headers slowly, or
endlessly, holds it forever. Here a request's head (request line and headers) must arrive within
`head_seconds` of the connection or of the request's first byte, and be at most `head_bytes`;
otherwise the connection is closed (with a 431 answer for a head that is too large).
"""

from __future__ import annotations

import asyncio
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


LINGER_SECONDS = 2.0


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """`head_seconds` and `head_bytes` are set on the subclass `bounded_protocol` makes."""

    head_seconds: float = 10.0
    head_bytes: int = 28 * 1024
    _head_timer: asyncio.TimerHandle | None = None
    _head_received = 0
    _in_head = True
    _head_begun = False  # a kept-alive connection's next request has begun, its head not done
    _discarding = False

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
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
