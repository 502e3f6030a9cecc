"""The configuration loader: reference App.toml files, readable errors, the embedded default."""

from __future__ import annotations

import logging
import stat
import string
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

from minigroups.config import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    AuthzHttpSettings,
    AuthzLocalWhitelistSettings,
    AuthzNoneSettings,
    AuthzRecordSettings,
    ConfigError,
    default_data_dir,
    embedded_settings,
    load_settings,
)
from tests.unit.config.helpers import (
    DATABASE_URL,
    MINIMAL,
    REFERENCE_APP,
    SAMPLE_ENV,
    load_error,
    load_text,
    with_section,
)

# --- the reference sample ---------------------------------------------------------------------


def test_reference_sample_has_every_section_of_the_format() -> None:
    """The fixture stands for any reference configuration: it must keep every key of the format."""
    document = tomllib.loads(REFERENCE_APP.read_text(encoding="utf-8"))

    assert set(document) == {
        *("id", "agent_label", "broker_id", "tenants", "turn_hosts", "retry_delay", "frontend"),
        *("authn", "authz", "conference_client", "event_client", "tq_client", "id_token"),
        *("mqtt", "http", "storage"),
    }
    assert set(document["mqtt"]) == {
        *("uri", "clean_session", "incoming_message_queue_size", "outgoing_message_queue_size"),
        *("max_message_size", "reconnect_interval", "keep_alive_interval"),
    }
    assert set(document["tq_client"]["audience_settings"]["usr.example.org"]) == {
        "preroll",
        "postroll",
        "watermark",
        "preroll_offset",
    }


def test_reference_sample_loads_unchanged() -> None:
    loaded = load_settings(REFERENCE_APP, SAMPLE_ENV)

    settings = loaded.settings
    assert settings.id == "dispatcher.dev.svc.example.org"
    assert settings.database_url == DATABASE_URL
    assert settings.conference_client.timeout == 5.0  # written "5"
    assert settings.event_client.timeout == 5.0
    assert settings.tq_client.audience_settings["usr.example.org"].preroll_offset == 4018
    assert settings.mqtt is not None
    assert settings.mqtt.clean_session is False
    assert settings.http.metrics_listener_address == "0.0.0.0:8888"
    for key in ("broker_id", "retry_delay", "frontend"):
        assert any(f'"{key}" is ignored' in warning for warning in loaded.warnings), key
    assert len(loaded.warnings) == 3


def test_reference_sample_authz_sections_take_their_tagged_types() -> None:
    authz = load_settings(REFERENCE_APP, SAMPLE_ENV).settings.authz

    http = authz["usr.example.org"]
    assert isinstance(http, AuthzHttpSettings)
    assert http.max_retries == 3
    assert http.uri == "https://authz.example.org/api/v1/authz"
    assert http.trusted == ["dispatcher.dev.svc.example.org"]
    whitelist = authz["dev.svc.example.org"]
    assert isinstance(whitelist, AuthzLocalWhitelistSettings)
    assert whitelist.records == [
        AuthzRecordSettings(
            subject_account_id="devops.dev.svc.example.org", object=["classrooms"], action="create"
        )
    ]


def test_ignored_keys_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="minigroups.config"):
        loaded = load_settings(REFERENCE_APP, SAMPLE_ENV)

    assert [record.getMessage() for record in caplog.records] == loaded.warnings


def test_sentry_and_mqtt_keep_alive_are_ignored_with_warnings(tmp_path: Path) -> None:
    text = with_section("mqtt", 'uri = "mqtt://127.0.0.1:1883"\nkeep_alive = 30')
    text = with_section("sentry", 'dsn = "https://sentry.example.org/1"', text)

    loaded = load_text(tmp_path, text)

    assert loaded.settings.mqtt is not None
    assert loaded.settings.mqtt.keep_alive_interval is None
    assert any('"mqtt.keep_alive" is ignored' in warning for warning in loaded.warnings)
    assert any('"sentry" is ignored' in warning for warning in loaded.warnings)


def test_minimal_config_loads_without_warnings(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, MINIMAL)

    assert loaded.warnings == []
    assert loaded.settings.database_url == "sqlite:///minigroups.sqlite3"
    assert loaded.settings.tq_client.timeout == 5.0


# --- errors name the key ----------------------------------------------------------------------

REMOVED_STORAGE = MINIMAL.replace('[storage]\nbase_url = "https://storage.example.org"\n', "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('colour = "red"\n' + MINIMAL, 'unknown key "colour"', id="unknown-top-level"),
        pytest.param(
            with_section("http", "foo = 1"), 'unknown key "http.foo"', id="unknown-nested"
        ),
        pytest.param(
            with_section('authz."usr.example.org"', 'type = "none"\nextra = 1'),
            'unknown key authz."usr.example.org".extra',
            id="unknown-in-table-entry",
        ),
        pytest.param(
            with_section("event_client", "timeout = true"),
            '"event_client.timeout": expected a number, got a boolean',
            id="bool-for-timeout",
        ),
        pytest.param(
            'tenants = "usr.example.org"\n' + MINIMAL,
            '"tenants": expected an array, got a string',
            id="string-for-tenants",
        ),
        pytest.param(
            with_section("mqtt", 'uri = "mqtt://broker"\nclean_session = 1'),
            '"mqtt.clean_session": expected a boolean, got an integer',
            id="int-for-bool",
        ),
        pytest.param(
            with_section("mqtt", 'uri = "mqtt://broker"\nclean_session = "true"'),
            '"mqtt.clean_session": expected a boolean, got a string',
            id="string-for-bool",
        ),
        pytest.param(
            with_section("tq_client", 'api_version = ["v1"]'),
            '"tq_client.api_version": expected a string, got an array',
            id="list-for-string",
        ),
        pytest.param(REMOVED_STORAGE, 'missing required key "storage"', id="missing-section"),
        pytest.param(
            MINIMAL.replace('agent_label = "alpha"\n', ""),
            'missing required key "agent_label"',
            id="missing-top-level",
        ),
        pytest.param(
            MINIMAL.replace('account_id = "tq.svc.example.org"\n', ""),
            'missing required key "tq_client.account_id"',
            id="missing-nested",
        ),
        pytest.param(
            MINIMAL.replace('turn_hosts = ["turn.example.org"]', "turn_hosts = []"),
            '"turn_hosts": must not be empty',
            id="empty-turn-hosts",
        ),
        pytest.param(
            MINIMAL.replace('id = "dispatcher.svc.example.org"', 'id = "dispatcher"'),
            '"id": must be an account id',
            id="bad-id",
        ),
        pytest.param(
            MINIMAL.replace('account_id = "event.svc.example.org"', 'account_id = "event"'),
            '"event_client.account_id": must be an account id',
            id="bad-peer-account-id",
        ),
        pytest.param(
            MINIMAL.replace('agent_label = "alpha"', 'agent_label = "al.pha"'),
            '"agent_label": must be non-empty and contain no dot',
            id="agent-label-with-dot",
        ),
        pytest.param(
            'tenants = ["usr.example.org", ""]\n' + MINIMAL,
            '"tenants[1]": must not be an empty string',
            id="empty-tenant",
        ),
        pytest.param(
            with_section("conference_client", "timeout = 0"),
            '"conference_client.timeout": must be a number of seconds > 0',
            id="zero-timeout",
        ),
        pytest.param(
            with_section('authz."usr.example.org"', 'type = "http"'),
            'missing required key authz."usr.example.org".uri',
            id="http-authz-without-uri",
        ),
        pytest.param(
            with_section(
                'authz."usr.example.org"', 'type = "http"\nuri = "https://a/"\nmax_retries = 0'
            ),
            'authz."usr.example.org".max_retries: must be at least 1',
            id="http-authz-max-retries",
        ),
        pytest.param(
            with_section('authz."usr.example.org/x"', 'type = "none"'),
            'authz."usr.example.org/x": must be a DNS-like audience',
            id="authz-audience-with-slash",
        ),
        pytest.param(
            with_section('authz.".."', 'type = "none"'),
            'authz."..": must be a DNS-like audience',
            id="authz-audience-of-dots",
        ),
        pytest.param(
            'tenants = ["usr.example.org", "a/+/#"]\n' + MINIMAL,
            '"tenants[1]": must be a DNS-like audience',
            id="tenant-with-wildcards",
        ),
        pytest.param(
            with_section('authz."usr.example.org"', 'type = "local"\ntrusted = ["alice"]'),
            'authz."usr.example.org".trusted[0]: must be an account id',
            id="trusted-entry-without-audience",
        ),
        pytest.param(
            with_section(
                'authz."usr.example.org"',
                'type = "http"\nuri = "https://a/"\ntrusted = ["a.b", ".usr.example.org"]',
            ),
            'authz."usr.example.org".trusted[1]: must be an account id',
            id="http-trusted-entry-without-label",
        ),
        pytest.param(
            with_section(
                'authz."usr.example.org"',
                'type = "localwhitelist"\n'
                '[[authz."usr.example.org".records]]\n'
                'subject_account_id = "nodot"\nobject = ["classrooms"]\naction = "create"',
            ),
            'authz."usr.example.org".records[0].subject_account_id: must be an account id',
            id="whitelist-subject-without-audience",
        ),
        pytest.param(
            with_section('authz."usr.example.org"', 'type = "ldap"'),
            "authz.\"usr.example.org\".type: invalid value 'ldap'",
            id="unknown-authz-type",
        ),
        pytest.param(
            with_section(
                'tq_client.audience_settings."usr.example.org"',
                'preroll = "p"\npostroll = "q"\nwatermark = "w"\npreroll_offset = "soon"',
            ),
            'tq_client.audience_settings."usr.example.org".preroll_offset: expected an integer',
            id="bad-value-in-table-entry",
        ),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, text: str, expected: str) -> None:
    message = load_error(tmp_path, text)

    assert message.startswith(f"config file {tmp_path / 'App.toml'}: ")
    assert expected in message
    assert "\n" not in message


def test_bad_database_url_scheme_names_the_key_but_not_the_password(tmp_path: Path) -> None:
    text = MINIMAL.replace("sqlite:///minigroups.sqlite3", "mysql://root:hunter2@db/minigroups")

    message = load_error(tmp_path, text)

    assert '"database_url": must start with one of sqlite:///' in message
    assert "hunter2" not in message


def test_postgres_scheme_is_accepted(tmp_path: Path) -> None:
    text = MINIMAL.replace("sqlite:///minigroups.sqlite3", "postgres://db/minigroups")

    assert load_text(tmp_path, text).settings.database_url == "postgres://db/minigroups"


def test_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL.replace('agent_label = "alpha"', "agent_label = alpha"))

    assert "invalid TOML" in message
    assert "line 3" in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"

    with pytest.raises(ConfigError, match=r"nowhere\.toml: file not found"):
        load_settings(path, {})


def test_database_url_must_come_from_somewhere() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(REFERENCE_APP, {})

    assert str(caught.value).endswith(
        "database_url is not set: set DATABASE_URL or database_url in the config file"
    )


# --- the embedded default ---------------------------------------------------------------------


def test_embedded_settings_create_the_data_dir_and_a_private_secret(tmp_path: Path) -> None:
    data_dir = tmp_path / "data" / "minigroups"

    loaded = embedded_settings(data_dir, {})

    secret = data_dir / "dev-hs256.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    text = secret.read_text(encoding="ascii")
    assert len(text) == 64  # token_urlsafe(48)
    assert not text.endswith("\n")
    assert loaded.warnings == []
    assert sorted(path.name for path in data_dir.iterdir()) == ["dev-hs256.secret"]


def test_embedded_settings_keep_the_secret_on_later_starts(tmp_path: Path) -> None:
    embedded_settings(tmp_path, {})
    first = (tmp_path / "dev-hs256.secret").read_text(encoding="ascii")

    embedded_settings(tmp_path, {})

    assert (tmp_path / "dev-hs256.secret").read_text(encoding="ascii") == first


def test_embedded_settings_point_into_the_data_dir(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path, {}).settings

    secret = str(tmp_path / "dev-hs256.secret")
    assert settings.database_url == f"sqlite:///{tmp_path}/minigroups.sqlite3"
    assert settings.authn[DEV_ISSUER].key == secret
    assert settings.authn[DEV_ISSUER].audience == [DEV_AUDIENCE]
    assert settings.id_token is not None
    assert settings.id_token.key == secret
    assert settings.tenants == [DEV_AUDIENCE]
    assert settings.authz == {DEV_AUDIENCE: AuthzNoneSettings()}
    assert settings.upstream == "sandbox"
    assert settings.http.listener_address == "127.0.0.1:8080"


def test_embedded_settings_escape_odd_data_dir_names(tmp_path: Path) -> None:
    data_dir = tmp_path / 'a "quoted" \\ dir'

    settings = embedded_settings(data_dir, {}).settings

    assert settings.database_url == f"sqlite:///{data_dir}/minigroups.sqlite3"
    assert settings.authn[DEV_ISSUER].key == str(data_dir / "dev-hs256.secret")


def test_embedded_settings_take_env_overrides(tmp_path: Path) -> None:
    environ = {"APP_HTTP__LISTENER_ADDRESS": "0.0.0.0:9000", "DATABASE_URL": DATABASE_URL}

    settings = embedded_settings(tmp_path, environ).settings

    assert settings.http.listener_address == "0.0.0.0:9000"
    assert settings.database_url == DATABASE_URL


def test_default_data_dir() -> None:
    assert default_data_dir({}) == Path(".minigroups")
    assert default_data_dir({"MINIGROUPS_DATA_DIR": "/var/lib/minigroups"}) == Path(
        "/var/lib/minigroups"
    )


def test_the_embedded_default_is_toml_package_data() -> None:
    resource = files("minigroups.config").joinpath("default.toml")

    text = resource.read_text(encoding="utf-8")

    escaped = {"database_url": "sqlite:///x", "secret_path": "x"}
    assert tomllib.loads(string.Template(text).substitute(escaped))["upstream"] == "sandbox"


def test_authn_require_exp_defaults_to_false_and_can_be_set(tmp_path: Path) -> None:
    section = 'authn."iam.example.org"'
    lines = 'audience = ["usr.example.org"]\nalgorithm = "HS256"\nkey = "k"'
    loose = load_text(tmp_path, with_section(section, lines)).settings.authn["iam.example.org"]
    assert loose.require_exp is False
    strict_text = with_section(section, lines + "\nrequire_exp = true")
    strict = load_text(tmp_path, strict_text).settings.authn["iam.example.org"]
    assert strict.require_exp is True
    assert "require_exp" in load_error(
        tmp_path, with_section(section, lines + '\nrequire_exp = "yes"')
    )
