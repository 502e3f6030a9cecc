"""GET /api/v1/audiences/{audience}/minigroups: an audience's minigroups, page by page (ours)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from starlette.responses import Response

from minigroups.api.call import Call
from minigroups.api.query import QueryString
from minigroups.api.representations import ReadObject, json_response, read_object
from minigroups.api.routing import RouteTable
from minigroups.domain import errors as e
from minigroups.domain.errors import InvalidQueryString
from minigroups.domain.listing import ListingFilter
from minigroups.domain.minigroup import Status
from minigroups.domain.timerange import from_unix
from minigroups.services import listing

LISTING = "/api/v1/audiences/{audience}/minigroups"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100

StatusName = Literal["real-time", "closed", "finished", "adjusted", "transcoded"]
# Unix seconds of years 1..9999, as a time range's bounds (D7).
UnixSeconds = Annotated[int, msgspec.Meta(ge=-62_135_596_800, le=253_402_300_799)]
PageSize = Annotated[int, msgspec.Meta(ge=1, le=MAX_LIMIT)]
SINGLE = ("from", "to", "scope_prefix", "limit", "cursor")


class ListingQuery(msgspec.Struct, frozen=True):
    """The query string; every member is optional and they combine (all must hold).

    `status` may repeat (`status=closed&status=finished`, or `status[]=...`): any of them.
    `from`/`to`: the minigroup's window overlaps `[from, to)` (unbounded ends overlap all).
    `scope_prefix`: the scope starts with it (case-sensitive). `cursor`: the `next_cursor` of
    the previous page, with the same filters. An empty value is the same as none.
    """

    status: list[StatusName] | None = None
    from_: UnixSeconds | None = msgspec.field(default=None, name="from")
    to: UnixSeconds | None = None
    scope_prefix: str | None = None
    limit: PageSize = DEFAULT_LIMIT
    cursor: str | None = None

    def to_request(self, audience: str) -> listing.ListMinigroups:
        statuses = None if self.status is None else [Status(name) for name in self.status]
        listing_filter = ListingFilter.build(
            statuses,
            None if self.from_ is None else from_unix(self.from_),
            None if self.to is None else from_unix(self.to),
            self.scope_prefix,
        )
        return listing.ListMinigroups(audience, listing_filter, self.limit, self.cursor)


class ListingPage(msgspec.Struct, frozen=True):
    """`items`: read objects as R1 answers them (no property keys, so `properties` are `{}`);
    `next_cursor`: null on the last page."""

    items: list[ReadObject]
    next_cursor: str | None


def parse_listing_query(query: QueryString) -> ListingQuery:
    """The query string as a ListingQuery; 400 `invalid_query_string` for what does not fit."""
    raw: dict[str, Any] = {}
    statuses = query.keys("status")
    if statuses is not None:
        raw["status"] = statuses
    for name in SINGLE:
        values = [value for value in query.values(name) if value]
        if len(values) > 1:
            raise InvalidQueryString(f"Failed to parse qs: `{name}` is given more than once")
        if values:
            raw[name] = values[0]
    if any("\x00" in value for value in raw.values() if isinstance(value, str)):
        raise InvalidQueryString("Failed to parse qs: U+0000 in a value")
    try:
        return msgspec.convert(raw, ListingQuery, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidQueryString(f"Failed to parse qs: {exc}") from exc


def register(table: RouteTable) -> None:
    @table.route(
        "GET",
        LISTING,
        action="list",
        summary="List an audience's minigroups by their start, with filters and a cursor",
        query=ListingQuery,
        responses={200: ListingPage},
        problems=(e.InvalidCursor,),
    )
    async def list_minigroups(call: Call) -> Response:
        request = parse_listing_query(call.query).to_request(call.params["audience"])
        page = await listing.list_minigroups(call.ctx, call.guard, request)
        items = [read_object(view) for view in page.items]
        return json_response(ListingPage(items, page.next_cursor))
