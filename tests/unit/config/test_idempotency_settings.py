"""`[idempotency]` keys of issue 9: defaults, the environment, and the values start-up refuses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from minigroups.bootstrap import build_container
from tests.unit.config.helpers import MINIMAL, load_error, load_text, with_section


def test_defaults(tmp_path: Path) -> None:
    idempotency = load_text(tmp_path, MINIMAL).settings.idempotency
    assert idempotency.ttl_seconds == 86_400  # 24 h
    assert idempotency.lease_seconds == 15.0
    assert (idempotency.purge_interval_seconds, idempotency.purge_batch_size) == (300.0, 500)


def test_the_file_and_the_environment_set_them(tmp_path: Path) -> None:
    text = with_section("idempotency", "ttl_seconds = 600")
    environ = {"APP_IDEMPOTENCY__LEASE_SECONDS": "30"}
    idempotency = load_text(tmp_path, text, environ).settings.idempotency
    assert (idempotency.ttl_seconds, idempotency.lease_seconds) == (600, 30.0)


async def test_the_use_cases_get_them(tmp_path: Path) -> None:
    text = with_section("idempotency", "ttl_seconds = 600\nlease_seconds = 3\npurge_batch_size = 7")
    settings = load_text(tmp_path, text, {"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}).settings
    container = build_container(settings)
    try:
        options = container.ctx.options.idempotency
        assert (options.ttl, options.lease) == (timedelta(minutes=10), timedelta(seconds=3))
        assert container.key_expiry is not None
        assert container.key_expiry.options.batch == 7
    finally:
        await container.close()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ttl_seconds = 0", '"idempotency.ttl_seconds"'),
        ("ttl_seconds = 1.5", '"idempotency.ttl_seconds"'),
        ("lease_seconds = 0", '"idempotency.lease_seconds"'),
        ("lease_seconds = inf", '"idempotency.lease_seconds"'),
        ("purge_interval_seconds = nan", '"idempotency.purge_interval_seconds"'),
        ("purge_batch_size = 0", '"idempotency.purge_batch_size"'),
        ("unknown = 1", "unknown"),
    ],
)
def test_values_that_cannot_work_are_refused(tmp_path: Path, line: str, expected: str) -> None:
    assert expected in load_error(tmp_path, with_section("idempotency", line))
