"""Route declarations: path, method, authorization action, and what the OpenAPI document says.

Every route declares what `api/openapi.py` needs to describe it, next to its handler:

    @table.route(
        "POST",
        "/api/v1/minigroups",
        action="create",
        summary="R9: create a minigroup",
        body=CreateBody,                    # what the handler decodes: `call.json(CreateBody)`
        responses={201: MinigroupObject},   # status -> the type the handler encodes
        problems=(e.ClassAlreadyEstablished, e.ServicesRequestFailed),
    )
    async def create(call: Call) -> Response: ...

- `body`: the type of the JSON request body (a msgspec Struct, or any type msgspec describes;
  `Any` for any JSON value); None: the route reads no body. `call.json(T)` refuses any other `T`
  (`RouteDeclarationError`, a 500 that the API tests meet), so the document cannot drift from
  the code. `body_required=False` for an optional body (`call.optional_json`).
- `query`: a Struct whose fields are the query parameters (a field's `name=` is the wire name,
  e.g. `class_keys[]`; list fields repeat). The handler reads them with `call.query_params(T)`,
  which refuses any other `T`, and a value that does not convert is `400 invalid_query_string`.
- `responses`: status -> the JSON type the handler encodes (a Struct, `dict[str, Any]`, `Any`),
  None for an empty body, or a `Reply(type, media_types=..., headers=...)` for another media
  type or for response headers (name -> a `Header`, a type, or a description string).
  `tests/api/test_openapi_responses.py` decodes real answers of every route with these types;
  schemathesis (tests/integration/test_schemathesis.py) checks them against a running service.
- `problems`: the error classes (domain/errors.py, api/problems.py) the route raises beyond what
  its declaration implies; statuses and `type` values come from the table in api/problems.py.
  Implied, see `api/openapi.py`: 401 and the database's 500/503 (authenticated routes), 403 and
  503 of authorization (`action`), 400 `invalid_parameter` (path parameters), 400/408/413 (a
  body), 400 `invalid_query_string` (a query), 431 and 500 `internal_failure` (every route).
- `summary` (required), `description`, `tag` (default: the handler's module), `operation_id`
  (default: the handler's name; unique in the table).
- `rate_limit`: which `[rate_limits]` quotas a request counts against (api/rate_limits.py):
  "request" (the default: per account and per audience), "create" (creates and recreates: the
  create quota too), or None, which an unauthenticated route must say (rate limits key on the
  caller).

Document-wide additions, for what applies to many routes at once (declare them in
`api/routes/__init__.py` before `docs.register`, which builds the document on first use):

    table.describe_header(Header("Idempotency-Key", IdempotencyKey, "..."), methods=("POST",))
    table.describe_problems((RateLimited,), when=rate_limited)
    table.describe_response_headers({"RateLimit": Header(...)}, when=rate_limited)
    table.describe_webhook("minigroup.ready", ReadyPayload, summary="...")

The header becomes a parameter of every operation of those methods (None: all; its type is
any type msgspec describes, e.g. `Annotated[str, Meta(max_length=255)]`); the errors' problem
responses (statuses and `type` values from api/problems.py, so add the error to that table
first) are added to every such operation, with the given response headers on those statuses;
`when` narrows either to the endpoints it is true of; response headers are added to every
response of the operations they apply to; each webhook is an entry of the top-level
`webhooks` (the service POSTs its payload as JSON).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from starlette.responses import Response

from minigroups.ports import Action

if TYPE_CHECKING:
    from minigroups.api.call import Call

Handler = Callable[["Call"], Awaitable[Response]]
RateLimitKind = Literal["request", "create"]

UUID_PARAMS = frozenset({"id", "edition_id", "delivery_id"})
JSON = "application/json"


class RouteTableError(RuntimeError):
    """A route declaration that cannot be described (e.g. a duplicate operation id)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """One documented response: a body of `type` in each media type (None: no body), headers."""

    type: Any = None
    media_types: tuple[str, ...] = (JSON,)
    headers: Mapping[str, Any] = field(default_factory=dict)  # name -> type of its value
    description: str = ""


@dataclass(frozen=True, slots=True)
class Operation:
    """What the OpenAPI document says of one method of one path."""

    operation_id: str
    summary: str
    tag: str
    responses: Mapping[int, Reply]
    description: str | None = None
    body: Any = None
    body_required: bool = True
    query: type | None = None
    problems: tuple[type[Exception], ...] = ()


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One method of one path.

    `action` is what the route asks the authorizer for (None: no class authorization, e.g.
    account properties); `authenticated=False` only for probes and the API's own description;
    `rate_limit` names the quotas a request counts against (None: none).
    """

    handler: Handler
    action: Action | None
    operation: Operation
    authenticated: bool = True
    rate_limit: RateLimitKind | None = "request"


@dataclass(frozen=True, slots=True)
class Header:
    """A request header parameter that the document adds to many operations."""

    name: str
    type: Any = str
    description: str = ""
    required: bool = False


EndpointFilter = Callable[[Endpoint], bool]


@dataclass(frozen=True, slots=True)
class SharedProblems:
    """Problem responses that the document adds to every operation of `methods` (None: all)
    whose endpoint `when` is true of (None: every one)."""

    errors: tuple[type[Exception], ...]
    headers: Mapping[str, Any]
    methods: frozenset[str] | None
    when: EndpointFilter | None = None

    def apply(self, method: str, endpoint: Endpoint) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self.when is None or self.when(endpoint)


@dataclass(frozen=True, slots=True)
class SharedResponseHeaders:
    """Response headers that the document adds to every response of the operations whose
    endpoint `when` is true of."""

    headers: Mapping[str, Any]
    when: EndpointFilter


@dataclass(frozen=True, slots=True)
class Webhook:
    """A request the service sends: the document's top-level `webhooks` entry `name`."""

    name: str
    payload: Any
    summary: str
    description: str | None = None


@dataclass(slots=True)
class Resource:
    """A path template and its methods; CORS is per path (D21: every API route)."""

    template: str
    segments: tuple[str, ...]
    cors: bool
    endpoints: dict[str, Endpoint] = field(default_factory=dict)

    @property
    def allow(self) -> str:
        methods = list(self.endpoints)
        if "GET" in methods:
            methods.insert(methods.index("GET") + 1, "HEAD")
        return ",".join(methods)

    @property
    def path_params(self) -> list[str]:
        return [segment[1:-1] for segment in self.segments if segment.startswith("{")]

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """Path parameters (still percent-encoded) when the parts fit the template."""
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for part, segment in zip(parts, self.segments, strict=True):
            if segment.startswith("{"):
                if not part:
                    return None
                params[segment[1:-1]] = part
            elif part != segment:
                return None
        return params


def _replies(responses: Mapping[int, Any]) -> dict[int, Reply]:
    return {
        status: value if isinstance(value, Reply) else Reply(value)
        for status, value in responses.items()
    }


class RouteTable:
    """Collects routes; the app matches a request against them in declaration order."""

    def __init__(self) -> None:
        self.resources: list[Resource] = []
        self.headers: list[tuple[Header, frozenset[str] | None]] = []
        self.shared_problems: list[SharedProblems] = []
        self.response_headers: list[SharedResponseHeaders] = []
        self.webhooks: list[Webhook] = []

    def route(
        self,
        method: str,
        template: str,
        *,
        action: Action | None,
        summary: str,
        responses: Mapping[int, Any],
        body: Any = None,
        body_required: bool = True,
        query: type | None = None,
        problems: tuple[type[Exception], ...] = (),
        description: str | None = None,
        tag: str | None = None,
        operation_id: str | None = None,
        cors: bool = True,
        authenticated: bool = True,
        rate_limit: RateLimitKind | None = "request",
    ) -> Callable[[Handler], Handler]:
        """Register a handler; see the module docstring for what each declaration means."""
        if rate_limit is not None and not authenticated:
            raise RouteTableError(
                f"{method} {template}: rate limits need a caller (rate_limit=None)"
            )

        def register(handler: Handler) -> Handler:
            operation = Operation(
                operation_id=operation_id or handler.__name__,
                summary=summary,
                tag=tag or handler.__module__.rsplit(".", 1)[-1],
                responses=_replies(responses),
                description=description,
                body=body,
                body_required=body_required,
                query=query,
                problems=problems,
            )
            self._check_unique(operation.operation_id)
            resource = self._resource(template, cors)
            resource.endpoints[method] = Endpoint(
                handler, action, operation, authenticated, rate_limit
            )
            return handler

        return register

    def describe_header(self, header: Header, *, methods: Collection[str] | None = None) -> None:
        """Add a header parameter to every operation of `methods` (None: every operation)."""
        self.headers.append((header, None if methods is None else frozenset(methods)))

    def describe_problems(
        self,
        errors: tuple[type[Exception], ...],
        *,
        headers: Mapping[str, Any] | None = None,
        methods: Collection[str] | None = None,
        when: EndpointFilter | None = None,
    ) -> None:
        """Add problem responses (with response headers: name -> type) to many operations."""
        allowed = None if methods is None else frozenset(methods)
        self.shared_problems.append(SharedProblems(errors, dict(headers or {}), allowed, when))

    def describe_response_headers(
        self, headers: Mapping[str, Any], *, when: EndpointFilter
    ) -> None:
        """Add response headers (name -> a `Header`, a type or a description) to every response
        of the operations whose endpoint `when` is true of."""
        self.response_headers.append(SharedResponseHeaders(dict(headers), when))

    def describe_webhook(
        self, name: str, payload: Any, *, summary: str, description: str | None = None
    ) -> None:
        """Add a top-level `webhooks` entry: the service POSTs `payload` (a type) as JSON."""
        self.webhooks.append(Webhook(name, payload, summary, description))

    def operations(self) -> list[tuple[Resource, str, Endpoint]]:
        """Every (resource, method, endpoint), in declaration order."""
        return [
            (resource, method, endpoint)
            for resource in self.resources
            for method, endpoint in resource.endpoints.items()
        ]

    def _check_unique(self, operation_id: str) -> None:
        for _, _, endpoint in self.operations():
            if endpoint.operation.operation_id == operation_id:
                raise RouteTableError(f"two routes declare the operation id {operation_id!r}")

    def _resource(self, template: str, cors: bool) -> Resource:
        for resource in self.resources:
            if resource.template == template:
                return resource
        resource = Resource(template, tuple(template.split("/")), cors)
        self.resources.append(resource)
        return resource

    def find(self, parts: list[str]) -> tuple[Resource, dict[str, str]] | None:
        for resource in self.resources:
            params = resource.match(parts)
            if params is not None:
                return resource, params
        return None
