"""`APP_*` and `DATABASE_URL` override the file's keys; the variable is named in errors."""

from __future__ import annotations

from pathlib import Path

from minigroups.config import AuthzHttpSettings, AuthzNoneSettings, load_settings
from tests.unit.config.helpers import (
    DATABASE_URL,
    MINIMAL,
    REFERENCE_APP,
    SAMPLE_ENV,
    load_error,
    load_text,
)


def test_env_overrides_a_top_level_key(tmp_path: Path) -> None:
    settings = load_text(tmp_path, MINIMAL, {"APP_AGENT_LABEL": "beta"}).settings

    assert settings.agent_label == "beta"


def test_env_overrides_a_key_one_level_down(tmp_path: Path) -> None:
    environ = {"APP_HTTP__LISTENER_ADDRESS": "127.0.0.1:9000", "APP_EVENT_CLIENT__TIMEOUT": "2"}

    settings = load_text(tmp_path, MINIMAL, environ).settings

    assert settings.http.listener_address == "127.0.0.1:9000"
    assert settings.event_client.timeout == 2.0


def test_env_overrides_a_nested_key_inside_a_table_entry() -> None:
    environ = {
        **SAMPLE_ENV,
        "APP_TQ_CLIENT__AUDIENCE_SETTINGS__USR.EXAMPLE.ORG__PREROLL_OFFSET": "10",
        "APP_AUTHZ__USR.EXAMPLE.ORG__MAX_RETRIES": "5",
    }

    settings = load_settings(REFERENCE_APP, environ).settings

    assert settings.tq_client.audience_settings["usr.example.org"].preroll_offset == 10
    authz = settings.authz["usr.example.org"]
    assert isinstance(authz, AuthzHttpSettings)
    assert authz.max_retries == 5


def test_env_creates_a_missing_table(tmp_path: Path) -> None:
    environ = {"APP_AUTHZ__USR.EXAMPLE.ORG__TYPE": "none"}

    settings = load_text(tmp_path, MINIMAL, environ).settings

    assert settings.authz == {"usr.example.org": AuthzNoneSettings()}


def test_env_values_are_read_as_toml(tmp_path: Path) -> None:
    environ = {"APP_TENANTS": '["a.example.org", "b.example.org"]', "APP_MQTT__URI": '"mqtt://b"'}
    environ["APP_MQTT__CLEAN_SESSION"] = "true"

    settings = load_text(tmp_path, MINIMAL, environ).settings

    assert settings.tenants == ["a.example.org", "b.example.org"]
    assert settings.mqtt is not None
    assert settings.mqtt.uri == "mqtt://b"
    assert settings.mqtt.clean_session is True


def test_env_values_that_are_not_toml_are_plain_strings(tmp_path: Path) -> None:
    environ = {
        "APP_ID": "dispatcher.other.example.org",
        "APP_TQ_CLIENT__BASE_URL": "http://tq:3000/",
    }

    settings = load_text(tmp_path, MINIMAL, environ).settings

    assert settings.id == "dispatcher.other.example.org"
    assert settings.tq_client.base_url == "http://tq:3000/"


def test_env_number_for_a_string_key_stays_text(tmp_path: Path) -> None:
    environ = {"APP_AGENT_LABEL": "7", "APP_TQ_CLIENT__API_VERSION": "2"}

    settings = load_text(tmp_path, MINIMAL, environ).settings

    assert settings.agent_label == "7"
    assert settings.tq_client.api_version == "2"


def test_database_url_env_wins_over_the_file(tmp_path: Path) -> None:
    settings = load_text(tmp_path, MINIMAL, {"DATABASE_URL": DATABASE_URL}).settings

    assert settings.database_url == DATABASE_URL


def test_the_reference_pool_variables_set_the_database_section(tmp_path: Path) -> None:
    """Issue 12: `DATABASE_POOL_*` as the reference reads them; they win over `APP_DATABASE__*`."""
    environ = {
        "DATABASE_POOL_SIZE": "7",
        "DATABASE_POOL_IDLE_SIZE": "2",
        "DATABASE_POOL_TIMEOUT": "1.5",
        "DATABASE_POOL_MAX_LIFETIME": "600",
        "APP_DATABASE__POOL_SIZE": "3",
        "APP_DATABASE__READ_POOL_SIZE": "4",
    }
    database = load_text(tmp_path, MINIMAL, environ).settings.database

    assert (database.pool_size, database.pool_idle_size, database.read_pool_size) == (7, 2, 4)
    assert (database.pool_timeout, database.pool_max_lifetime) == (1.5, 600)


def test_a_bad_pool_variable_is_named(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL, {"DATABASE_POOL_SIZE": "0"})

    assert "database.pool_size" in message
    assert "(from environment variable DATABASE_POOL_SIZE)" in message


def test_env_errors_name_the_variable(tmp_path: Path) -> None:
    wrong_type = load_error(tmp_path, MINIMAL, {"APP_EVENT_CLIENT__TIMEOUT": "true"})
    unknown = load_error(tmp_path, MINIMAL, {"APP_HTTP__PORT": "80"})
    not_a_table = load_error(tmp_path, MINIMAL, {"APP_TURN_HOSTS__FIRST": "x"})

    assert '"event_client.timeout": expected a number, got a boolean' in wrong_type
    assert "(from environment variable APP_EVENT_CLIENT__TIMEOUT)" in wrong_type
    assert 'unknown key "http.port" (from environment variable APP_HTTP__PORT)' in unknown
    assert 'APP_TURN_HOSTS__FIRST: "turn_hosts" is not a table' in not_a_table


def test_env_name_with_an_empty_level_is_an_error(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL, {"APP_HTTP____LISTENER_ADDRESS": "x"})

    assert "APP_HTTP____LISTENER_ADDRESS" in message


def test_env_variables_outside_our_keys_are_ignored_with_a_warning(tmp_path: Path) -> None:
    """An orchestrator injects APP_PORT / APP_SERVICE_HOST for a service named "app"."""
    environ = {"APP_PORT": "tcp://10.0.0.7:80", "APP_SERVICE_HOST": "10.0.0.7"}
    loaded = load_text(tmp_path, MINIMAL, environ)

    assert loaded.settings.http.listener_address == "127.0.0.1:8080"
    assert "environment variable APP_PORT is not ours: ignored" in loaded.warnings
    assert "environment variable APP_SERVICE_HOST is not ours: ignored" in loaded.warnings


def test_the_container_takes_its_pools_from_the_database_section(tmp_path: Path) -> None:
    from minigroups.adapters.db import Pools
    from minigroups.bootstrap import pools

    environ = {
        "DATABASE_POOL_SIZE": "7",
        "DATABASE_POOL_TIMEOUT": "2",
        "DATABASE_POOL_IDLE_SIZE": "0",
    }
    settings = load_text(tmp_path, MINIMAL, environ).settings

    assert pools(settings) == Pools(size=7, timeout=2, max_lifetime=1800, read_size=16, read_idle=0)
