"""Loads `Settings` from a TOML file (the reference's App.toml format) and `APP_*` variables.

A reference configuration loads unchanged: keys it defines that minigroups does not use are accepted
with a warning, and numbers written as strings (`timeout = "5"`) are read as numbers.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import msgspec

from minigroups.config_env import (
    DATABASE_URL_VARIABLE,
    apply_database_url,
    apply_overrides,
    find_overrides,
)
from minigroups.config_schema import (
    KeyPath,
    SettingsProblem,
    check_booleans,
    key_problem,
    show_key,
    translate_validation_error,
)
from minigroups.domain.ids import AccountId
from minigroups.settings import (
    AuthzHttpSettings,
    PeerClientSettings,
    Settings,
    TqClientSettings,
)

DEV_ISSUER = "minigroups.local"
DEV_AUDIENCE = "usr.minigroups.local"
DATA_DIR_VARIABLE = "MINIGROUPS_DATA_DIR"
DEV_SECRET_FILE = "dev-hs256.secret"  # noqa: S105 - a file name, not the secret
DATABASE_FILE = "minigroups.sqlite3"

# What `minigroups serve` runs without `--config`: everything local, upstream in-process.
EMBEDDED_CONFIG = string.Template("""\
id = "dispatcher.svc.minigroups.local"
agent_label = "local"
tenants = ["usr.minigroups.local"]
turn_hosts = ["turn.minigroups.local"]
database_url = $database_url
upstream = "sandbox"

[http]
listener_address = "127.0.0.1:8080"

[authn."minigroups.local"]
audience = ["usr.minigroups.local"]
algorithm = "HS256"
key = $secret_path

[authz."usr.minigroups.local"]
type = "none"

[storage]
base_url = "https://storage.minigroups.local"

[event_client]
account_id = "event.svc.minigroups.local"

[conference_client]
account_id = "conference.svc.minigroups.local"

[tq_client]
base_url = "http://tq.minigroups.local/"
account_id = "tq.svc.minigroups.local"

[id_token]
algorithm = "HS256"
key = $secret_path
""")

# Reference keys minigroups reads and drops (upstream.md §9), with the reason given in the warning.
IGNORED_KEYS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("broker_id",), "the reference reads it but does not use it"),
    (("retry_delay",), "it delays the reference's authz proxy, which minigroups does not have"),
    (("sentry",), "error reporting is not built in"),
    (("frontend",), "minigroups serves no redirects"),
    (("mqtt", "keep_alive"), "written by the reference's helm chart; keep_alive_interval is read"),
)
_DATABASE_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")

logger = logging.getLogger(__name__)


class ConfigError(Exception):
    """The configuration cannot be used; the one-line message names the source and the key."""


@dataclass(frozen=True, slots=True)
class LoadedSettings:
    """The settings and the warnings about keys that were accepted but ignored."""

    settings: Settings
    warnings: list[str]


def load_settings(path: Path, environ: Mapping[str, str]) -> LoadedSettings:
    """Read `path` (TOML), apply `APP_*` and `DATABASE_URL` from `environ`, validate."""
    source = f"config file {path}"
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text: {exc.reason}") from None
    return _load_text(text, source, environ)


def embedded_settings(data_dir: Path, environ: Mapping[str, str]) -> LoadedSettings:
    """The local development configuration, kept in `data_dir` (created, with an HS256 secret)."""
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        secret_path = _ensure_dev_secret(data_dir / DEV_SECRET_FILE)
    except OSError as exc:
        raise ConfigError(f"data directory {data_dir}: {exc.strerror or exc}") from None
    text = EMBEDDED_CONFIG.substitute(
        database_url=_toml_string(f"sqlite:///{data_dir / DATABASE_FILE}"),
        secret_path=_toml_string(str(secret_path)),
    )
    return _load_text(text, "embedded default config", environ)


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """`$MINIGROUPS_DATA_DIR`, else `.minigroups` in the working directory."""
    return Path(environ.get(DATA_DIR_VARIABLE) or ".minigroups")


def _load_text(text: str, source: str, environ: Mapping[str, str]) -> LoadedSettings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    origins: dict[KeyPath, str] = {}
    env_warnings: list[str] = []
    try:
        origins.update(apply_overrides(data, find_overrides(environ), Settings, env_warnings))
        if (database_key := apply_database_url(data, environ)) is not None:
            origins[database_key] = DATABASE_URL_VARIABLE
        warnings = _remove_ignored(data, source, origins) + env_warnings
        _require_database_url(data)
        settings = _convert(data)
        _check_values(settings)
    except SettingsProblem as problem:
        raise ConfigError(f"{source}: {problem.message}{_origin(problem.path, origins)}") from None
    return LoadedSettings(settings, warnings)


def _remove_ignored(data: dict[str, object], source: str, origins: dict[KeyPath, str]) -> list[str]:
    warnings = []
    for path, reason in IGNORED_KEYS:
        table: object = data
        for key in path[:-1]:
            table = table.get(key) if isinstance(table, dict) else None
        if isinstance(table, dict) and path[-1] in table:
            del table[path[-1]]
            warning = f"{source}: {show_key(path)} is ignored: {reason}{_origin(path, origins)}"
            logger.warning("%s", warning)
            warnings.append(warning)
    return warnings


def _require_database_url(data: dict[str, object]) -> None:
    if "database_url" not in data:
        raise SettingsProblem(
            ("database_url",),
            "database_url is not set: set DATABASE_URL or database_url in the config file",
        )


def _origin(path: KeyPath, origins: dict[KeyPath, str]) -> str:
    """` (from APP_HTTP__FOO)` when an environment variable set the key or a table above it."""
    for depth in range(len(path), 0, -1):
        if (variable := origins.get(path[:depth])) is not None:
            return f" (from environment variable {variable})"
    return ""


def _convert(data: dict[str, object]) -> Settings:
    try:
        settings = msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise translate_validation_error(exc, data, Settings) from None
    check_booleans(data, Settings)
    return settings


def _check_values(settings: Settings) -> None:
    """What the types cannot say (upstream.md §9: e.g. start-up fails on empty turn_hosts)."""
    _check_account_id(("id",), settings.id)
    if not settings.agent_label or "." in settings.agent_label:
        raise key_problem(("agent_label",), "must be non-empty and contain no dot")
    if not settings.turn_hosts:
        raise key_problem(("turn_hosts",), "must not be empty")
    _check_non_empty_strings(("turn_hosts",), settings.turn_hosts)
    _check_non_empty_strings(("tenants",), settings.tenants)
    if not settings.database_url.startswith(_DATABASE_SCHEMES):
        # The URL may carry a password: name the key, never echo the value.
        schemes = ", ".join(_DATABASE_SCHEMES)
        raise key_problem(("database_url",), f"must start with one of {schemes}")
    clients: dict[str, PeerClientSettings | TqClientSettings] = {
        "event_client": settings.event_client,
        "conference_client": settings.conference_client,
        "tq_client": settings.tq_client,
    }
    for name, client in clients.items():
        _check_account_id((name, "account_id"), client.account_id)
        _check_timeout((name, "timeout"), client.timeout)
    for audience, authz in settings.authz.items():
        if isinstance(authz, AuthzHttpSettings):
            _check_http_authz(("authz", audience), authz)


def _check_http_authz(path: KeyPath, authz: AuthzHttpSettings) -> None:
    if not authz.uri:
        raise key_problem((*path, "uri"), "an http authz needs a uri")
    _check_timeout((*path, "timeout"), authz.timeout)
    if authz.max_retries < 1:
        raise key_problem((*path, "max_retries"), "must be at least 1")


def _check_account_id(path: KeyPath, value: str) -> None:
    try:
        AccountId.parse(value)
    except ValueError:
        detail = f"must be an account id <label>.<audience>, got {value!r}"
        raise key_problem(path, detail) from None


def _check_non_empty_strings(path: KeyPath, values: list[str]) -> None:
    for index, value in enumerate(values):
        if not value:
            raise key_problem((*path, index), "must not be an empty string")


def _check_timeout(path: KeyPath, seconds: float) -> None:
    if not (math.isfinite(seconds) and seconds > 0):
        raise key_problem(path, "must be a number of seconds > 0")


def _ensure_dev_secret(path: Path) -> Path:
    """Generate the development HS256 secret once; later starts keep it (tokens stay valid)."""
    if path.is_file() and path.stat().st_size > 0:
        return path
    # Written beside and renamed, so a crash never leaves an empty secret behind.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secrets.token_urlsafe(48))
    temporary.replace(path)
    return path


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'
