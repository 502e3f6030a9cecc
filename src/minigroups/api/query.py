"""Lenient query strings as front-ends write them by hand (D27, contract.md R1).

Only the parameters a route reads (`class_keys`, `account_keys`, `access_token`, the listing's)
are decoded; other parameters are ignored, empty pairs and trailing `&` are harmless, brackets
may be literal or percent-encoded.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from minigroups.domain.errors import InvalidQueryString


def _form_decode(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")


class QueryString:
    """The decoded pairs of a raw query string, parsed on first use."""

    __slots__ = ("_pairs", "_raw")

    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._pairs: list[tuple[str, bytes]] | None = None

    def _parsed(self) -> list[tuple[str, bytes]]:
        if self._pairs is None:
            pairs: list[tuple[str, bytes]] = []
            for chunk in self._raw.split(b"&"):
                if not chunk:
                    continue
                raw_key, _, raw_value = chunk.partition(b"=")
                try:
                    key = _form_decode(raw_key)
                except UnicodeDecodeError:
                    continue  # not one of ours: an unrelated parameter is ignored (D27)
                pairs.append((key, raw_value))
            self._pairs = pairs
        return self._pairs

    def first(self, name: str) -> str | None:
        """The first value of a plain parameter (e.g. `access_token`)."""
        for key, raw in self._parsed():
            if key == name:
                return self._value(key, raw)
        return None

    def values(self, name: str) -> list[str]:
        """Every value of a plain parameter, in order (`name=` gives an empty string)."""
        return [self._value(key, raw) for key, raw in self._parsed() if key == name]

    def keys(self, name: str) -> list[str] | None:
        """`name[]=a&name[]=b`, `name[0]=a`, or `name=a` as a list; None when absent."""
        plain: list[str] = []
        indexed: list[tuple[int, str]] = []
        seen = False
        for key, raw in self._parsed():
            if key == name:
                value = self._value(key, raw)
                if value:  # `name=` alone means "absent", as the reference
                    plain.append(value)
                    seen = True
            elif key.startswith(name + "["):
                index = self._index(key, name)
                value = self._value(key, raw)
                seen = True
                if index is None:
                    plain.append(value)
                else:
                    indexed.append((index, value))
        if not seen:
            return None
        return [value for _, value in sorted(indexed)] + plain

    @staticmethod
    def _index(key: str, name: str) -> int | None:
        inner = key[len(name) + 1 :]
        if inner == "]":
            return None
        if inner.endswith("]") and inner[:-1].isdigit():
            return int(inner[:-1])
        raise InvalidQueryString(f"Failed to parse qs: malformed parameter `{key}`")

    @staticmethod
    def _value(key: str, raw: bytes) -> str:
        try:
            return _form_decode(raw)
        except UnicodeDecodeError as exc:
            raise InvalidQueryString(f"Failed to parse qs: `{key}` is not valid UTF-8") from exc
