"""The OpenAPI 3.1 document of a route table, generated from its declarations (api/routing.py).

Schemas come from msgspec (`msgspec.json.schema_components`) for the very types the routes
decode and encode; problem responses come from the one table in api/problems.py, with the
`type` values each status can carry as an enum. Nothing here is written by hand per route.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any
from uuid import UUID

import msgspec

from minigroups.api.openapi_responses import add_headers, implied_errors, responses
from minigroups.api.openapi_schemas import Deferred, Schemas
from minigroups.api.problems import ProblemBody, problem_outcomes
from minigroups.api.routing import JSON, UUID_PARAMS, Endpoint, Header, Resource, RouteTable

OPENAPI_VERSION = "3.1.0"
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


def build_document(table: RouteTable, *, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of `table` (a JSON-ready dict)."""
    schemas = Schemas()
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
    return schemas.fill(document, securitySchemes=SECURITY_SCHEMES)


def _tag(name: str, description: str | None) -> dict[str, str]:
    return {"name": name, "description": description} if description else {"name": name}


def _tag_description(endpoint: Endpoint) -> str | None:
    """A module's tag is described by the first paragraph of the module's docstring."""
    module = sys.modules.get(endpoint.handler.__module__)
    if module is None or module.__name__.rsplit(".", 1)[-1] != endpoint.operation.tag:
        return None
    paragraph = inspect.cleandoc(module.__doc__ or "").split("\n\n", 1)[0]
    return " ".join(paragraph.split()) or None


def _webhook(summary: str, description: str | None, payload: Deferred) -> dict[str, Any]:
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
    schemas: Schemas,
    problem: Deferred,
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
    errors = implied_errors(resource, endpoint)
    extra_headers: dict[int, dict[str, Any]] = {}  # the shared problems' own headers
    for shared in table.shared_problems:
        if shared.apply(method, endpoint):
            errors.extend(shared.errors)
            for error in shared.errors:
                for status, _ in problem_outcomes(error):
                    extra_headers.setdefault(status, {}).update(
                        {name.lower(): value for name, value in shared.headers.items()}
                    )
    operation["responses"] = responses(declared.responses, errors, extra_headers, schemas, problem)
    for shared_headers in table.response_headers:
        if shared_headers.when(endpoint):
            add_headers(operation["responses"], shared_headers.headers, schemas)
    operation["security"] = SECURITY if endpoint.authenticated else []
    return operation


def _path_parameters(resource: Resource, schemas: Schemas) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": schemas.of(UUID if name in UUID_PARAMS else str),
        }
        for name in resource.path_params
    ]


def _query_parameters(query: type | None, schemas: Schemas) -> list[dict[str, Any]]:
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


def _header_parameter(header: Header, schemas: Schemas) -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "name": header.name,
        "in": "header",
        "required": header.required,
        "schema": schemas.of(header.type),
    }
    if header.description:
        parameter["description"] = header.description
    return parameter
