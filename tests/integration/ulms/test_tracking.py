"""The request id in the MQTT requests an HTTP request makes (issue 11): svc-agent's
`tracking_id` starts with it (as its tracking label) and carries our session, so that the trail
of one lesson can be followed into the peers' logs."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from tests.api.conftest import AUDIENCE
from tests.integration.ulms.service import UlmsApi
from tests.integration.ulms.test_wire import TRACKING_ID, Window


async def _create(service: UlmsApi, headers: dict[str, str]) -> tuple[str, Window]:
    body = {"audience": AUDIENCE, "scope": f"tracked-{uuid4()}"}
    with Window(service) as window:
        response = await service.api.client.post(
            "/api/v1/minigroups", json=body, headers={**service.api.auth("admin"), **headers}
        )
    assert response.status_code == 201, response.text
    assert [(r.service, r.method) for r in window.requests] == [
        ("event", "room.create"),
        ("conference", "room.create"),
        ("event", "room.locked_types"),
    ]
    return response.headers["x-request-id"], window


def _labels(window: Window) -> set[str]:
    labels = set()
    for request in window.requests:
        tracking_id = request.properties["tracking_id"]
        assert TRACKING_ID.fullmatch(tracking_id), tracking_id
        label, _, session = tracking_id.partition(".")
        assert session == request.properties["session_tracking_label"]
        labels.add(label)
    return labels


async def test_a_uuid_request_id_is_the_tracking_label(service: UlmsApi) -> None:
    request_id = str(uuid4())
    echoed, window = await _create(service, {"x-request-id": request_id})
    assert echoed == request_id
    assert _labels(window) == {request_id}


async def test_a_generated_request_id_is_the_tracking_label(service: UlmsApi) -> None:
    echoed, window = await _create(service, {})
    assert _labels(window) == {echoed}


async def test_any_other_request_id_maps_to_its_uuid5(service: UlmsApi) -> None:
    echoed, window = await _create(service, {"x-request-id": "lesson-42/create#1"})
    assert echoed == "lesson-42/create#1"
    assert _labels(window) == {str(uuid5(NAMESPACE_URL, "lesson-42/create#1"))}


async def test_two_requests_have_two_labels_and_one_session(service: UlmsApi) -> None:
    _, first = await _create(service, {})
    _, second = await _create(service, {})
    assert _labels(first) != _labels(second)
    sessions = {r.properties["session_tracking_label"] for r in first.requests + second.requests}
    assert len(sessions) == 1
    assert all(str(UUID(part)) == part for part in sessions.pop().split("."))
