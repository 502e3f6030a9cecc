"""The process's one logging setup (issue 11): JSON or console lines, the level from `[log]`,
uvicorn's loggers through it, key-values and context on every line, secrets never shown."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from minigroups.adapters.logging_setup import (
    ACCESS_LOGGER,
    REDACTED,
    AccessLines,
    Format,
    configure_logging,
)
from minigroups.api.trail import LoggedAccessLines
from minigroups.config import ConfigError, embedded_settings
from minigroups.entrypoints.cli import main
from tests.support.logs import captured_logs, restored_logging


def _fail(message: str) -> None:
    raise ValueError(message)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_lines_carry_time_level_logger_message_and_key_values() -> None:
    with captured_logs("info", "json") as logs:
        logging.getLogger("minigroups.demo").info("hello %s", "there", extra={"answer": 42})
    [line] = logs.text.splitlines()
    record = json.loads(line)
    assert record["message"] == "hello there"
    assert record["level"] == "info"
    assert record["logger"] == "minigroups.demo"
    assert record["answer"] == 42
    assert record["timestamp"].endswith("Z")  # ISO 8601, UTC


def test_console_lines_are_readable_text_not_json() -> None:
    with captured_logs("info", "console") as logs:
        logging.getLogger("minigroups.demo").warning("hello", extra={"answer": 42})
    [line] = logs.text.splitlines()
    assert "hello" in line
    assert "warning" in line
    assert "answer=42" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


@pytest.mark.parametrize(("stream", "coloured"), [(io.StringIO(), False), (_Terminal(), True)])
def test_without_a_format_a_terminal_gets_console_lines_and_anything_else_json(
    stream: io.StringIO, coloured: bool
) -> None:
    with restored_logging():
        configure_logging("info", None, stream=stream)
        logging.getLogger("minigroups.demo").info("hello")
    text = stream.getvalue()
    if coloured:
        assert "\x1b[" in text  # ANSI colours
        assert "hello" in text
    else:
        assert json.loads(text)["message"] == "hello"


def test_the_level_hides_lower_lines() -> None:
    with captured_logs("warning", "json") as logs:
        logging.getLogger("minigroups.demo").info("hidden")
        logging.getLogger("minigroups.demo").warning("shown")
    assert [r["message"] for r in logs.records()] == ["shown"]


def test_uvicorn_lines_go_through_the_same_handler() -> None:
    uvicorn_error = logging.getLogger("uvicorn.error")
    with restored_logging():
        uvicorn_error.addHandler(logging.NullHandler())  # what uvicorn's own config would add
        uvicorn_error.propagate = False
        with captured_logs("info", "json") as logs:
            uvicorn_error.info("Started server process [%d]", 1)
            logging.getLogger("uvicorn.access").info("access")
            assert uvicorn_error.handlers == []
            assert uvicorn_error.propagate
        assert [(r["logger"], r["message"]) for r in logs.records()] == [
            ("uvicorn.error", "Started server process [1]"),
            ("uvicorn.access", "access"),
        ]


def test_chatty_libraries_are_quiet_unless_debug() -> None:
    with captured_logs("info", "json") as logs:
        logging.getLogger("httpx").info('HTTP Request: POST http://tq/ "200 OK"')
    assert logs.records() == []
    with captured_logs("debug", "json") as logs:
        logging.getLogger("httpx").info("shown at debug")
    assert [r["message"] for r in logs.records()] == ["shown at debug"]


def test_context_variables_are_on_every_line_of_the_task() -> None:
    with captured_logs("info", "json") as logs:
        with structlog.contextvars.bound_contextvars(request_id="r-1"):
            logging.getLogger("minigroups.demo").info("inside")
        logging.getLogger("minigroups.demo").info("outside")
    inside, outside = logs.records()
    assert inside["request_id"] == "r-1"
    assert "request_id" not in outside


def test_tracebacks_are_one_json_field() -> None:
    with captured_logs("info", "json") as logs:
        try:
            _fail("boom")
        except ValueError:
            logging.getLogger("minigroups.demo").exception("failed")
    [record] = logs.records()
    assert record["message"] == "failed"
    assert "ValueError: boom" in record["exception"]


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZXYifQ.c2lnbmF0dXJlLWJ5dGVz"


def test_anything_shaped_like_a_token_is_redacted() -> None:
    with captured_logs("info", "json") as logs:
        log = logging.getLogger("minigroups.demo")
        log.warning("header was Bearer %s", "s3cr3t-value", extra={"token": JWT})
        try:
            _fail(f"refused {JWT}")
        except ValueError:
            log.exception("failed")
    assert JWT not in logs.text
    assert "s3cr3t-value" not in logs.text
    first, second = logs.records()
    assert first["message"] == f"header was {REDACTED}"
    assert first["token"] == REDACTED
    assert f"ValueError: refused {REDACTED}" in second["exception"]


def test_log_settings_default_and_environment(tmp_path: Path) -> None:
    default = embedded_settings(tmp_path, {}).settings.log
    assert (default.level, default.format, default.access) == ("info", None, True)
    environ = {"APP_LOG__LEVEL": "DEBUG", "APP_LOG__FORMAT": "console", "APP_LOG__ACCESS": "false"}
    changed = embedded_settings(tmp_path, environ).settings.log
    assert (changed.level, changed.format, changed.access) == ("DEBUG", "console", False)


def test_access_lines_can_be_turned_off_and_the_rest_stays() -> None:
    """`[log] access = false` (issue 12): no line per request; warnings and errors still."""
    access = logging.getLogger(ACCESS_LOGGER)
    with captured_logs("info", "json", access=False) as logs:
        access.info("GET / 200")
        access.warning("an access warning")
        logging.getLogger("minigroups.demo").info("other info")
    assert [r["message"] for r in logs.records()] == ["an access warning", "other info"]
    with captured_logs("info", "json") as logs:
        access.info("GET / 200")
    assert [r["message"] for r in logs.records()] == ["GET / 200"]


@pytest.mark.parametrize(
    "environ", [{"APP_LOG__LEVEL": "loud"}, {"APP_LOG__FORMAT": "xml"}], ids=["level", "format"]
)
def test_log_settings_refuse_unknown_values(tmp_path: Path, environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="log"):
        embedded_settings(tmp_path, environ)


def test_the_command_configures_logging_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`APP_LOG__LEVEL` reaches the one setup that every command makes before it runs."""
    monkeypatch.setenv("MINIGROUPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("APP_LOG__LEVEL", "error")
    monkeypatch.setenv("APP_LOG__FORMAT", "json")
    main(["token", "--label", "web", "--audience", "usr.minigroups.local"])
    capsys.readouterr()
    logging.getLogger("minigroups.demo").warning("below the level")
    logging.getLogger("minigroups.demo").error("at the level")
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["at the level"]


class _Recorded:
    """The fallback writer, recording what it was asked to write."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, int, float, str | None]] = []

    def line(
        self, method: str, route: str, status: int, duration_ms: float, client: str | None
    ) -> None:
        self.lines.append((method, route, status, duration_ms, client))


def test_the_direct_access_line_is_the_logged_one() -> None:
    """Issue 12: with JSON configured, the access line skips the logging module; its keys and
    values are the ones the logged record gets (api/trail.py's LoggedAccessLines)."""
    fallback = _Recorded()
    direct = AccessLines(fallback)
    structlog.contextvars.bind_contextvars(request_id="r-1", account="a.b.c")
    try:
        with captured_logs("info", "json") as logs:
            direct.line("GET", "/api/v1/minigroups/{id}", 200, 1.234, "127.0.0.1")
            LoggedAccessLines().line("GET", "/api/v1/minigroups/{id}", 200, 1.234, "127.0.0.1")
    finally:
        structlog.contextvars.clear_contextvars()
    assert fallback.lines == []
    fast, logged = logs.of(ACCESS_LOGGER)
    assert fast.pop("timestamp").endswith("Z")
    logged.pop("timestamp")
    assert list(fast) == list(logged)
    assert fast == logged
    assert fast["message"] == "GET /api/v1/minigroups/{id} 200 1.2 ms"


@pytest.mark.parametrize(
    ("fmt", "access", "level"),
    [("console", True, "info"), ("json", False, "info"), ("json", True, "warning")],
    ids=["console", "access-off", "level-warning"],
)
def test_the_access_line_falls_back_to_logging(fmt: Format, access: bool, level: str) -> None:
    fallback = _Recorded()
    with captured_logs(level, fmt, access=access) as logs:
        AccessLines(fallback).line("GET", "/healthz", 200, 0.5, None)
    assert fallback.lines == [("GET", "/healthz", 200, 0.5, None)]
    assert logs.text == ""


def test_the_access_line_follows_a_replaced_handler() -> None:
    """A handler that is no longer the root's (logging configured again, or put back) is not
    written to: the line goes through logging as configured now."""
    fallback = _Recorded()
    lines = AccessLines(fallback)
    with captured_logs("info", "json") as first:
        pass
    lines.line("GET", "/healthz", 200, 0.5, None)
    assert first.text == ""
    assert fallback.lines == [("GET", "/healthz", 200, 0.5, None)]


def test_the_direct_access_line_redacts_what_the_caller_put_in_its_context() -> None:
    """The request id comes from the caller's `X-Request-Id`: a token there is not written."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    structlog.contextvars.bind_contextvars(request_id=jwt)
    try:
        with captured_logs("info", "json") as logs:
            AccessLines(_Recorded()).line("GET", "/healthz", 200, 0.5, "127.0.0.1")
    finally:
        structlog.contextvars.clear_contextvars()
    [line] = logs.of(ACCESS_LOGGER)
    assert line["request_id"] == REDACTED
    assert jwt not in logs.text


class _Stderr:
    """What the process's own handler wrote to `sys.stderr` (captured by pytest) so far."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self._text = ""

    def getvalue(self) -> str:
        self._text += self._capsys.readouterr().err
        return self._text


@pytest.fixture
def stderr_json(capsys: pytest.CaptureFixture[str]) -> Iterator[_Stderr]:
    """The process's own handler: JSON on whatever `sys.stderr` is when it writes."""
    with restored_logging():
        configure_logging("info", "json")
        yield _Stderr(capsys)


async def test_access_lines_to_stderr_are_written_together_at_the_end_of_the_round(
    stderr_json: _Stderr,
) -> None:
    """Issue 12: the process's stderr gets one write for the access lines of a round of the
    event loop; a record logged meanwhile comes after them, in order."""
    err = stderr_json
    lines = AccessLines(_Recorded())
    lines.line("GET", "/healthz", 200, 0.5, None)
    lines.line("GET", "/readyz", 200, 0.7, None)
    assert err.getvalue() == ""  # not yet: at the end of this round
    await asyncio.sleep(0)
    first = [json.loads(line)["route"] for line in err.getvalue().splitlines()]
    lines.line("GET", "/api/v1/minigroups/{id}", 200, 1.0, None)
    logging.getLogger("minigroups.demo").warning("after the read")
    records = [json.loads(line) for line in err.getvalue().splitlines()]
    assert first == ["/healthz", "/readyz"]
    assert [r.get("route", r["message"]) for r in records[2:]] == [
        "/api/v1/minigroups/{id}",
        "after the read",
    ]


def test_access_lines_to_stderr_without_a_running_loop_are_written_at_once(
    stderr_json: _Stderr,
) -> None:
    AccessLines(_Recorded()).line("GET", "/healthz", 200, 0.5, None)
    assert json.loads(stderr_json.getvalue())["route"] == "/healthz"


async def test_gathered_access_lines_are_written_by_a_flush(stderr_json: _Stderr) -> None:
    """logging's shutdown at exit flushes every handler: nothing gathered is lost."""
    AccessLines(_Recorded()).line("GET", "/healthz", 200, 0.5, None)
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert json.loads(stderr_json.getvalue())["route"] == "/healthz"
