"""Request-level bounds checked before any work: header sizes, JSON nesting, body read time.

The values come from `[limits]` (docs/decisions.md); the defaults here are the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from minigroups.api.problems import HeadersTooLarge

KIB = 1024

# A JSON string from its opening quote to its closing one, or to the end of an unterminated one:
# it matches wherever a quote starts, so a scan is linear whatever the input (possessive, 3.11).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")


@dataclass(frozen=True, slots=True)
class RequestLimits:
    header_bytes: int = 16 * KIB  # all headers: names and values
    header_field_bytes: int = 8 * KIB  # one header: name and value
    json_depth: int = 64  # nesting of arrays and objects
    body_read_seconds: float = 30.0  # to receive the whole body

    @classmethod
    def picked(cls, values: Mapping[str, Any]) -> RequestLimits:
        """The limits named in `values` (other keys ignored), the defaults for the rest."""
        return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})


def check_headers(headers: Iterable[tuple[bytes, bytes]], limits: RequestLimits) -> None:
    """431 for one header over `header_field_bytes` or all of them over `header_bytes`."""
    total = 0
    for name, value in headers:
        size = len(name) + len(value)
        if size > limits.header_field_bytes:
            shown = bytes(name[:64]).decode("latin-1")
            raise HeadersTooLarge(f"The header {shown!r} is over {limits.header_field_bytes} bytes")
        total += size
    if total > limits.header_bytes:
        raise HeadersTooLarge(f"The request headers are over {limits.header_bytes} bytes")


def json_too_deep(raw: bytes, limit: int) -> bool:
    """Whether the arrays and objects of a JSON text nest more than `limit` deep.

    Checked on the bytes, before the decoder recurses: strings are dropped, then each pass
    removes the innermost empty pairs, one nesting level per pass. Text that does not balance
    counts as too deep once more than `limit` brackets are left (the decoder refuses it anyway).
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:  # cannot nest deeper than it opens
        return False
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        reduced = _EMPTY_PAIR.sub(b"", brackets)
        if not reduced:
            return False
        if reduced == brackets:
            return True
        brackets = reduced
    return True
