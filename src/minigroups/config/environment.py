"""Environment overrides of configuration keys, `APP_<SECTION>__<KEY>=value` as in the reference.

`APP_EVENT_CLIENT__TIMEOUT=2` sets `event_client.timeout`: the name is lower-cased and `__`
separates levels. The value is read as a TOML value when it is one (`5`, `true`, `["a", "b"]`,
`"x"`), else taken as a plain string.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass

from minigroups.config.schema import KeyPath, SettingsProblem, declares, expects_text, show_key

ENV_PREFIX = "APP_"
ENV_SEPARATOR = "__"
DATABASE_URL_VARIABLE = "DATABASE_URL"
# The reference's pool variables and the `[database]` keys they set (issue 12).
DATABASE_POOL_VARIABLES = {
    "DATABASE_POOL_SIZE": "pool_size",
    "DATABASE_POOL_IDLE_SIZE": "pool_idle_size",
    "DATABASE_POOL_TIMEOUT": "pool_timeout",
    "DATABASE_POOL_MAX_LIFETIME": "pool_max_lifetime",
}


@dataclass(frozen=True, slots=True)
class EnvOverride:
    """One `APP_*` variable: the key path it sets and its raw text."""

    variable: str
    path: tuple[str, ...]
    text: str


def find_overrides(environ: Mapping[str, str]) -> list[EnvOverride]:
    """Every `APP_*` variable, tables before the keys inside them so the deeper one wins."""
    overrides = []
    for variable, text in environ.items():
        if not variable.startswith(ENV_PREFIX):
            continue
        path = tuple(variable[len(ENV_PREFIX) :].lower().split(ENV_SEPARATOR))
        if not all(path):
            raise SettingsProblem(
                (), f"environment variable {variable}: empty key name between separators"
            )
        overrides.append(EnvOverride(variable, path, text))
    return sorted(overrides, key=lambda override: (len(override.path), override.variable))


def apply_overrides(
    data: dict[str, object], overrides: list[EnvOverride], root: object, warnings: list[str]
) -> dict[KeyPath, str]:
    """Write the overrides into `data`; returns which variable set which key path.

    A variable whose first key is no top-level key of ours (`APP_PORT`, `APP_SERVICE_HOST` that
    an orchestrator injects for a service named "app") is ignored with a warning; a variable
    naming an unknown key inside one of our sections is still an error.
    """
    sources: dict[KeyPath, str] = {}
    for override in overrides:
        if not declares(root, data, override.path[:1]):
            warnings.append(f"environment variable {override.variable} is not ours: ignored")
            continue
        table = _parent_table(data, override)
        value = parse_value(override.text)
        if not isinstance(value, str) and expects_text(root, data, override.path):
            value = override.text  # APP_AGENT_LABEL=7 means the label "7"
        table[override.path[-1]] = value
        sources[override.path] = override.variable
    return sources


def apply_database_url(data: dict[str, object], environ: Mapping[str, str]) -> KeyPath | None:
    """The reference takes the database only from `DATABASE_URL`; it wins over the file."""
    url = environ.get(DATABASE_URL_VARIABLE)
    if not url:
        return None
    data["database_url"] = url
    return ("database_url",)


def apply_database_pool(data: dict[str, object], environ: Mapping[str, str]) -> dict[KeyPath, str]:
    """The reference's `DATABASE_POOL_*` variables, into `[database]`; they win over the file
    (as `DATABASE_URL` does) and over `APP_DATABASE__*`. Returns which variable set which key."""
    sources: dict[KeyPath, str] = {}
    for variable, key in DATABASE_POOL_VARIABLES.items():
        text = environ.get(variable)
        if not text:
            continue
        table = data.setdefault("database", {})
        if not isinstance(table, dict):
            raise SettingsProblem(("database",), f"environment variable {variable}: not a table")
        table[key] = parse_value(text)
        sources[("database", key)] = variable
    return sources


def parse_value(text: str) -> object:
    """A TOML value if `text` is exactly one, else the text itself."""
    try:
        document = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return text
    if list(document) != ["value"]:
        return text  # `1\n[x]` is more than one value: not ours to interpret
    return document["value"]


def _parent_table(data: dict[str, object], override: EnvOverride) -> dict[str, object]:
    table = data
    for depth, key in enumerate(override.path[:-1]):
        child = table.setdefault(key, {})
        if not isinstance(child, dict):
            parent = override.path[: depth + 1]
            detail = f"{show_key(parent)} is not a table"
            raise SettingsProblem(parent, f"environment variable {override.variable}: {detail}")
        table = child
    return table
