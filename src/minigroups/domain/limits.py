"""Bounds on what a caller may store or forward: property maps, tags, events, scopes (issue 8).

Sizes are measured as compact JSON in UTF-8, the form the value is stored and sent in. A write
over a limit is refused before anything changes (the use case checks before it writes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

from minigroups.domain.errors import (
    EventTooLarge,
    InvalidPropertyKey,
    PropertiesTooLarge,
    PropertyKeyTooLong,
    PropertyValueTooLarge,
    ScopeTooLong,
    TagsTooLarge,
    TooManyProperties,
)
from minigroups.domain.json_value import JsonValue

KIB = 1024


def json_size(value: JsonValue) -> int:
    """Bytes of `value` as compact UTF-8 JSON."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return len(text.encode("utf-8"))


@dataclass(frozen=True)
class Limits:
    """The `[limits]` of what is stored; the defaults are the documented safe ones."""

    property_value_bytes: int = 64 * KIB
    property_keys: int = 256
    property_map_bytes: int = 1024 * KIB
    property_key_length: int = 128
    property_key_pattern: str = "[A-Za-z0-9_.:-]+"
    tags_bytes: int = 64 * KIB
    event_bytes: int = 64 * KIB
    scope_bytes: int = 1024

    @classmethod
    def picked(cls, values: Mapping[str, Any]) -> Limits:
        """The limits named in `values` (other keys ignored), the defaults for the rest."""
        return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})

    @cached_property
    def _key_pattern(self) -> re.Pattern[str]:
        return re.compile(self.property_key_pattern)

    def check_property_key(self, key: str) -> None:
        if len(key) > self.property_key_length:
            raise PropertyKeyTooLong(
                f"A property key is at most {self.property_key_length} characters"
            )
        if self._key_pattern.fullmatch(key) is None:
            raise InvalidPropertyKey(
                f"A property key must match {self.property_key_pattern}, got {key!r}"
            )

    def check_property_value(self, value: JsonValue) -> None:
        if json_size(value) > self.property_value_bytes:
            raise PropertyValueTooLarge(
                f"A property value is at most {self.property_value_bytes} bytes of JSON"
            )

    def check_property_map(self, properties: Mapping[str, JsonValue]) -> None:
        """The map as it would be stored: key count and total size."""
        if len(properties) > self.property_keys:
            raise TooManyProperties(f"A property map holds at most {self.property_keys} keys")
        if json_size(dict(properties)) > self.property_map_bytes:
            raise PropertiesTooLarge(
                f"A property map is at most {self.property_map_bytes} bytes of JSON"
            )

    def check_properties(self, properties: Mapping[str, JsonValue]) -> None:
        """A whole new map (the `properties` of a create): every key, every value, the map."""
        for key, value in properties.items():
            self.check_property_key(key)
            self.check_property_value(value)
        self.check_property_map(properties)

    def check_tags(self, tags: JsonValue) -> None:
        if json_size(tags) > self.tags_bytes:
            raise TagsTooLarge(f"`tags` is at most {self.tags_bytes} bytes of JSON")

    def check_event(self, event: JsonValue) -> None:
        if json_size(event) > self.event_bytes:
            raise EventTooLarge(f"An event is at most {self.event_bytes} bytes of JSON")

    def check_scope(self, scope: str) -> None:
        if len(scope.encode("utf-8")) > self.scope_bytes:
            raise ScopeTooLong(f"`scope` is at most {self.scope_bytes} bytes")


def contains_nul(value: JsonValue) -> bool:
    """Whether any string of a decoded JSON value (keys included) holds U+0000.

    PostgreSQL stores no NUL in text or jsonb; callers refuse such values up front.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
