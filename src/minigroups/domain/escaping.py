"""Data placed inside a URL path or an MQTT topic stays one segment: percent-encoding (issue 8).

A scope or an audience comes from callers. Put raw into `.../audiences/<audience>/tasks/<task id>`
it could add segments (`/`), climb out of its place (`..`), end the path (`?`, `#`) or, in an MQTT
topic, add levels (`/`) and wildcards (`+`, `#`). Every such piece goes through `segment` first.
"""

from __future__ import annotations

from urllib.parse import quote

# RFC 3986 unreserved characters are the only ones kept (`quote` always keeps them); every other
# byte of the UTF-8 text, `%` included, becomes `%XX` (upper-case hex), so the encoding is
# injective. Lone surrogates (never produced by our JSON decoder) are encoded, not an error.
_UNRESERVED_ONLY = ""


def segment(text: str) -> str:
    """`text` as exactly one path segment or topic level.

    Only ASCII letters, digits and `-._~` stay; a DNS-like name (`usr.example.org`) or a plain
    scope (`lesson-42`) is therefore unchanged. A segment of dots alone (`.`, `..`) also has its
    dots encoded, so that no URL resolution of ours treats it as a dot segment.
    """
    encoded = quote(text, safe=_UNRESERVED_ONLY, encoding="utf-8", errors="surrogatepass")
    if encoded and encoded.strip(".") == "":
        return "%2E" * len(encoded)
    return encoded
