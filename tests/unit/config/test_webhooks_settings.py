"""`[webhooks]` of issue 10: defaults, environment overrides, and the values start-up refuses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from minigroups.adapters.webhooks import webhook_policy
from tests.unit.config.helpers import MINIMAL, load_error, load_text, with_section


def test_defaults_are_safe_and_follow_standard_webhooks(tmp_path: Path) -> None:
    settings = load_text(tmp_path, MINIMAL).settings
    webhooks = settings.webhooks
    assert webhooks.timeout_seconds == 10.0
    assert webhooks.retry_schedule_seconds == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    assert webhooks.disable_after_days == 5.0
    assert (webhooks.allow_http, webhooks.allow_private_targets) == (False, False)
    policy = webhook_policy(settings)
    assert policy.disable_after == timedelta(days=5)
    assert policy.rotation_overlap == timedelta(hours=24)


def test_the_environment_overrides_them(tmp_path: Path) -> None:
    environ = {
        "APP_WEBHOOKS__RETRY_SCHEDULE_SECONDS": "[0, 0.5]",
        "APP_WEBHOOKS__ALLOW_PRIVATE_TARGETS": "true",
    }
    webhooks = load_text(tmp_path, MINIMAL, environ).settings.webhooks
    assert webhooks.retry_schedule_seconds == [0, 0.5]
    assert webhooks.allow_private_targets is True


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("retry_schedule_seconds = []", '"webhooks.retry_schedule_seconds": must list at least'),
        ("retry_schedule_seconds = [0, -5]", '"webhooks.retry_schedule_seconds[1]": must be >= 0'),
        ("retry_schedule_seconds = [nan]", '"webhooks.retry_schedule_seconds[0]": must be >= 0'),
        ("timeout_seconds = 0", "webhooks.timeout_seconds"),
        ("per_endpoint_concurrency = 0", "webhooks.per_endpoint_concurrency"),
        ("disable_after_days = -1", "webhooks.disable_after_days"),
    ],
)
def test_values_that_cannot_work_are_refused(tmp_path: Path, line: str, expected: str) -> None:
    assert expected in load_error(tmp_path, with_section("webhooks", line))
