"""Route declarations: path template, method, the authorization action each route declares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.responses import Response

from minigroups.ports import Action

if TYPE_CHECKING:
    from minigroups.api.call import Call

Handler = Callable[["Call"], Awaitable[Response]]

UUID_PARAMS = frozenset({"id", "edition_id", "delivery_id"})


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One method of one path.

    `action` is what the route asks the authorizer for (None: no class authorization, e.g.
    account properties); `authenticated=False` only for probes.
    """

    handler: Handler
    action: Action | None
    authenticated: bool = True


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


class RouteTable:
    """Collects routes; the app matches a request against them in declaration order."""

    def __init__(self) -> None:
        self.resources: list[Resource] = []

    def route(
        self,
        method: str,
        template: str,
        *,
        action: Action | None,
        cors: bool = True,
        authenticated: bool = True,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            resource = self._resource(template, cors)
            resource.endpoints[method] = Endpoint(handler, action, authenticated)
            return handler

        return register

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
