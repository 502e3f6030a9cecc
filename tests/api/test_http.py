"""Cross-cutting HTTP behaviour: CORS (D21), 404/405, 413 (D23), D1, probes, front-end quirks."""

from __future__ import annotations

import pytest

from tests.api.conftest import AUDIENCE, Api

ID = "00000000-0000-4000-8000-000000000000"
API_PATHS = [
    f"/api/v1/minigroups/{ID}",
    f"/api/v1/audiences/{AUDIENCE}/minigroups/s",
    f"/api/v1/minigroups/{ID}/timestamps",
    f"/api/v1/minigroups/{ID}/properties/p",
    f"/api/v1/minigroups/{ID}/recreate",
    "/api/v1/minigroups",
    f"/api/v1/minigroups/{ID}/download",
    f"/api/v1/minigroups/{ID}/events",
    f"/api/v1/minigroups/{ID}/whiteboard",
    "/api/v1/account/properties/p",
    f"/api/v1/transcoding/minigroup/{ID}/restart",
    f"/api/v1/audiences/{AUDIENCE}/classes/s/editions/{ID}",
]


def _vary(headers: list[tuple[str, str]]) -> list[str]:
    return [value for name, value in headers if name == "vary"]


@pytest.mark.parametrize("path", API_PATHS)
async def test_every_api_route_answers_preflight_without_a_token(api: Api, path: str) -> None:
    response = await api.client.options(
        path,
        headers={"origin": "https://app.example.org", "access-control-request-method": "POST"},
    )
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "GET,PUT,POST,PATCH,DELETE"
    assert response.headers["access-control-allow-headers"] == (
        "authorization,content-type,ulms-app-audience,ulms-scope,ulms-app-version,ulms-app-label,"
        "x-agent-label"
    )
    assert response.headers["access-control-max-age"] == "3600"
    assert _vary(response.headers.multi_items()) == [
        "origin",
        "access-control-request-method",
        "access-control-request-headers",
    ]


@pytest.mark.parametrize("path", API_PATHS)
async def test_every_api_answer_carries_cors_headers_errors_included(api: Api, path: str) -> None:
    response = await api.client.get(path, headers={"origin": "https://app.example.org"})
    assert response.status_code in {401, 405}
    assert response.headers["access-control-allow-origin"] == "*"
    assert len(_vary(response.headers.multi_items())) == 3


async def test_probes_and_unknown_paths_have_no_cors(api: Api) -> None:
    health = await api.client.get("/healthz")
    assert health.status_code == 200
    assert health.text == "Ok"
    assert health.headers["content-type"] == "text/plain; charset=utf-8"
    assert "access-control-allow-origin" not in health.headers
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "up"}
    for path in ("/nowhere", "/api/v1/minigroups/", f"/api/v1/minigroups/{ID}/nope"):
        unknown = await api.client.options(path)
        assert unknown.status_code == 404
        assert unknown.json()["type"] == "not_found"
        assert "access-control-allow-origin" not in unknown.headers


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", f"/api/v1/minigroups/{ID}", "GET,HEAD,PUT"),
        ("POST", f"/api/v1/audiences/{AUDIENCE}/minigroups/s", "GET,HEAD,PUT"),
        ("PATCH", f"/api/v1/minigroups/{ID}/properties/p", "GET,HEAD,PUT"),
        ("POST", "/api/v1/account/properties/p", "GET,HEAD,PUT"),
        ("GET", "/api/v1/minigroups", "POST"),
        ("PUT", f"/api/v1/minigroups/{ID}/recreate", "POST"),
        ("POST", f"/api/v1/minigroups/{ID}/download", "GET,HEAD"),
        ("POST", "/healthz", "GET,HEAD"),
    ],
)
async def test_405_names_the_allowed_methods(api: Api, method: str, path: str, allow: str) -> None:
    response = await api.client.request(method, path, headers=api.auth())
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["type"] == "method_not_allowed"


async def test_bodies_over_2_mib_are_413(api: Api) -> None:
    created = await api.create()
    url = f"/api/v1/minigroups/{created['id']}/properties/big"
    big = b'"' + b"x" * (2 * 1024 * 1024) + b'"'
    response = await api.client.put(
        url, content=big, headers={**api.auth(), "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["type"] == "payload_too_large"
    just_fits = b'"' + b"x" * (2 * 1024 * 1024 - 2) + b'"'
    fits = await api.client.put(
        url, content=just_fits, headers={**api.auth(), "content-type": "application/json"}
    )
    # The body is read and decoded; only the property limit (64 KiB by default) refuses it.
    assert fits.status_code == 413
    assert fits.json()["type"] == "property_value_too_large"


async def test_front_end_headers_on_get_and_body_less_requests(api: Api) -> None:
    created = await api.create()
    headers = {
        **api.auth(),
        "content-type": "application/json",
        "ulms-app-audience": AUDIENCE,
        "ulms-scope": "s",
        "ulms-app-version": "1.2.3",
        "ulms-app-label": "web",
    }
    read = await api.client.get(
        f"/api/v1/minigroups/{created['id']}?class_keys[]=a&class_keys[]=b&", headers=headers
    )
    assert read.status_code == 200
    download = await api.client.get(f"/api/v1/minigroups/{created['id']}/download", headers=headers)
    assert download.status_code == 404  # not recorded yet, but the GET was not parsed as a body


async def test_token_in_query_string(api: Api) -> None:
    created = await api.create()
    token = api.token()
    response = await api.client.get(
        f"/api/v1/minigroups/{created['id']}?foo=1&foo=2&access_token={token}&access_token=x"
    )
    assert response.status_code == 200


async def test_problem_bodies_are_json(api: Api) -> None:
    response = await api.client.get(f"/api/v1/minigroups/{ID}", headers=api.auth())
    assert response.headers["content-type"] == "application/json"
    assert list(response.json()) == ["type", "title", "detail"]
