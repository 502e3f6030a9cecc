"""The process's logging setup in tests: captured as JSON lines, and put back afterwards."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog

from minigroups.adapters.logging_setup import (
    ACCESS_LOGGER,
    QUIET_LOGGERS,
    UVICORN_LOGGERS,
    Format,
    configure_logging,
)

_TOUCHED = ("", ACCESS_LOGGER, *UVICORN_LOGGERS, *QUIET_LOGGERS)


@dataclass
class LogLines:
    """What the configured handler wrote."""

    stream: io.StringIO = field(default_factory=io.StringIO)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        """Every line, parsed (each must be one JSON object)."""
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def of(self, logger: str) -> list[dict[str, Any]]:
        return [record for record in self.records() if record.get("logger") == logger]


@contextmanager
def restored_logging() -> Iterator[None]:
    """Whatever the test configures, the loggers it touched are as before afterwards."""
    saved = {}
    for name in _TOUCHED:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), logger.level, logger.propagate)
    try:
        yield
    finally:
        for name, (handlers, level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()


@contextmanager
def captured_logs(
    level: str = "debug", fmt: Format = "json", *, access: bool = True
) -> Iterator[LogLines]:
    """The one setup of the process, writing into memory."""
    lines = LogLines()
    with restored_logging():
        configure_logging(level, fmt, stream=lines.stream, access=access)
        yield lines
