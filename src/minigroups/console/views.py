"""Rendering: the Jinja2 environment over the package's templates, its filters, the headers of
every console answer."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any

import jinja2
from starlette.responses import HTMLResponse, RedirectResponse, Response

from minigroups.domain.timeline import describe_duration

# No script runs on these pages; styles come from our one style sheet; forms post to us only.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


NONE = "none"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("minigroups.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(utc=utc, ago=ago, duration=duration, pretty_json=pretty_json)
    return env


def style_sheet() -> bytes:
    return files("minigroups.console").joinpath("static/console.css").read_bytes()


def utc(at: datetime | None) -> str:
    return NONE if at is None else at.strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(at: datetime | None, now: datetime) -> str:
    if at is None:
        return NONE
    return f"{describe_duration(max(now - at, timedelta(0)))} ago"


def duration(span: timedelta | None) -> str:
    return NONE if span is None else describe_duration(span)


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def page(
    env: jinja2.Environment, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    body = env.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def see_other(location: str) -> Response:
    """303: after a form, the browser GETs the next page (no resubmission on reload)."""
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)
