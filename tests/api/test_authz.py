"""Authorization on every class-bound route: denied callers get 403 and change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from minigroups.api.routes import build_routes
from tests.api.conftest import ADMIN, DOWN, LOCKED, REMOTE, Api
from tests.api.helpers import add_recording, ago

# (method, path under the minigroup, body, action) for every class-bound route of HTTP §1.
CLASS_ROUTES: list[tuple[str, str, Any, str]] = [
    ("GET", "/api/v1/minigroups/{id}", None, "read"),
    ("PUT", "/api/v1/minigroups/{id}", {"reserve": 99, "time": [1, 2]}, "update"),
    ("GET", "/api/v1/audiences/{audience}/minigroups/{scope}", None, "read"),
    ("PUT", "/api/v1/audiences/{audience}/minigroups/{scope}", {"reserve": 99}, "update"),
    ("POST", "/api/v1/minigroups/{id}/timestamps", {"position": 7}, "read"),
    ("GET", "/api/v1/minigroups/{id}/properties/p", None, "read"),
    ("PUT", "/api/v1/minigroups/{id}/properties/p", "changed", "update"),
    ("POST", "/api/v1/minigroups/{id}/recreate", {}, "update"),
    ("GET", "/api/v1/minigroups/{id}/download", None, "download"),
    ("POST", "/api/v1/minigroups/{id}/events", {"type": "message", "data": {}}, "update"),
    ("POST", "/api/v1/minigroups/{id}/whiteboard", None, "update"),
    ("POST", "/api/v1/transcoding/minigroup/{id}/restart", None, "update"),
    (
        "POST",
        "/api/v1/audiences/{audience}/classes/{scope}/editions/00000000-0000-4000-8000-000000000001",
        None,
        "update",
    ),
]


async def _snapshot(api: Api, created: dict[str, Any]) -> dict[str, Any]:
    admin = api.auth(ADMIN, LOCKED)
    url = f"/api/v1/minigroups/{created['id']}"
    read = await api.client.get(url + "?class_keys[]=p", headers=admin)
    state: dict[str, Any] = read.json()
    state.pop("turn_host")
    state["row"] = (await api.client.put(url, json={}, headers=admin)).json()
    return state


@pytest.mark.parametrize(("method", "path", "body", "action"), CLASS_ROUTES)
async def test_denied_caller_gets_403_and_nothing_changes(
    api: Api, method: str, path: str, body: Any, action: str
) -> None:
    created = await api.create(audience=LOCKED, properties={"p": "secret-value"})
    await add_recording(api, created["id"], transcoded_at=ago(1))
    before = await _snapshot(api, created)
    calls_before = len(api.faults.calls)
    url = path.format(id=created["id"], audience=LOCKED, scope=created["scope"])
    response = await api.client.request(
        method, url, json=body, headers=api.auth("intruder", LOCKED)
    )
    assert response.status_code == 403
    problem = response.json()
    assert problem["type"] == "access_denied"
    assert problem["detail"] == (
        f"[Forbidden] intent::intruder.{LOCKED}::classrooms/{created['id']}::{action} "
        "has been forbidden, the subject isn't in a trusted list"
    )
    assert "secret-value" not in response.text
    assert created["event_room_id"] not in response.text
    assert len(api.faults.calls) == calls_before  # no upstream call
    assert await _snapshot(api, created) == before


def test_every_class_bound_route_declares_its_action() -> None:
    """No route can forget authorization: the table says which action each one asks for."""
    declared = {
        (method, resource.template): endpoint.action
        for resource in build_routes().resources
        for method, endpoint in resource.endpoints.items()
    }
    for method, path, _, action in CLASS_ROUTES:
        template = path.removesuffix("/p") + "/{property_id}" if "/properties/" in path else path
        template = template.replace(
            "editions/00000000-0000-4000-8000-000000000001", "editions/{edition_id}"
        )
        assert declared[method, template] == action, (method, template)
    assert declared["POST", "/api/v1/minigroups"] == "create"
    unauthorized = {key for key, action in declared.items() if action is None}
    assert unauthorized == {
        ("GET", "/api/v1/account/properties/{property_id}"),
        ("PUT", "/api/v1/account/properties/{property_id}"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        # the API's description, public like the probes (issue 9)
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/docs"),
        ("GET", "/api/v1/docs/assets/{name}"),
    }


async def test_http_backend_down_is_503_authorization_failed(api: Api) -> None:
    created = await api.create(audience=DOWN)  # the admin is trusted: no backend call
    response = await api.client.get(
        f"/api/v1/minigroups/{created['id']}", headers=api.auth("user", DOWN)
    )
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["type"] == "authorization_failed"
    assert response.json()["detail"].startswith(f"[Network] intent::user.{DOWN}::")


async def test_http_backend_decisions_are_cached(api: Api) -> None:
    api.authz_backend.allowed = ["create", "read"]
    created = await api.create(audience=REMOTE)
    assert len(api.authz_backend.requests) == 1
    url = f"/api/v1/minigroups/{created['id']}"
    for _ in range(3):
        assert (await api.client.get(url, headers=api.auth("viewer", REMOTE))).status_code == 200
    assert len(api.authz_backend.requests) == 2  # one call for read, then the cache
    assert api.authz_backend.requests[1] == {
        "subject": {"namespace": REMOTE, "value": "viewer"},
        "object": {
            "namespace": "dispatcher.svc.example.org",
            "value": ["classrooms", created["id"]],
        },
        "action": "read",
    }
    denied = await api.client.put(url, json={}, headers=api.auth("viewer", REMOTE))
    assert denied.status_code == 403
    assert denied.json()["detail"].endswith("has been forbidden, the action forbidden by tenant")
