"""Reading a posted form (`application/x-www-form-urlencoded`, all the console's forms send)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request

MAX_FORM_BYTES = 16 * 1024  # a token and a CSRF token fit many times over


async def read_form(request: Request) -> dict[str, str]:
    """The fields of the posted form (the first value of each); 413 past `MAX_FORM_BYTES`.

    Another content type gives no fields, which every handler refuses (no CSRF token).
    """
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, "the form is too large")
    if content_type != "application/x-www-form-urlencoded":
        return {}
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(name, value)
    return fields
