"""Loads `Settings` from a TOML file (the reference's App.toml format) and `APP_*` variables.

A reference configuration loads unchanged: keys it defines that minigroups does not use are accepted
with a warning, and numbers written as strings (`timeout = "5"`) are read as numbers.
"""

from __future__ import annotations

import logging
import os
import secrets
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import msgspec

from minigroups.config.checks import check_values
from minigroups.config.environment import (
    DATABASE_URL_VARIABLE,
    apply_database_pool,
    apply_database_url,
    apply_overrides,
    find_overrides,
)
from minigroups.config.errors import ConfigError
from minigroups.config.schema import (
    KeyPath,
    SettingsProblem,
    check_booleans,
    show_key,
    translate_validation_error,
)
from minigroups.config.settings import Settings

DEV_ISSUER = "minigroups.local"
DEV_AUDIENCE = "usr.minigroups.local"
DATA_DIR_VARIABLE = "MINIGROUPS_DATA_DIR"
DEV_SECRET_FILE = "dev-hs256.secret"  # noqa: S105 - a file name, not the secret
DATABASE_FILE = "minigroups.sqlite3"

# What `minigroups serve` runs without `--config`, a `string.Template` filled in from the data dir.
EMBEDDED_CONFIG_FILE = "default.toml"

# Reference keys minigroups reads and drops (upstream §9), with the reason given in the warning.
IGNORED_KEYS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("broker_id",), "the reference reads it but does not use it"),
    (("retry_delay",), "it delays the reference's authz proxy, which minigroups does not have"),
    (("sentry",), "error reporting is not built in"),
    (("frontend",), "minigroups serves no redirects"),
    (("mqtt", "keep_alive"), "written by the reference's helm chart; keep_alive_interval is read"),
)

logger = logging.getLogger("minigroups.config")  # the name it has always logged under


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
    text = embedded_config().substitute(
        database_url=_toml_escape(f"sqlite:///{data_dir / DATABASE_FILE}"),
        secret_path=_toml_escape(str(secret_path)),
    )
    return _load_text(text, "embedded default config", environ)


def embedded_config() -> string.Template:
    """The embedded default App.toml (package data), `$database_url` and `$secret_path` open."""
    resource = files("minigroups.config").joinpath(EMBEDDED_CONFIG_FILE)
    return string.Template(resource.read_text(encoding="utf-8"))


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
        origins.update(apply_database_pool(data, environ))
        warnings = _remove_ignored(data, source, origins) + env_warnings
        _require_database_url(data)
        settings = _convert(data)
        check_values(settings)
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


def _toml_escape(text: str) -> str:
    """The inside of a TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return "".join(escaped)
