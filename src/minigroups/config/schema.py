"""What the loader knows about the `Settings` shape: key paths, msgspec errors made readable.

`loader.py` adds where the problem came from (file or environment variable).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import msgspec

KeyPath = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_MSGSPEC_PATH = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_MSGSPEC_MESSAGE = re.compile(r"(?P<text>.*?)(?: - at `\$(?P<path>[^`]*)`)?")
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(?P<name>[^`]+)`")
_MISSING_FIELD = re.compile(r"Object missing required field `(?P<name>[^`]+)`")
_WRONG_TYPE = re.compile(r"Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`(?P<rest>.*)")
_TYPE_NAMES = {
    "float": "a number",
    "int": "an integer",
    "bool": "a boolean",
    "str": "a string",
    "array": "an array",
    "object": "a table",
    "datetime": "a date-time",
    "date": "a date",
    "time": "a time",
}
_VALUE_KINDS: tuple[tuple[type[Any], str], ...] = (
    (bool, "a boolean"),  # before int: a bool is an int
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
)
_ANY_KEY = "[...]"


class SettingsProblem(Exception):
    """One key of the merged configuration is wrong; `path` names it, `message` says why."""

    def __init__(self, path: KeyPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def dotted(path: KeyPath) -> str:
    """`authz."usr.example.org".records[0]`: TOML's own spelling of a key path."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        name = part if _BARE_KEY.fullmatch(part) else f'"{part}"'
        text += f".{name}" if text else name
    return text


def show_key(path: KeyPath) -> str:
    """The key path for a message: `"http.foo"`, or `authz."usr.example.org".uri` (own quotes)."""
    text = dotted(path)
    return text if '"' in text else f'"{text}"'


def key_problem(path: KeyPath, detail: str) -> SettingsProblem:
    """A problem with the value at `path`: `"event_client.timeout": must be > 0`."""
    return SettingsProblem(path, f"{show_key(path)}: {detail}")


def child_type(tp: object, key: str | int, node: object) -> object | None:
    """The declared type of `node[key]` when `node` has the declared type `tp`; None if unknown."""
    tp = _without_none(tp)
    origin = get_origin(tp)
    if origin is dict:
        return typing.cast(object, get_args(tp)[1])
    if origin is list:
        return typing.cast(object, get_args(tp)[0])
    if origin in (Union, types.UnionType):
        member = _tagged_member(tp, node)
        return None if member is None else child_type(member, key, node)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct) and isinstance(key, str):
        hints: dict[str, object] = get_type_hints(tp)
        return hints.get(key)
    return None


def declares(root: object, data: object, path: KeyPath) -> bool:
    """Whether the settings shape has a key at `path` (tables keyed by name accept any key)."""
    tp: object | None = root
    node = data
    for key in path:
        tp = child_type(tp, key, node)
        if tp is None:
            return False
        node = node.get(key) if isinstance(node, dict) else None
    return True


def expects_text(root: object, data: object, path: KeyPath) -> bool:
    """Whether the key at `path` is declared as a string (or a choice of strings)."""
    tp: object | None = root
    node = data
    for key in path:
        tp = child_type(tp, key, node)
        if tp is None:
            return False
        node = node.get(key) if isinstance(node, dict) else None
    tp = _without_none(tp)
    if get_origin(tp) is Literal:
        return all(isinstance(choice, str) for choice in get_args(tp))
    return tp is str


def check_booleans(node: object, tp: object, path: KeyPath = ()) -> None:
    """Reject `1` or `"true"` for a boolean key: msgspec's lax mode would take them."""
    tp = _without_none(tp)
    if tp is bool:
        if not isinstance(node, bool):
            raise key_problem(path, f"expected a boolean, got {_describe(node)}")
        return
    items: Iterable[tuple[str | int, object]]
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        declared = child_type(tp, key, node)
        if declared is not None:
            check_booleans(value, declared, (*path, key))


def translate_validation_error(
    error: msgspec.ValidationError, data: object, root: object
) -> SettingsProblem:
    """Turn `Expected `float`, got `bool` - at `$.event_client.timeout`` into our wording."""
    match = _MSGSPEC_MESSAGE.fullmatch(str(error))
    text = match["text"] if match else str(error)
    path = _name_any_keys(_split_msgspec_path(match["path"] if match else None), data, root)
    if unknown := _UNKNOWN_FIELD.fullmatch(text):
        full = (*path, unknown["name"])
        return SettingsProblem(full, f"unknown key {show_key(full)}")
    if missing := _MISSING_FIELD.fullmatch(text):
        full = (*path, missing["name"])
        return SettingsProblem(full, f"missing required key {show_key(full)}")
    if wrong := _WRONG_TYPE.fullmatch(text):
        want = _TYPE_NAMES.get(wrong["want"], f"`{wrong['want']}`")
        got = _TYPE_NAMES.get(wrong["got"], f"`{wrong['got']}`")
        return key_problem(path, f"expected {want}, got {got}{wrong['rest']}")
    return key_problem(path, text[:1].lower() + text[1:])


def _split_msgspec_path(text: str | None) -> list[str | int]:
    parts: list[str | int] = []
    for name, index in _MSGSPEC_PATH.findall(text or ""):
        if name:
            parts.append(name)
        else:
            parts.append(_ANY_KEY if index == "..." else int(index))
    return parts


def _name_any_keys(parts: list[str | int], data: object, root: object) -> KeyPath:
    """msgspec writes a table key as `[...]`: find the entry that fails to convert."""
    named: list[str | int] = []
    tp: object | None = root
    node = data
    for part in parts:
        key = part
        if part == _ANY_KEY and isinstance(node, dict):
            key = _first_invalid_key(node, child_type(tp, part, node))
        tp = None if tp is None else child_type(tp, key, node)
        node = _child_value(node, key)
        named.append(key)
    return tuple(named)


def _first_invalid_key(table: dict[str, object], value_type: object | None) -> str:
    if value_type is None:
        return _ANY_KEY
    for key, value in table.items():
        try:
            msgspec.convert(value, value_type, strict=False)
        except msgspec.ValidationError:
            return key
    return _ANY_KEY


def _child_value(node: object, key: str | int) -> object:
    if isinstance(node, dict):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return node[key]
    return None


def _without_none(tp: object) -> object:
    if get_origin(tp) in (Union, types.UnionType):
        members = [member for member in get_args(tp) if member is not types.NoneType]
        if len(members) == 1:
            return members[0]
    return tp


def _tagged_member(union: object, node: object) -> type[msgspec.Struct] | None:
    if not isinstance(node, dict):
        return None
    for member in get_args(union):
        if isinstance(member, type) and issubclass(member, msgspec.Struct):
            config = member.__struct_config__
            if config.tag_field is not None and node.get(config.tag_field) == config.tag:
                return member
    return None


def _describe(value: object) -> str:
    for kind, name in _VALUE_KINDS:
        if isinstance(value, kind):
            return name
    return f"`{type(value).__name__}`"
