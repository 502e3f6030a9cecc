"""The OpenAPI 3.1 document of a route table, generated from its declarations (api/routing.py).

Schemas come from msgspec (`msgspec.json.schema_components`) for the very types the routes
decode and encode; problem responses come from the one table in api/problems.py, with the
`type` values each status can carry as an enum. Nothing here is written by hand per route.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any
from uuid import UUID

import msgspec

from minigroups.api.problems import (
    HeadersTooLarge,
    PayloadTooLarge,
    Problem,
    ProblemBody,
    RequestTimeout,
    problem_headers,
    problem_outcomes,
)
from minigroups.api.routing import (
    JSON,
    UUID_PARAMS,
    Endpoint,
    Header,
    Reply,
    Resource,
    RouteTable,
)
from minigroups.domain import errors as e

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{name}"
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"accessToken": []}]
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "`Authorization: Bearer <token>`: a JWT of a configured issuer (HTTP §2.2)",
    },
    "accessToken": {
        "type": "apiKey",
        "in": "query",
        "name": "access_token",
        "description": "The same token as a query parameter, used when no header is sent",
    },
}
DESCRIPTION = """\
The lifecycle of minigroups: scheduled small-group live classes, their rooms and recordings.

- Errors are problem JSON `{"type", "title", "detail"}`; each response lists its `type` values.
- Every `GET` also answers `HEAD`. Every `/api/v1` path answers a CORS preflight (`OPTIONS`)
  without a token.
- Authenticate with `Authorization: Bearer <token>` (or `?access_token=<token>`).
"""


class _Deferred:
    """Stands for the schema of `types[index]` until msgspec has generated them all."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class _Schemas:
    """Collects every type the document mentions, then generates all schemas in one call."""

    def __init__(self) -> None:
        self.types: list[Any] = []

    def of(self, annotation: Any) -> _Deferred:
        for index, known in enumerate(self.types):
            if known is annotation or known == annotation:
                return _Deferred(index)
        self.types.append(annotation)
        return _Deferred(len(self.types) - 1)

    def fill(self, document: dict[str, Any]) -> dict[str, Any]:
        schemas, components = msgspec.json.schema_components(self.types, ref_template=REF_TEMPLATE)
        for component in components.values():  # msgspec copies docstrings as they are
            if "description" in component:
                component["description"] = inspect.cleandoc(component["description"])
        filled: dict[str, Any] = _replace(document, schemas)
        filled["components"] = {"schemas": components, "securitySchemes": SECURITY_SCHEMES}
        return filled


def _replace(value: Any, schemas: tuple[dict[str, Any], ...]) -> Any:
    if isinstance(value, _Deferred):
        return schemas[value.index]
    if isinstance(value, dict):
        return {key: _replace(item, schemas) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, schemas) for item in value]
    return value


def build_document(table: RouteTable, *, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of `table` (a JSON-ready dict)."""
    schemas = _Schemas()
    problem = schemas.of(ProblemBody)
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, str | None] = {}
    for resource, method, endpoint in table.operations():
        operation = _operation(table, resource, method, endpoint, schemas=schemas, problem=problem)
        paths.setdefault(resource.template, {})[method.lower()] = operation
        tags.setdefault(endpoint.operation.tag, _tag_description(endpoint))
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "minigroups", "version": version, "description": DESCRIPTION},
        "tags": [_tag(name, text) for name, text in tags.items()],
        "paths": paths,
    }
    if table.webhooks:
        document["webhooks"] = {
            hook.name: {"post": _webhook(hook.summary, hook.description, schemas.of(hook.payload))}
            for hook in table.webhooks
        }
    return schemas.fill(document)


def _tag(name: str, description: str | None) -> dict[str, str]:
    return {"name": name, "description": description} if description else {"name": name}


def _tag_description(endpoint: Endpoint) -> str | None:
    """A module's tag is described by the first paragraph of the module's docstring."""
    module = sys.modules.get(endpoint.handler.__module__)
    if module is None or module.__name__.rsplit(".", 1)[-1] != endpoint.operation.tag:
        return None
    paragraph = inspect.cleandoc(module.__doc__ or "").split("\n\n", 1)[0]
    return " ".join(paragraph.split()) or None


def _webhook(summary: str, description: str | None, payload: _Deferred) -> dict[str, Any]:
    hook: dict[str, Any] = {
        "summary": summary,
        "requestBody": {"required": True, "content": {JSON: {"schema": payload}}},
        "responses": {"2XX": {"description": "Received; any other answer is retried"}},
    }
    if description:
        hook["description"] = description
    return hook


def _operation(
    table: RouteTable,
    resource: Resource,
    method: str,
    endpoint: Endpoint,
    *,
    schemas: _Schemas,
    problem: _Deferred,
) -> dict[str, Any]:
    declared = endpoint.operation
    operation: dict[str, Any] = {
        "operationId": declared.operation_id,
        "summary": declared.summary,
        "tags": [declared.tag],
    }
    if declared.description:
        operation["description"] = declared.description
    parameters = [
        *_path_parameters(resource, schemas),
        *_query_parameters(declared.query, schemas),
        *(
            _header_parameter(header, schemas)
            for header, methods in table.headers
            if methods is None or method in methods
        ),
    ]
    if parameters:
        operation["parameters"] = parameters
    if declared.body is not None:
        operation["requestBody"] = {
            "required": declared.body_required,
            "content": {JSON: {"schema": schemas.of(declared.body)}},
        }
    errors = _implied_errors(resource, endpoint)
    extra_headers: dict[int, dict[str, Any]] = {}  # the shared problems' own headers
    for shared in table.shared_problems:
        if shared.methods is None or method in shared.methods:
            errors.extend(shared.errors)
            for error in shared.errors:
                for status, _ in problem_outcomes(error):
                    extra_headers.setdefault(status, {}).update(_lower(shared.headers))
    operation["responses"] = _responses(declared.responses, errors, extra_headers, schemas, problem)
    operation["security"] = SECURITY if endpoint.authenticated else []
    return operation


def _path_parameters(resource: Resource, schemas: _Schemas) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": schemas.of(UUID if name in UUID_PARAMS else str),
        }
        for name in resource.path_params
    ]


def _query_parameters(query: type | None, schemas: _Schemas) -> list[dict[str, Any]]:
    if query is None:
        return []
    parameters = []
    for field in msgspec.structs.fields(query):
        parameter: dict[str, Any] = {
            "name": field.encode_name,
            "in": "query",
            "required": field.required,
            "schema": schemas.of(field.type),
        }
        parameters.append(parameter)  # arrays: `style: form, explode: true`, the default
    return parameters


def _header_parameter(header: Header, schemas: _Schemas) -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "name": header.name,
        "in": "header",
        "required": header.required,
        "schema": schemas.of(header.type),
    }
    if header.description:
        parameter["description"] = header.description
    return parameter


def _implied_errors(resource: Resource, endpoint: Endpoint) -> list[type[Exception]]:
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


def _responses(
    replies: Mapping[int, Reply],
    errors: Iterable[type[Exception]],
    extra_headers: Mapping[int, Mapping[str, Any]],
    schemas: _Schemas,
    problem: _Deferred,
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


def _lower(headers: Mapping[str, Any]) -> dict[str, Any]:
    return {name.lower(): value for name, value in headers.items()}


def _reply(status: int, reply: Reply, schemas: _Schemas) -> dict[str, Any]:
    described: dict[str, Any] = {"description": reply.description or HTTPStatus(status).phrase}
    if reply.headers:
        described["headers"] = {
            name: _response_header(value, schemas) for name, value in reply.headers.items()
        }
    if reply.type is not None:
        schema = schemas.of(reply.type)
        described["content"] = {media: {"schema": schema} for media in reply.media_types}
    return described


def _response_header(value: Any, schemas: _Schemas) -> dict[str, Any]:
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
    schemas: _Schemas,
    problem: _Deferred,
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
