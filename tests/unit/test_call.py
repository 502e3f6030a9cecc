"""A route that reads what its declaration does not provide fails loudly, also under `python -O`."""

from __future__ import annotations

from typing import Any, cast

import msgspec
import pytest
from starlette.types import Message

from minigroups.api.call import Call, RouteDeclarationError
from minigroups.api.query import QueryString
from minigroups.domain.errors import InvalidQueryString
from minigroups.domain.ids import AccountId
from minigroups.services.context import Context


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _call(*, caller: AccountId | None, action: str | None) -> Call:
    return Call(
        {"type": "http"},
        _receive,
        ctx=cast(Context, None),  # never touched by these properties
        params={},
        query=QueryString(b""),
        caller=caller,
        action=action,  # type: ignore[arg-type]
    )


def test_an_unauthenticated_route_has_no_account() -> None:
    with pytest.raises(RouteDeclarationError, match="not authenticated"):
        _ = _call(caller=None, action="read").account


def test_a_route_without_an_action_has_no_guard() -> None:
    caller = AccountId.parse("user1.usr.example.org")
    with pytest.raises(RouteDeclarationError, match="declares no action"):
        _ = _call(caller=caller, action=None).guard


def test_a_declared_route_has_its_guard() -> None:
    caller = AccountId.parse("user1.usr.example.org")
    guard = _call(caller=caller, action="read").guard
    assert (guard.caller, guard.action) == (caller, "read")


class ListQuery(msgspec.Struct):
    status: list[str] = msgspec.field(default_factory=list)
    limit: int = 20
    from_: int | None = msgspec.field(name="from", default=None)


class OtherBody(msgspec.Struct):
    name: str = ""


def _declared(query: bytes = b"", *, body_type: Any = None, query_type: type | None = None) -> Call:
    async def receive() -> Message:
        return {"type": "http.request", "body": b'{"name": "x"}', "more_body": False}

    return Call(
        {"type": "http", "headers": [(b"content-type", b"application/json")]},
        receive,
        ctx=cast(Context, None),
        params={},
        query=QueryString(query),
        caller=None,
        action=None,
        body_type=body_type,
        query_type=query_type,
    )


async def test_a_body_other_than_the_declared_one_is_a_declaration_error() -> None:
    with pytest.raises(RouteDeclarationError, match="declares None"):
        await _declared().json(OtherBody)
    with pytest.raises(RouteDeclarationError, match="OtherBody"):
        await _declared(body_type=ListQuery).json(OtherBody)
    assert await _declared(body_type=OtherBody).json(OtherBody) == OtherBody("x")
    assert await _declared(body_type=OtherBody).json_value() == {"name": "x"}  # checked later


def test_query_parameters_are_read_into_the_declared_struct() -> None:
    call = _declared(b"status[]=closed&status=finished&limit=5&from=10&x=1", query_type=ListQuery)
    assert call.query_params(ListQuery) == ListQuery(["closed", "finished"], 5, 10)
    assert _declared(query_type=ListQuery).query_params(ListQuery) == ListQuery()
    with pytest.raises(InvalidQueryString, match="limit"):
        _declared(b"limit=many", query_type=ListQuery).query_params(ListQuery)
    with pytest.raises(RouteDeclarationError, match="declares None"):
        _declared(b"limit=5").query_params(ListQuery)


def test_a_path_id_the_route_does_not_have_is_a_declaration_error() -> None:
    with pytest.raises(RouteDeclarationError, match="no id `edition_id`"):
        _call(caller=None, action=None).id_param("edition_id")
