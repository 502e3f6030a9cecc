"""CORS for every API route (D21): preflights answered without a token, headers on all answers."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

_ALLOW_METHODS = b"GET,PUT,POST,PATCH,DELETE"
_ALLOW_HEADERS = (
    b"authorization,content-type,ulms-app-audience,ulms-scope,ulms-app-version,ulms-app-label,"
    b"x-agent-label"
)
_VARY = (
    (b"vary", b"origin"),
    (b"vary", b"access-control-request-method"),
    (b"vary", b"access-control-request-headers"),
)


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """Allowed origins: `*` for any, or an explicit list (the matching Origin is echoed)."""

    allowed_origins: tuple[str, ...] = ("*",)

    def _allow_origin(self, origin: str | None) -> bytes | None:
        if "*" in self.allowed_origins:
            return b"*"
        if origin is not None and origin in self.allowed_origins:
            return origin.encode("latin-1")
        return None

    def decorate(self, response: Response, origin: str | None) -> None:
        """Add the CORS headers of contract.md HTTP §2.8 to an answer."""
        headers = [(name, value) for name, value in response.raw_headers if name != b"vary"]
        allowed = self._allow_origin(origin)
        if allowed is not None:
            headers.append((b"access-control-allow-origin", allowed))
        headers.extend(_VARY)
        response.raw_headers = headers

    def preflight(self, origin: str | None) -> Response:
        response = Response(status_code=200)
        self.decorate(response, origin)
        response.raw_headers.extend(
            [
                (b"access-control-allow-methods", _ALLOW_METHODS),
                (b"access-control-allow-headers", _ALLOW_HEADERS),
                (b"access-control-max-age", b"3600"),
            ]
        )
        return response
