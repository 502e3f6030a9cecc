"""`[limits]`: safe defaults without the section, overridable by file and environment, checked."""

from __future__ import annotations

from pathlib import Path

from tests.unit.config.helpers import MINIMAL, load_error, load_text


def test_without_a_limits_section_the_defaults_apply(tmp_path: Path) -> None:
    limits = load_text(tmp_path, MINIMAL).settings.limits
    assert (limits.property_value_bytes, limits.property_keys) == (64 * 1024, 256)
    assert (limits.property_map_bytes, limits.property_key_length) == (1024 * 1024, 128)
    assert limits.property_key_pattern == "[A-Za-z0-9_.:-]+"
    assert (limits.tags_bytes, limits.event_bytes, limits.scope_bytes) == (65536, 65536, 1024)
    assert (limits.json_depth, limits.header_bytes, limits.header_field_bytes) == (64, 16384, 8192)
    assert limits.max_connections == 1000


def test_limits_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    text = MINIMAL + '\n[limits]\nproperty_keys = 10\nproperty_key_pattern = "[a-z]+"\n'
    environ = {"APP_LIMITS__JSON_DEPTH": "8", "APP_LIMITS__BODY_READ_SECONDS": "2.5"}
    limits = load_text(tmp_path, text, environ).settings.limits
    assert (limits.property_keys, limits.property_key_pattern) == (10, "[a-z]+")
    assert (limits.json_depth, limits.body_read_seconds) == (8, 2.5)


def test_a_limit_that_cannot_work_is_a_startup_error(tmp_path: Path) -> None:
    for key, value in (("property_keys", "0"), ("header_read_seconds", "-1")):
        message = load_error(tmp_path, MINIMAL, {f"APP_LIMITS__{key.upper()}": value})
        assert f"limits.{key}" in message
    bad_pattern = MINIMAL + '\n[limits]\nproperty_key_pattern = "["\n'
    assert "limits.property_key_pattern" in load_error(tmp_path, bad_pattern)
