"""The API's own description: the OpenAPI 3.1 document and an offline Swagger UI page.

No token, CORS like the API. Swagger UI's files come from the `swagger-ui-py` package installed
with the service (its `swagger_ui/static` directory; Swagger UI 5, the first to read OpenAPI
3.1) and are served from here, so the page asks nothing of any other host.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import msgspec
from starlette.responses import Response

from minigroups.api.call import Call
from minigroups.api.openapi import build_document
from minigroups.api.problems import RouteNotFound
from minigroups.api.routing import Reply, RouteTable

DOCS = "/api/v1/docs"
ASSET_PACKAGE = "swagger_ui"  # from the `swagger-ui-py` distribution
# name -> content type; only these files of the package are served.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
INITIALIZER = "docs.js"
# Relative URLs, so that the page also works under a reverse proxy's path prefix.
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>minigroups API</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/docs.js"></script>
</body>
</html>
"""
# `validatorUrl: null`: no badge fetched from the public validator; the document is relative
# to the page (`/api/v1/openapi.json`), and so are the requests of "Try it out".
SCRIPT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
"""
HTML = "text/html; charset=utf-8"
JAVASCRIPT = "text/javascript; charset=utf-8"


def asset_directory() -> Path:
    """Swagger UI's files in the installed package (found without importing it)."""
    spec = importlib.util.find_spec(ASSET_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@cache
def _asset(name: str) -> bytes:
    return (asset_directory() / name).read_bytes()


def register(table: RouteTable) -> None:
    """Describe `table`: register last, so the document covers every route before it."""
    document: list[bytes] = []  # built on first use, once every route is in the table

    @table.route(
        "GET",
        "/api/v1/openapi.json",
        action=None,
        summary="This OpenAPI 3.1 document",
        responses={200: dict[str, Any]},
        authenticated=False,
        rate_limit=None,  # never limited (no caller to count)
    )
    async def openapi_document(call: Call) -> Response:
        if not document:
            built = build_document(table, version=version("minigroups"))
            document.append(msgspec.json.encode(built))
        return Response(document[0], media_type="application/json")

    @table.route(
        "GET",
        DOCS,
        action=None,
        summary="Interactive documentation of this API (Swagger UI, served offline)",
        responses={200: Reply(str, media_types=("text/html",))},
        authenticated=False,
        rate_limit=None,  # never limited (no caller to count)
    )
    async def docs_page(call: Call) -> Response:
        return Response(PAGE, media_type=HTML)

    @table.route(
        "GET",
        DOCS + "/assets/{name}",
        action=None,
        summary="The docs page's scripts, style sheet and icon",
        responses={
            200: Reply(Any, media_types=("text/css", "text/javascript", "image/png")),
        },
        problems=(RouteNotFound,),
        authenticated=False,
        rate_limit=None,  # never limited (no caller to count)
    )
    async def docs_asset(call: Call) -> Response:
        name = call.params["name"]
        if name == INITIALIZER:
            return Response(SCRIPT, media_type=JAVASCRIPT)
        if name not in ASSETS:
            raise RouteNotFound(f"No docs asset {name!r}")
        return Response(_asset(name), media_type=ASSETS[name])
