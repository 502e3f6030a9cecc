"""What a route handler is given: the parsed path, the caller, the body and query on demand."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import unquote_to_bytes
from uuid import UUID

import msgspec
import msgspec.inspect
from starlette.types import Receive, Scope

from minigroups.api.guards import RequestLimits, json_too_deep
from minigroups.api.problems import PayloadTooLarge, RequestTimeout
from minigroups.api.query import QueryString
from minigroups.api.routing import UUID_PARAMS
from minigroups.domain.errors import InvalidParameter, InvalidPayload, InvalidQueryString
from minigroups.domain.ids import AccountId
from minigroups.domain.limits import contains_nul
from minigroups.ports import Action
from minigroups.services.access import Guard
from minigroups.services.context import Context

T = TypeVar("T")
S = TypeVar("S", bound=msgspec.Struct)


class RouteDeclarationError(RuntimeError):
    """A handler uses what its route declaration does not provide (a bug: 500, logged)."""


MAX_BODY_BYTES = 2 * 1024 * 1024  # the reference's JSON limit; over it is 413 (D23)


def decode_path_param(name: str, raw: str) -> str:
    """Percent-decode one path segment; `%2F` is a legal `/` inside a parameter, U+0000 is not."""
    try:
        value = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidParameter(f"Invalid URL: Invalid UTF-8 in `{name}`") from exc
    if "\x00" in value:
        raise InvalidParameter(f"Invalid URL: U+0000 in `{name}`")
    return value


def parse_ids(params: Mapping[str, str]) -> dict[str, UUID]:
    """The path's ids (`UUID_PARAMS`), parsed once for the whole request; a bad one is a 400."""
    return {name: parse_uuid(name, params[name]) for name in UUID_PARAMS.intersection(params)}


def parse_uuid(name: str, value: str) -> UUID:
    """Hyphenated, 32 hex digits, braced or `urn:uuid:` forms, as the reference accepts."""
    try:
        return UUID(value)
    except ValueError as exc:
        raise InvalidParameter(f"Invalid URL: `{name}` is not a UUID: {value!r}") from exc


def is_json_media_type(content_type: str | None) -> bool:
    """`application/json` or `application/<anything>+json`, parameters allowed."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


class Call:
    """One request as a handler sees it."""

    __slots__ = (
        "_body",
        "_body_type",
        "_ids",
        "_limits",
        "_query_type",
        "_receive",
        "_scope",
        "action",
        "caller",
        "ctx",
        "params",
        "query",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        *,
        ctx: Context,
        params: dict[str, str],
        ids: Mapping[str, UUID] | None = None,
        query: QueryString,
        caller: AccountId | None,
        action: Action | None,
        limits: RequestLimits | None = None,
        body_type: Any = None,
        query_type: type | None = None,
    ) -> None:
        self._scope = scope
        self._receive = receive
        self._limits = limits or RequestLimits()
        self._body_type = body_type  # as the route declares them (api/routing.py)
        self._query_type = query_type
        self._body: bytes | None = None
        self.ctx = ctx
        self.params = params
        self._ids = ids or {}
        self.query = query
        self.caller = caller
        self.action = action

    @property
    def account(self) -> AccountId:
        if self.caller is None:
            raise RouteDeclarationError("the route reads the caller but is not authenticated")
        return self.caller

    @property
    def guard(self) -> Guard:
        if self.action is None:
            raise RouteDeclarationError("the route authorizes but declares no action")
        return Guard(self.account, self.action)

    @property
    def minigroup_id(self) -> UUID:
        return self.id_param("id")

    def id_param(self, name: str) -> UUID:
        """A path id (`UUID_PARAMS`), as parsed and checked before authentication."""
        try:
            return self._ids[name]
        except KeyError:
            raise RouteDeclarationError(f"the route's path has no id `{name}`") from None

    async def body(self) -> bytes:
        if self._body is None:
            self._body = await read_body(
                self._scope, self._receive, within=self._limits.body_read_seconds
            )
        return self._body

    async def json(self, schema: type[T]) -> T:
        """The body decoded into the route's declared body type; unknown members are ignored.

        `Any` (any JSON value, checked by the handler) is allowed whatever body is declared.
        Nesting over `json_depth` is refused before decoding, U+0000 in any string after.
        """
        if self._body_type is None or (schema is not Any and schema != self._body_type):
            raise RouteDeclarationError(
                f"the route decodes its body as {schema!r} but declares {self._body_type!r}"
            )
        raw = await self._json_bytes()
        depth = self._limits.json_depth
        if json_too_deep(raw, depth):
            raise InvalidPayload(f"The JSON body nests arrays and objects over {depth} deep")
        try:
            decoded = msgspec.json.decode(raw, type=schema)
        except msgspec.ValidationError as exc:
            raise InvalidPayload(f"Failed to deserialize the JSON body: {exc}") from exc
        except (msgspec.DecodeError, RecursionError) as exc:
            raise InvalidPayload("Failed to parse the request body as JSON") from exc
        # U+0000 can only come as the escape `\u0000` (the decoder refuses a raw NUL).
        if b"\\u0000" in raw and contains_nul(msgspec.json.decode(raw)):
            raise InvalidPayload("JSON strings must not contain U+0000")
        return decoded

    async def optional_json(self, schema: type[T]) -> T | None:
        """Like `json`, but an empty body (with or without a content type) is None."""
        if not await self.body():
            return None
        return await self.json(schema)

    async def json_value(self) -> Any:
        """The body as any JSON value."""
        return await self.json(Any)

    def query_params(self, schema: type[S]) -> S:
        """The query parameters as the route's declared query Struct (fields by wire name).

        A list field collects a repeated parameter (`name[]=a&name[]=b`, D27); other fields
        take the first value. Values are converted leniently (`"10"` is an int); one that does
        not convert is `400 invalid_query_string`.
        """
        if schema is not self._query_type:
            raise RouteDeclarationError(
                f"the route reads its query as {schema!r} but declares {self._query_type!r}"
            )
        values: dict[str, Any] = {}
        for name, repeated in _query_fields(schema):
            value: Any = (
                self.query.keys(name.removesuffix("[]")) if repeated else self.query.first(name)
            )
            if value is not None:
                values[name] = value
        try:
            return msgspec.convert(values, schema, strict=False)
        except msgspec.ValidationError as exc:
            raise InvalidQueryString(f"Failed to parse qs: {exc}") from exc

    async def _json_bytes(self) -> bytes:
        if not is_json_media_type(header(self._scope, b"content-type")):
            raise InvalidPayload("Expected request with `Content-Type: application/json`")
        return await self.body()


@functools.cache
def _query_fields(schema: type[msgspec.Struct]) -> tuple[tuple[str, bool], ...]:
    """A query Struct's wire names, each with whether it collects repeated values. Inspecting a
    Struct resolves its annotations, which costs more than the rest of a read (issue 12): once."""
    return tuple(
        (field.encode_name, _is_list(field.type)) for field in msgspec.structs.fields(schema)
    )


def _is_list(annotation: Any) -> bool:
    """Whether a query field collects repeated values (a list, maybe optional)."""
    info = msgspec.inspect.type_info(annotation)
    if isinstance(info, msgspec.inspect.UnionType):
        return any(isinstance(t, msgspec.inspect.ListType) for t in info.types)
    return isinstance(info, msgspec.inspect.ListType)


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (names are lower-case bytes in ASGI)."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def read_body(scope: Scope, receive: Receive, *, within: float | None = None) -> bytes:
    """The whole body, refusing more than MAX_BODY_BYTES without buffering it.

    A body that does not arrive `within` seconds is 408; one cut short by the client's
    disconnect is 400, never used as if it were complete.
    """
    declared = header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is over {MAX_BODY_BYTES} bytes")
    try:
        async with asyncio.timeout(within):
            return await _receive_body(receive)
    except TimeoutError as exc:
        raise RequestTimeout(f"The request body did not arrive within {within} s") from exc


async def _receive_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidPayload("The request body was cut short: the client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The request body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
