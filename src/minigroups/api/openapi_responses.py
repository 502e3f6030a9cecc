"""The responses of one operation: what the route declares, and its problem responses.

Problem responses list, per status, the `type` values of the route's errors as an enum; the
statuses, types and titles come from the one table in api/problems.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from minigroups.api.openapi_schemas import Deferred, Schemas
from minigroups.api.problems import (
    HeadersTooLarge,
    PayloadTooLarge,
    Problem,
    RequestTimeout,
    problem_headers,
    problem_outcomes,
)
from minigroups.api.routing import JSON, Endpoint, Header, Reply, Resource
from minigroups.domain import errors as e


def implied_errors(resource: Resource, endpoint: Endpoint) -> list[type[Exception]]:
    """The errors a route's declaration implies (see the api/routing.py docstring)."""
    errors: list[type[Exception]] = [HeadersTooLarge, Exception]
    if resource.path_params:
        errors.append(e.InvalidParameter)
    if endpoint.authenticated:
        errors += [
            e.MissingAuthenticationToken,
            e.InvalidAuthentication,
            e.InvalidQueryString,  # `access_token` is read from the query
            e.DatabaseFailure,
            e.DatabaseUnavailable,
        ]
    if endpoint.action is not None:
        errors += [e.AccessDenied, e.AuthorizationUnavailable]
    if endpoint.operation.body is not None:
        errors += [e.InvalidPayload, PayloadTooLarge, RequestTimeout]
    if endpoint.operation.query is not None:
        errors.append(e.InvalidQueryString)
    return [*errors, *endpoint.operation.problems]


def responses(
    replies: Mapping[int, Reply],
    errors: Iterable[type[Exception]],
    extra_headers: Mapping[int, Mapping[str, Any]],
    schemas: Schemas,
    problem: Deferred,
) -> dict[str, Any]:
    problems: dict[int, dict[str, Problem]] = {}
    for error in errors:
        for status, outcome in problem_outcomes(error):
            problems.setdefault(status, {})[outcome.type] = outcome
    responses: dict[str, Any] = {}
    for status in sorted({*replies, *problems}):
        reply = replies.get(status)
        described = _reply(status, reply, schemas) if reply is not None else None
        if status in problems:
            headers = {**problem_headers(status), **extra_headers.get(status, {})}
            failed = _problem(status, problems[status], headers, schemas, problem)
            described = failed if described is None else _merged(described, failed)
        responses[str(status)] = described
    return responses


def add_headers(
    responses: Mapping[str, dict[str, Any]], headers: Mapping[str, Any], schemas: Schemas
) -> None:
    """Describe `headers` on every response (kept where a response describes one already)."""
    for described in responses.values():
        known = described.setdefault("headers", {})
        for name, value in headers.items():
            if name.lower() not in {known_name.lower() for known_name in known}:
                known[name] = _response_header(value, schemas)


def _reply(status: int, reply: Reply, schemas: Schemas) -> dict[str, Any]:
    described: dict[str, Any] = {"description": reply.description or HTTPStatus(status).phrase}
    if reply.headers:
        described["headers"] = {
            name: _response_header(value, schemas) for name, value in reply.headers.items()
        }
    if reply.type is not None:
        schema = schemas.of(reply.type)
        described["content"] = {media: {"schema": schema} for media in reply.media_types}
    return described


def _response_header(value: Any, schemas: Schemas) -> dict[str, Any]:
    """A response header from a `Header`, a type, or a description (a string value)."""
    if isinstance(value, Header):
        header = {"required": value.required, "schema": schemas.of(value.type)}
        return {"description": value.description, **header} if value.description else header
    if isinstance(value, str):
        return {"description": value, "required": True, "schema": {"type": "string"}}
    return {"schema": schemas.of(value)}


def _problem(
    status: int,
    outcomes: Mapping[str, Problem],
    headers: Mapping[str, Any],
    schemas: Schemas,
    problem: Deferred,
) -> dict[str, Any]:
    types = sorted(outcomes)
    lines = [f"`{name}`: {outcomes[name].title}" for name in types]
    schema = {"allOf": [problem, {"properties": {"type": {"enum": types}}}]}
    described: dict[str, Any] = {
        "description": f"{HTTPStatus(status).phrase}. Problem types:\n\n- " + "\n- ".join(lines),
        "content": {JSON: {"schema": schema}},
    }
    if headers:
        described["headers"] = {
            name: _response_header(value, schemas) for name, value in headers.items()
        }
    return described


def _merged(reply: dict[str, Any], failed: dict[str, Any]) -> dict[str, Any]:
    """A status that is both a declared answer and a problem: either body, shared headers."""
    content = dict(reply.get("content", {}))
    for media, body in failed["content"].items():
        known = content.get(media)
        content[media] = (
            body if known is None else {"schema": {"anyOf": [known["schema"], body["schema"]]}}
        )
    headers = {
        name: {**header, "required": False}
        for name, header in {**failed.get("headers", {}), **reply.get("headers", {})}.items()
    }
    merged = {"description": f"{reply['description']}; or a problem", "content": content}
    if headers:
        merged["headers"] = headers
    return merged
