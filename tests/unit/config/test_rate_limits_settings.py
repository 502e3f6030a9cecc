"""`[rate_limits]` of issue 10: off by default, the `limits` notation checked at start-up, and
a storage URL that is never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.config.helpers import MINIMAL, load_error, load_text, with_section


def test_off_unless_a_quota_is_configured(tmp_path: Path) -> None:
    rate_limits = load_text(tmp_path, MINIMAL).settings.rate_limits
    assert (rate_limits.per_account, rate_limits.per_audience) == (None, None)
    assert rate_limits.create_per_account is None
    assert rate_limits.storage == "memory://"
    assert rate_limits.storage_timeout_seconds == 0.25


def test_the_issue_example_loads_and_the_environment_overrides_it(tmp_path: Path) -> None:
    lines = "\n".join(
        [
            'per_account = "50/second;2000/minute"',
            'per_audience = "500/second"',
            'create_per_account = "5/second"',
            'storage = "redis://redis.internal:6379/2"',
        ]
    )
    environ = {"APP_RATE_LIMITS__PER_AUDIENCE": "100 per second"}
    settings = load_text(tmp_path, with_section("rate_limits", lines), environ).settings
    assert settings.rate_limits.per_account == "50/second;2000/minute"
    assert settings.rate_limits.per_audience == "100 per second"
    assert settings.rate_limits.storage == "redis://redis.internal:6379/2"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'per_account = "50 a second"',
            '"rate_limits.per_account": must be rate limits in the limits notation, '
            'e.g. "50/second;2000/minute" or "5 per 2 minutes"; got \'50 a second\'',
        ),
        ('per_audience = ""', '"rate_limits.per_audience": must be rate limits'),
        ('create_per_account = "0/second"', "every amount must be at least 1"),
        ('per_account = "5/second;10/second"', "each window may appear once"),
        ("per_account = 50", '"rate_limits.per_account"'),
        ("storage_timeout_seconds = 0", '"rate_limits.storage_timeout_seconds"'),
        ("per_minute = 5", "per_minute"),
    ],
)
def test_values_that_cannot_work_are_refused(tmp_path: Path, line: str, expected: str) -> None:
    assert expected in load_error(tmp_path, with_section("rate_limits", line))


def test_an_unknown_storage_is_refused_without_echoing_its_url(tmp_path: Path) -> None:
    line = 'storage = "memcached://user:hunter2@cache:11211"'
    message = load_error(tmp_path, with_section("rate_limits", line))
    assert '"rate_limits.storage": must start with one of memory://, redis://, rediss://' in message
    assert "hunter2" not in message
