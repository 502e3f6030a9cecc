"""A route that reads what its declaration does not provide fails loudly, also under `python -O`."""

from __future__ import annotations

from typing import cast

import pytest
from starlette.types import Message

from minigroups.api.call import Call, RouteDeclarationError
from minigroups.api.query import QueryString
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
