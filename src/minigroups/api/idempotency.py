"""`Idempotency-Key` on every POST, at the HTTP edge: around the route's handler, after
authentication. Without the header (or on another method) the handler runs exactly as before.

With it, the body is read first (its SHA-256 is stored with the key), then the key is claimed
(services/idempotency.py). The handler runs with the body handed back to it; its answer,
problem answers included, is stored for replay or the key is released (`is_stored`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated
from uuid import UUID

import msgspec
from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from minigroups.api.call import read_body
from minigroups.api.guards import RequestLimits
from minigroups.api.problems import problem_response
from minigroups.api.routing import Header, RouteTable
from minigroups.domain.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
)
from minigroups.domain.idempotency import KeyScope, parse_key
from minigroups.domain.ids import AccountId
from minigroups.ports import KeyClaim, StoredResponse
from minigroups.services import idempotency
from minigroups.services.context import Context

log = logging.getLogger(__name__)

Respond = Callable[[Receive], Awaitable[Response]]

HEADER = b"idempotency-key"
REPLAYED = "idempotent-replayed"
# Recomputed from the body on replay; everything else the route set is replayed as it was.
_NOT_REPLAYED = frozenset({b"content-length"})


IDEMPOTENCY_KEY = Header(
    "Idempotency-Key",
    Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern="^[!-~]+$")],
    "Makes the POST safe to retry: the same key with the same body replays the first answer "
    "(with `Idempotent-Replayed: true`) instead of running again; kept 24 h.",
)


def describe(table: RouteTable) -> None:
    """Every POST of the document takes the header and may answer its three problems."""
    table.describe_header(IDEMPOTENCY_KEY, methods=("POST",))
    table.describe_problems((InvalidIdempotencyKey, IdempotencyKeyReused), methods=("POST",))
    table.describe_problems((IdempotencyKeyInUse,), headers={"Retry-After": int}, methods=("POST",))


def requested_key(scope: Scope) -> str | None:
    """The `Idempotency-Key` of the request; None without one. Given twice is invalid."""
    values = [bytes(value) for name, value in scope["headers"] if name == HEADER]
    if not values:
        return None
    if len(values) > 1:
        raise InvalidIdempotencyKey("`Idempotency-Key` must be given once")
    return parse_key(values[0])


async def respond_idempotently(
    ctx: Context,
    scope: Scope,
    receive: Receive,
    respond: Respond,
    *,
    limits: RequestLimits,
    template: str,
    params: Mapping[str, str],
    ids: Mapping[str, UUID],
    caller: AccountId | None,
) -> Response:
    """`respond` (the route's handler on a `receive`) under the request's idempotency key.

    `template`, `params` (decoded) and `ids` (`parse_ids` of them) are the route. Only an
    authenticated POST's key counts: keys are scoped to the caller's account, and every POST
    route is authenticated.
    """
    key = requested_key(scope) if scope["method"] == "POST" and caller is not None else None
    if key is None or caller is None:
        return await respond(receive)
    body = await read_body(scope, receive, within=limits.body_read_seconds)
    request = idempotency.KeyedRequest(
        KeyScope(caller, "POST", template, canonical(params, ids)), key, body
    )
    found = await idempotency.claim_key(ctx, request)
    if isinstance(found, StoredResponse):
        return replayed(found)
    return await _run_claimed(ctx, found, respond, _handing_back(body, receive))


def canonical(params: Mapping[str, str], ids: Mapping[str, UUID]) -> dict[str, str]:
    """Path parameters as the route reads them: `{...}` and `urn:uuid:` ids name one minigroup."""
    return {name: str(ids[name]) if name in ids else value for name, value in params.items()}


async def _run_claimed(
    ctx: Context, claim: KeyClaim, respond: Respond, receive: Receive
) -> Response:
    try:
        async with idempotency.holding(ctx, claim):
            try:
                response = await respond(receive)
            except Exception as exc:  # noqa: BLE001 - rendered here, so that its status decides
                response = problem_response(exc)
    except BaseException:  # cancelled: nothing is known of the outcome, so a retry runs again
        await _quietly(idempotency.release(ctx, claim))
        raise
    await _quietly(idempotency.finish(ctx, claim, stored_form(response)))
    return response


async def _quietly(work: Awaitable[None]) -> None:
    """The answer is sent whatever happens to the key: a key that could not be stored or released
    is taken over once its lease runs out."""
    try:
        await work
    except Exception as exc:  # noqa: BLE001 - logged; the request's own answer matters more
        log.warning("idempotency: storing or releasing a key failed: %s", exc)


def stored_form(response: Response) -> StoredResponse | None:
    """The answer as it is stored; None for one without a body in memory (streamed)."""
    body = vars(response).get("body")
    if not isinstance(body, bytes):
        return None
    headers = tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in response.raw_headers
        if name not in _NOT_REPLAYED
    )
    return StoredResponse(response.status_code, headers, body)


def replayed(stored: StoredResponse) -> Response:
    """The stored answer again, byte for byte, marked `Idempotent-Replayed: true`."""
    response = Response(stored.body, stored.status)
    for name, value in stored.headers:
        response.headers.append(name, value)
    response.headers[REPLAYED] = "true"
    return response


def _handing_back(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the already-read body to the handler, then the real channel's
    messages (a disconnect)."""
    pending = True

    async def again() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
