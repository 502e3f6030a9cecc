"""The process's one logging setup: structlog rendering the standard library's records.

Every module logs with `logging.getLogger(__name__)`, key-values in `extra=`; the lines of one
request or one pipeline item also carry what `structlog.contextvars` holds for its task
(`request_id`, `account`, `minigroup_id`). `configure_logging` runs once, in the command's
entrypoint (never at import): a handler on the root logger renders each record as one JSON object
a line, or as a readable coloured line on a terminal. uvicorn's loggers propagate to it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TextIO

import msgspec
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from minigroups.services.trail import ACCOUNT

HANDLER_NAME = "minigroups"
ACCESS_LOGGER = "minigroups.access"  # api/trail.py's one line per HTTP request
Format = Literal["json", "console"]

# uvicorn's loggers: their handlers (none with log_config=None) dropped, records propagated.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# Chatty libraries: their INFO lines (a line per outgoing HTTP request, per migration step)
# show only at [log] level = "debug".
QUIET_LOGGERS = ("httpx", "httpcore", "aiohttp", "alembic", "aiosqlite", "asyncio")

# What a secret looks like wherever it might slip into a line: a JWT (our tokens, the id token)
# and an Authorization header's value. Replaced, as defence in depth: no code logs them.
_SECRETS = re.compile(
    r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*|(?i:bearer)\s+[^\s,;\"']+"
)
REDACTED = "[redacted]"


class _Lines(logging.StreamHandler[TextIO]):
    """The process's one handler; `write_line` takes an access line already rendered
    (`AccessLines`) and writes it at once, under the handler's lock."""

    def write_line(self, text: str) -> None:
        self.acquire()
        try:
            self.stream.write(text)
            self.stream.flush()
        finally:
            self.release()


class _Stderr(_Lines):
    """Writes to whatever `sys.stderr` is at the time of each line (as logging's last resort).

    Access lines (`write_line`) are gathered and written together at the end of the event
    loop's current round: one write for the requests answered in it, rather than one each
    (issue 12: under load, a write per request and the wake-up of whatever reads the pipe cost
    more than the line). A record logged meanwhile writes the gathered lines first, so the
    order is kept; `flush` (logging's shutdown at exit included) writes them too.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[str] = []
        self._scheduled = False

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        del value  # always sys.stderr

    def write_line(self, text: str) -> None:
        """`text` (whole lines) written at the end of this round of the running loop, or now
        when no loop runs in this thread."""
        self.acquire()
        try:
            self._pending.append(text)
            if self._scheduled:
                return
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()  # the handler's lock is re-entrant
                return
            self._scheduled = True
        finally:
            self.release()
        loop.call_soon(self.flush)

    def emit(self, record: logging.LogRecord) -> None:
        self._write_pending()  # Handler.handle holds the lock
        super().emit(record)

    def flush(self) -> None:
        self.acquire()
        try:
            self._scheduled = False
            self._write_pending()
            super().flush()
        finally:
            self.release()

    def _write_pending(self) -> None:
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self.stream.write(text)


def configure_logging(
    level: str = "info",
    fmt: Format | None = None,
    *,
    stream: TextIO | None = None,
    access: bool = True,
) -> None:
    """Route every record of the process through one handler on the root logger.

    `fmt` None chooses "console" when the stream is a terminal, "json" otherwise. `stream` is
    stderr (as it is at each line) unless given. Calling it again replaces the handler.
    """
    target = stream if stream is not None else sys.stderr
    chosen: Format = fmt or ("console" if _is_terminal(target) else "json")
    handler: _Lines = _Stderr() if stream is None else _Lines(stream)
    handler.set_name(HANDLER_NAME)
    formatter: logging.Formatter = _formatter(chosen, colours=_is_terminal(target))
    if chosen == "json":
        formatter = _PlainRecordsFast(formatter)
    handler.setFormatter(formatter)
    # No line shows the process, thread or process name: not looking them up saves two
    # system calls per record (issue 12).
    logging.logProcesses = logging.logThreads = logging.logMultiprocessing = False
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    _json_lines.handler = handler if chosen == "json" else None
    numeric = logging.getLevelNamesMapping()[level.upper()]
    root.setLevel(numeric)
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
        uvicorn_logger.setLevel(logging.NOTSET)
    # `[log] access = false`: the access lines (at info) are not even made.
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET if access else logging.WARNING)
    quiet = logging.NOTSET if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    structlog.configure(
        processors=[*_common(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


class AccessLineWriter(Protocol):
    """What writes an access line when the fast path cannot (api/trail.py's logged lines)."""

    def line(
        self, method: str, route: str, status: int, duration_ms: float, client: str | None
    ) -> None: ...


class _JsonLines:
    """The process's JSON handler, once `configure_logging` chose JSON (else None)."""

    handler: _Lines | None = None


_json_lines = _JsonLines()
_access_logger = logging.getLogger(ACCESS_LOGGER)


class AccessLines:
    """The access line of every request (issue 11), written straight to the JSON handler's stream
    when the process logs JSON: the same keys and values as the logged record would give
    (`_PlainRecordsFast`), without the logging module's record, caller look-up and handler chain,
    which cost most of the line's time (issue 12). `[log] access = false`, a level above info, the
    console format, or a handler that is no longer the root's: the line goes to `fallback`.
    """

    def __init__(self, fallback: AccessLineWriter) -> None:
        self._fallback = fallback

    def line(
        self, method: str, route: str, status: int, duration_ms: float, client: str | None
    ) -> None:
        handler = _json_lines.handler
        if (
            handler is None
            or not _access_logger.isEnabledFor(logging.INFO)
            or handler not in logging.root.handlers
        ):
            self._fallback.line(method, route, status, duration_ms, client)
            return
        # Only the context's values can hold what a caller sent (the request id): they alone are
        # made plain and checked for secrets; the rest are the route's template, numbers and the
        # peer's address.
        event: EventDict = redact_secrets(
            None, "", _plain_values(None, "", structlog.contextvars.get_contextvars())
        )
        event["level"] = "info"
        event["logger"] = ACCESS_LOGGER
        event["timestamp"] = _timestamp(time.time())
        event["method"] = method
        event["route"] = route
        event["status"] = status
        event["duration_ms"] = duration_ms
        event[ACCOUNT] = event.get(ACCOUNT)
        event["client"] = client
        event["message"] = f"{method} {route} {status} {duration_ms:.1f} ms"
        handler.write_line(_json_text(event) + handler.terminator)


def _timestamp(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat().replace("+00:00", "Z")


# What every LogRecord has: the rest of a record's attributes are the `extra=` key-values.
_RECORD_KEYS = frozenset(
    {*logging.LogRecord("", 0, "", 0, "", (), None).__dict__, "message", "asctime"}
)


class _PlainRecordsFast(logging.Formatter):
    """The JSON line of a plain record (no traceback, not made by structlog) built directly:
    the same keys and values as the structlog chain of `_formatter` gives it (context, level,
    logger, timestamp, key-values, then `_plain_values` and `redact_secrets`), in a third of the
    time; the access line is one per request (issue 12). Anything else goes through the chain.
    """

    def __init__(self, full: logging.Formatter) -> None:
        super().__init__()
        self._full = full

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.stack_info or isinstance(record.msg, dict):
            return self._full.format(record)
        event: EventDict = dict(structlog.contextvars.get_contextvars())
        level = record.levelname.lower()
        event["level"] = "warning" if level == "warn" else level
        event["logger"] = record.name
        event["timestamp"] = _timestamp(record.created)
        for key, value in record.__dict__.items():
            if key not in _RECORD_KEYS:
                event[key] = value
        event["message"] = record.getMessage()
        redact_secrets(None, "", _plain_values(None, "", event))
        return _json_text(event)


def _json_text(event: EventDict, **_: Any) -> str:
    """One JSON object; the values are plain already (`_plain_values`). msgspec takes about a
    tenth of the standard library's time (issue 12: the access line is on every request)."""
    return msgspec.json.encode(event).decode("utf-8")


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


def _common() -> list[Processor]:
    """What every line gets, whichever logger made it."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _formatter(fmt: Format, *, colours: bool) -> structlog.stdlib.ProcessorFormatter:
    last: list[Processor]
    if fmt == "json":  # {"message", "level", "logger", "timestamp", ...key-values}
        last = [
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(serializer=_json_text),
        ]
    else:
        last = [structlog.dev.ConsoleRenderer(colors=colours)]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_common(), structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _plain_values,
            redact_secrets,
            *last,
        ],
    )


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), list, dict})


def _plain_values(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Values JSON has no type for (UUIDs, datetimes, exceptions) become their text."""
    for key, value in event.items():
        if type(value) not in _PLAIN_TYPES and not isinstance(
            value, str | int | float | bool | list | dict
        ):
            event[key] = str(value)
    return event


def redact_secrets(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Replace what looks like a token in any string value (the message, a traceback, a field)."""
    for key, value in event.items():
        event[key] = _redacted(value)
    return event


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        # The pattern needs "eyJ" or "bearer" (any case): most values have neither, and the
        # test is cheaper than the substitution (an access line has a dozen values; issue 12).
        if "eyJ" in value or "earer" in value or "EARER" in value:
            return _SECRETS.sub(REDACTED, value)
        return value
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    if isinstance(value, Mapping):
        redacted: MutableMapping[str, Any] = {k: _redacted(v) for k, v in value.items()}
        return redacted
    return value
