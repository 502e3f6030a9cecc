"""`minigroups openapi` prints the API's document, so clients can generate code offline."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from minigroups.api.openapi import build_document
from minigroups.api.routes import build_routes


def test_openapi_prints_the_valid_document_of_every_product_route() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "minigroups", "openapi"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    document = json.loads(printed.stdout)
    validate(document, cls=OpenAPIV31SpecValidator)
    expected = build_document(build_routes(), version=version("minigroups"))
    assert document == json.loads(json.dumps(expected))
    assert "/api/v1/minigroups/{id}" in document["paths"]
    assert not any(path.startswith("/sandbox/") for path in document["paths"])
    assert printed.stderr == ""
