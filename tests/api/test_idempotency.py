"""`Idempotency-Key` on POST routes (issue 9): replay, reuse, what is stored, invalid keys."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from minigroups.api.routes import build_routes
from minigroups.domain.minigroup import Minigroup
from tests.api.conftest import ADMIN, AUDIENCE, LOCKED, Api
from tests.api.keyed import CREATE, create_body, new_key, rooms_created, stored_keys
from tests.api.pipeline import Pipeline, adjusted, modified_room, recorded


async def test_a_replayed_create_is_byte_identical_and_makes_no_second_room(api: Api) -> None:
    headers = {**api.auth(ADMIN), "idempotency-key": new_key()}
    body = {**create_body(AUDIENCE), "tags": {"course": "algebra"}, "reserve": 10}

    first = await api.client.post(CREATE, json=body, headers=headers)
    again = await api.client.post(CREATE, json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert again.headers["content-length"] == first.headers["content-length"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert rooms_created(api) == 1
    assert len(api.faults.calls_to("conference", "room.create")) == 1
    assert await stored_keys(api) == 1


async def test_a_stored_problem_is_replayed_too(api: Api) -> None:
    existing = await api.create()
    headers = {**api.auth(ADMIN), "idempotency-key": new_key()}
    body = create_body(AUDIENCE, existing["scope"])

    first = await api.client.post(CREATE, json=body, headers=headers)
    again = await api.client.post(CREATE, json=body, headers=headers)

    assert first.status_code == again.status_code == 422  # the reference's duplicate create
    assert first.json()["type"] == "class_already_established"
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"


async def test_the_same_key_with_another_body_is_422_and_runs_nothing(api: Api) -> None:
    headers = {**api.auth(ADMIN), "idempotency-key": new_key()}
    body = create_body(AUDIENCE)
    assert (await api.client.post(CREATE, json=body, headers=headers)).status_code == 201

    other = await api.client.post(CREATE, json={**body, "reserve": 5}, headers=headers)
    # The fingerprint is of the raw bytes: the same JSON written differently is another body.
    spaced = await api.client.post(
        CREATE,
        content=f'{{"scope": "{body["scope"]}", "audience": "{AUDIENCE}"}}',
        headers={**headers, "content-type": "application/json"},
    )

    for response in (other, spaced):
        assert response.status_code == 422
        assert response.json()["type"] == "idempotency_key_reused"
        assert "idempotent-replayed" not in response.headers
    assert rooms_created(api) == 1


async def test_keys_are_scoped_to_the_account_and_the_route(api: Api) -> None:
    key = new_key()
    body = create_body(AUDIENCE)
    mine = await api.client.post(
        CREATE, json=body, headers={**api.auth(ADMIN), "idempotency-key": key}
    )
    theirs = await api.client.post(
        CREATE, json=body, headers={**api.auth(), "idempotency-key": key}
    )
    assert mine.status_code == 201
    assert theirs.status_code == 422  # it ran: the scope is taken, no replay of another's answer
    assert theirs.json()["type"] == "class_already_established"
    assert "idempotent-replayed" not in theirs.headers

    one, two = await api.create(), await api.create()
    headers = {**api.auth(), "idempotency-key": key}
    saved = {"position": 7}
    first = await api.client.post(
        f"/api/v1/minigroups/{one['id']}/timestamps", json=saved, headers=headers
    )
    other = await api.client.post(
        f"/api/v1/minigroups/{two['id']}/timestamps", json=saved, headers=headers
    )
    braced = await api.client.post(
        f"/api/v1/minigroups/{{{UUID(one['id']).hex}}}/timestamps", json=saved, headers=headers
    )
    assert first.status_code == other.status_code == braced.status_code == 201
    assert "idempotent-replayed" not in other.headers  # another minigroup: another route
    assert braced.headers["idempotent-replayed"] == "true"  # the same minigroup, written alike


async def test_a_replayed_event_makes_no_second_peer_call(api: Api) -> None:
    created = await api.create()
    headers = {**api.auth(), "idempotency-key": new_key()}
    url = f"/api/v1/minigroups/{created['id']}/events"
    event = {"type": "message", "data": {"text": "hi"}}

    first = await api.client.post(url, json=event, headers=headers)
    again = await api.client.post(url, json=event, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.content == first.content == b"{}"
    assert len(api.faults.calls_to("event", "event.create")) == 1


async def test_a_replayed_restart_submits_no_second_transcoding(api: Api) -> None:
    pipeline = Pipeline(api)
    minigroup, _, _ = await recorded(pipeline)
    modified = modified_room(api, minigroup, [])
    await pipeline.deliver("room.adjust", adjusted(minigroup, uuid4(), modified), source="event")
    await pipeline.settle()
    tasks_before = len(api.sandbox.tq.tasks)
    headers = {**api.auth(), "idempotency-key": new_key()}
    url = f"/api/v1/transcoding/minigroup/{minigroup['id']}/restart"

    first = await api.client.post(url, json={"priority": "high"}, headers=headers)
    await pipeline.settle()
    again = await api.client.post(url, json={"priority": "high"}, headers=headers)
    await pipeline.settle()

    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert len(api.sandbox.tq.tasks) == tasks_before + 1  # one outbox effect, not two


async def test_a_replayed_finish_plays_the_lesson_once(api: Api) -> None:
    pipeline = Pipeline(api)
    created = await api.create()
    headers = {**api.auth(), "idempotency-key": new_key()}
    url = f"/sandbox/minigroups/{created['id']}/finish"

    first = await api.client.post(url, json={"participants": 1}, headers=headers)
    await pipeline.settle()
    again = await api.client.post(url, json={"participants": 1}, headers=headers)
    await pipeline.settle()

    assert first.status_code == again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"
    events = api.sandbox.event.store.of_room(UUID(created["event_room_id"]))
    assert [event["type"] for event in events] == ["host"]  # one lesson, not two
    assert [n.label for n in pipeline.published] == ["minigroup.stop"]  # one notification


async def test_a_create_that_timed_out_runs_again_with_the_same_key(api: Api) -> None:
    headers = {**api.auth(ADMIN), "idempotency-key": new_key()}
    body = create_body(AUDIENCE)
    api.faults.silence("event", "room.create", times=1)

    failed = await api.client.post(CREATE, json=body, headers=headers)
    retried = await api.client.post(CREATE, json=body, headers=headers)
    again = await api.client.post(CREATE, json=body, headers=headers)

    assert failed.status_code == 504
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers  # it ran again
    assert again.content == retried.content
    assert again.headers["idempotent-replayed"] == "true"
    assert rooms_created(api) == 2  # the silenced attempt, then the one that succeeded


async def test_401_and_403_are_not_stored(api: Api) -> None:
    key = new_key()
    unauthenticated = await api.client.post(
        CREATE,
        json=create_body(AUDIENCE),
        headers={"authorization": "Bearer not-a-token", "idempotency-key": key},
    )
    assert unauthenticated.status_code == 401
    headers = {**api.auth("intruder", LOCKED), "idempotency-key": key}
    denied = await api.client.post(CREATE, json=create_body(LOCKED), headers=headers)
    assert denied.status_code == 403
    assert await stored_keys(api) == 0

    # The same key with another body: had the 403 been stored, this would be 422 (reused).
    allowed = await api.client.post(
        CREATE, json=create_body(AUDIENCE), headers={**api.auth("intruder"), "idempotency-key": key}
    )
    assert allowed.status_code == 201
    assert "idempotent-replayed" not in allowed.headers


@pytest.mark.parametrize(
    "value",
    [b"", b"k" * 256, "clé".encode(), "clé".encode("latin-1"), b"a\x01b", b"a\x7fb", b"a b"],
    ids=["empty", "256-chars", "utf-8", "latin-1", "control", "delete", "space"],
)
async def test_invalid_keys_are_400_and_run_nothing(api: Api, value: bytes) -> None:
    response = await api.client.post(
        CREATE,
        json=create_body(AUDIENCE),
        headers=[
            (b"authorization", api.auth(ADMIN)["authorization"].encode()),
            (b"idempotency-key", value),
        ],
    )
    assert response.status_code == 400
    assert response.json()["type"] == "invalid_idempotency_key"
    assert rooms_created(api) == 0
    assert await stored_keys(api) == 0


async def test_a_key_given_twice_is_400(api: Api) -> None:
    auth = api.auth(ADMIN)["authorization"].encode()
    headers = [(b"authorization", auth), (b"idempotency-key", b"one"), (b"idempotency-key", b"two")]
    response = await api.client.post(CREATE, json=create_body(AUDIENCE), headers=headers)
    assert response.status_code == 400
    assert response.json()["type"] == "invalid_idempotency_key"


async def test_a_key_of_255_visible_characters_is_accepted(api: Api) -> None:
    key = ("!~" * 128)[:255]
    headers = {**api.auth(ADMIN), "idempotency-key": key}
    body = create_body(AUDIENCE)
    first = await api.client.post(CREATE, json=body, headers=headers)
    again = await api.client.post(CREATE, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"


async def test_without_the_header_nothing_is_stored_and_a_duplicate_is_still_422(api: Api) -> None:
    body = create_body(AUDIENCE)
    first = await api.client.post(CREATE, json=body, headers=api.auth(ADMIN))
    again = await api.client.post(CREATE, json=body, headers=api.auth(ADMIN))
    assert (first.status_code, again.status_code) == (201, 422)
    assert again.json()["type"] == "class_already_established"
    assert "idempotent-replayed" not in again.headers
    assert await stored_keys(api) == 0


async def test_the_key_is_ignored_on_other_methods(api: Api) -> None:
    created = await api.create()
    response = await api.client.put(
        f"/api/v1/minigroups/{created['id']}",
        json={"reserve": 3},
        headers={**api.auth(), "idempotency-key": ""},
    )
    assert response.status_code == 200
    assert await stored_keys(api) == 0


class _NoLessons:
    """A lesson simulator, so that the table has the sandbox's route too."""

    async def finish(self, minigroup: Minigroup, participants: int) -> None:
        raise AssertionError("not called")


def test_every_post_route_is_authenticated() -> None:
    """Keys are scoped to the caller's account: a POST without one would ignore its key."""
    routes = build_routes(simulator=_NoLessons()).resources
    posts = {r.template: r.endpoints["POST"] for r in routes if "POST" in r.endpoints}
    assert {"/api/v1/minigroups", "/sandbox/minigroups/{id}/finish"} <= set(posts)
    assert all(endpoint.authenticated for endpoint in posts.values())
