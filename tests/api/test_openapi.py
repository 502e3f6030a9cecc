"""The served OpenAPI 3.1 document: valid, complete, public, and derived from the declarations."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from starlette.responses import Response

from minigroups.api.app import ApiApp
from minigroups.api.call import Call
from minigroups.api.openapi import build_document
from minigroups.api.problems import RateLimited, problem_outcomes
from minigroups.api.routes import build_routes
from minigroups.api.routing import Endpoint, Header, Reply, RouteTable, RouteTableError
from minigroups.domain import errors as e
from tests.api.conftest import Api

METHODS = {"get", "put", "post", "delete", "patch"}


def _enum(response: dict[str, Any]) -> list[str]:
    """The `type` values a problem response lists."""
    schema = response["content"]["application/json"]["schema"]
    enum: list[str] = schema["allOf"][1]["properties"]["type"]["enum"]
    return enum


def _problem_types(document: dict[str, Any], path: str, method: str, status: int) -> list[str]:
    return _enum(document["paths"][path][method]["responses"][str(status)])


async def test_the_served_document_is_valid_openapi_3_1_without_a_token(api: Api) -> None:
    response = await api.client.get(
        "/api/v1/openapi.json", headers={"origin": "https://lms.example.org"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"  # CORS like the API
    document = response.json()
    assert document["openapi"].startswith("3.1.")
    validate(document, cls=OpenAPIV31SpecValidator)
    preflight = await api.client.options("/api/v1/openapi.json")
    assert preflight.headers["access-control-allow-methods"]


async def test_every_route_and_method_of_the_table_is_in_the_document(api: Api) -> None:
    app: ApiApp = api.client._transport.app  # type: ignore[attr-defined]
    document = (await api.client.get("/api/v1/openapi.json")).json()
    in_table = {(r.template, m.lower()) for r, m, _ in app.table.operations()}
    in_document = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }
    assert in_document == in_table
    assert ("/sandbox/minigroups/{id}/finish", "post") in in_document  # mounted here
    for path in ("/healthz", "/readyz", "/api/v1/minigroups", "/api/v1/minigroups/{id}"):
        assert path in document["paths"]
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


async def test_parameters_bodies_responses_and_security_come_from_the_declarations(
    api: Api,
) -> None:
    document = (await api.client.get("/api/v1/openapi.json")).json()
    read = document["paths"]["/api/v1/minigroups/{id}"]["get"]
    parameters = {(p["in"], p["name"]): p for p in read["parameters"]}
    assert parameters["path", "id"]["schema"] == {"type": "string", "format": "uuid"}
    assert parameters["query", "class_keys[]"]["schema"]["type"] == "array"
    assert ("query", "account_keys[]") in parameters
    assert read["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReadObject"
    }
    assert read["security"] == [{"bearerAuth": []}, {"accessToken": []}]
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["accessToken"]["in"] == "query"
    create = document["paths"]["/api/v1/minigroups"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CreateBody"}
    assert set(document["components"]["schemas"]["CreateBody"]["required"]) == {
        "scope",
        "audience",
    }
    assert set(create["responses"]) >= {"201", "400", "401", "403", "413", "422", "502", "503"}
    assert "requestBody" not in document["paths"]["/api/v1/minigroups/{id}/whiteboard"]["post"]
    restart = document["paths"]["/api/v1/transcoding/minigroup/{id}/restart"]["post"]
    assert restart["requestBody"]["required"] is False
    assert document["paths"]["/healthz"]["get"]["security"] == []
    health = document["paths"]["/healthz"]["get"]["responses"]["200"]["content"]
    assert health == {"text/plain": {"schema": {"type": "string"}}}
    unready = document["paths"]["/readyz"]["get"]["responses"]["503"]
    assert unready["headers"]["retry-after"]["required"] is True


async def test_problem_types_per_status_come_from_the_problem_table(api: Api) -> None:
    document = (await api.client.get("/api/v1/openapi.json")).json()
    assert _problem_types(document, "/api/v1/minigroups/{id}", "get", 404) == ["class_not_found"]
    assert _problem_types(document, "/api/v1/minigroups/{id}", "get", 401) == [
        "invalid_authentication",
        "no_authentication_token",
    ]
    create_422 = _problem_types(document, "/api/v1/minigroups", "post", 422)
    assert "class_already_established" in create_422
    assert "scope_too_long" in create_422
    for status in (502, 503, 504):  # how the peer failed decides the status (D6)
        assert "mqtt_request_failed" in _problem_types(
            document, "/api/v1/minigroups", "post", status
        )
    upstream = {status for status, _ in problem_outcomes(e.ServicesRequestFailed)}
    assert upstream == {502, 503, 504}
    known = {
        problem.type
        for error in (*_all_errors(), Exception)
        for _, problem in problem_outcomes(error)
    }
    for item in document["paths"].values():
        for operation in item.values():
            for response in operation["responses"].values():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema and "allOf" in schema:
                    assert set(schema["allOf"][1]["properties"]["type"]["enum"]) <= known
    assert "503" in document["paths"]["/api/v1/minigroups/{id}"]["get"]["responses"]
    described = document["paths"]["/api/v1/minigroups/{id}"]["get"]["responses"]["503"]
    # A limited route's every answer may carry the rate limit fields (issue 10).
    assert set(described["headers"]) == {"retry-after", "x-request-id", *RATE_LIMIT_FIELDS}


RATE_LIMIT_FIELDS = ("RateLimit-Policy", "RateLimit")
UNLIMITED = (
    "/healthz",
    "/readyz",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/docs/assets/{name}",
)


async def test_limited_routes_declare_429_and_the_rate_limit_fields(api: Api) -> None:
    document = (await api.client.get("/api/v1/openapi.json")).json()
    limited = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if path in UNLIMITED:
                assert "429" not in responses, (path, method)
                assert all("RateLimit" not in r.get("headers", {}) for r in responses.values())
                continue
            limited += 1
            assert _enum(responses["429"]) == ["rate_limited"], (path, method)
            headers = responses["429"]["headers"]
            assert headers["retry-after"]["required"] is True
            for described in responses.values():
                assert set(RATE_LIMIT_FIELDS) <= set(described["headers"]), (path, method)
                assert described["headers"]["RateLimit"]["required"] is False
    assert limited >= 20
    create = document["paths"]["/api/v1/minigroups"]["post"]["responses"]["201"]
    assert "q=<requests>" in create["headers"]["RateLimit-Policy"]["description"]


def _all_errors() -> list[type[Exception]]:
    found: list[type[Exception]] = []
    pending: list[type[Exception]] = [e.MinigroupsError]
    while pending:
        error = pending.pop()
        found.append(error)
        pending.extend(error.__subclasses__())
    return found


IdempotencyKey = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern="^[!-~]+$")]


class Widget(msgspec.Struct):
    """A payload of the toy table."""

    name: str


def _toy_table() -> RouteTable:
    table = RouteTable()

    async def handler(call: Call) -> Response:
        return Response(b"")

    make = table.route(
        "POST",
        "/api/v1/widgets",
        action="create",
        summary="Make",
        body=Widget,
        responses={201: Widget},
    )
    make(handler)

    async def read(call: Call) -> Response:
        return Response(b"")

    table.route(
        "GET", "/api/v1/widgets/{id}", action="read", summary="Read", responses={200: Widget}
    )(read)
    return table


def test_headers_problems_and_webhooks_can_be_added_to_the_whole_document() -> None:
    table = _toy_table()
    table.describe_header(
        Header("Idempotency-Key", IdempotencyKey, "Makes a retried POST safe"), methods=("POST",)
    )
    table.describe_problems((e.InvalidQueryString,), headers={"retry-after": int})
    table.describe_webhook("minigroup.ready", Widget, summary="The recording can be watched")
    document = build_document(table, version="1")
    validate(msgspec.json.decode(msgspec.json.encode(document)), cls=OpenAPIV31SpecValidator)
    post = document["paths"]["/api/v1/widgets"]["post"]
    get = document["paths"]["/api/v1/widgets/{id}"]["get"]
    (header,) = [p for p in post["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key"
    assert header["schema"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[!-~]+$",
    }
    assert all(p["in"] != "header" for p in get.get("parameters", []))
    for operation in (post, get):
        described = operation["responses"]["400"]
        assert "invalid_query_string" in _enum(described)
        assert described["headers"]["retry-after"]["schema"] == {"type": "integer"}
    hook = document["webhooks"]["minigroup.ready"]["post"]
    assert hook["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Widget"
    }


def test_problems_and_response_headers_can_be_added_to_the_endpoints_a_filter_picks() -> None:
    table = _toy_table()
    table.route(
        "GET",
        "/api/v1/open",
        action=None,
        summary="Open",
        responses={200: None},
        authenticated=False,
        rate_limit=None,
    )(_handler)

    def limited(endpoint: Endpoint) -> bool:
        return endpoint.rate_limit is not None

    table.describe_problems((RateLimited,), when=limited)
    table.describe_response_headers({"RateLimit": Header("RateLimit", str, "Left")}, when=limited)
    document = build_document(table, version="1")
    validate(msgspec.json.decode(msgspec.json.encode(document)), cls=OpenAPIV31SpecValidator)
    read = document["paths"]["/api/v1/widgets/{id}"]["get"]["responses"]
    assert _enum(read["429"]) == ["rate_limited"]
    assert read["429"]["headers"]["retry-after"]["required"] is True
    for described in read.values():
        assert described["headers"]["RateLimit"] == {
            "description": "Left",
            "required": False,
            "schema": {"type": "string"},
        }
    open_responses = document["paths"]["/api/v1/open"]["get"]["responses"]
    assert "429" not in open_responses
    assert all("RateLimit" not in r.get("headers", {}) for r in open_responses.values())


def test_a_route_without_a_caller_cannot_be_rate_limited() -> None:
    with pytest.raises(RouteTableError, match="rate limits need a caller"):
        _toy_table().route(
            "GET", "/api/v1/open", action=None, summary="x", responses={}, authenticated=False
        )


async def _handler(call: Call) -> Response:
    return Response(b"")


def test_two_routes_cannot_share_an_operation_id() -> None:
    table = _toy_table()

    async def read(call: Call) -> Response:
        return Response(b"")

    with pytest.raises(RouteTableError, match="read"):
        table.route("GET", "/api/v1/other", action=None, summary="x", responses={200: None})(read)


def test_the_product_document_has_no_sandbox_route() -> None:
    document = build_document(build_routes(), version="1")
    assert not any(path.startswith("/sandbox/") for path in document["paths"])


def test_a_status_that_is_both_an_answer_and_a_problem_offers_either_body() -> None:
    table = _toy_table()

    async def busy(call: Call) -> Response:
        return Response(b"")

    declare = table.route(
        "GET",
        "/api/v1/busy",
        action="read",
        summary="Busy",
        responses={200: Widget, 503: Reply(Widget, headers={"retry-after": int})},
    )
    declare(busy)
    document = build_document(table, version="1")
    validate(msgspec.json.decode(msgspec.json.encode(document)), cls=OpenAPIV31SpecValidator)
    unavailable = document["paths"]["/api/v1/busy"]["get"]["responses"]["503"]
    (widget, problem) = unavailable["content"]["application/json"]["schema"]["anyOf"]
    assert widget == {"$ref": "#/components/schemas/Widget"}
    assert (
        "database_connection_acquisition_failed"
        in problem["allOf"][1]["properties"]["type"]["enum"]
    )
    assert set(unavailable["headers"]) == {"retry-after", "x-request-id"}
