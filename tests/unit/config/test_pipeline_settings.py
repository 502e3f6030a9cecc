"""`[pipeline]` keys of issue 8: defaults, and the values start-up refuses (naming the key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from minigroups.bootstrap import instance_id
from tests.unit.config.helpers import MINIMAL, load_error, load_text, with_section


def test_defaults(tmp_path: Path) -> None:
    pipeline = load_text(tmp_path, MINIMAL).settings.pipeline
    assert (pipeline.lease_seconds, pipeline.shutdown_grace_seconds) == (15.0, 5.0)
    assert (pipeline.retention_days, pipeline.purge_interval_seconds) == (7.0, 600.0)
    assert pipeline.purge_batch_size == 500


def test_the_instance_id_is_the_agent_id(tmp_path: Path) -> None:
    settings = load_text(tmp_path, MINIMAL).settings
    assert instance_id(settings) == f"alpha.{settings.id}"


def test_the_environment_overrides_them(tmp_path: Path) -> None:
    environ = {"APP_PIPELINE__RETENTION_DAYS": "30", "APP_PIPELINE__LEASE_SECONDS": "20"}
    pipeline = load_text(tmp_path, MINIMAL, environ).settings.pipeline
    assert (pipeline.retention_days, pipeline.lease_seconds) == (30.0, 20.0)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("lease_seconds = 0", '"pipeline.lease_seconds": must be a number > 0'),
        ("retention_days = -1", '"pipeline.retention_days": must be a number > 0'),
        ("purge_interval_seconds = nan", '"pipeline.purge_interval_seconds": must be a number > 0'),
        ("shutdown_grace_seconds = -1", '"pipeline.shutdown_grace_seconds": must be a number >= 0'),
        ("purge_batch_size = 0", '"pipeline.purge_batch_size": must be at least 1'),
    ],
)
def test_values_that_cannot_work_are_refused(tmp_path: Path, line: str, expected: str) -> None:
    assert expected in load_error(tmp_path, with_section("pipeline", line))
