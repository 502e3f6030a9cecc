"""Every route's real answers are what its declaration (and so the OpenAPI document) says.

Each answer of a walk through every route is decoded with the type the route declares for its
status and encoded again: the bytes must be the same, so a member the Struct lacks, a member
out of order or a wrong type fails. Problem answers must carry a `type` the document lists for
that status. The walk must reach a success of every route in the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import msgspec

from minigroups.api.app import ApiApp
from minigroups.api.problems import ProblemBody
from minigroups.api.routes.docs import ASSETS, INITIALIZER
from minigroups.api.routing import JSON
from tests.api.conftest import AUDIENCE, Api, running_api
from tests.api.pipeline import Pipeline


class Conformance:
    """Sends requests through the API and checks each answer against the declarations."""

    def __init__(self, api: Api, document: dict[str, Any]) -> None:
        self.api = api
        self.app: ApiApp = api.client._transport.app  # type: ignore[attr-defined]
        self.document = document
        self.answered: set[tuple[str, str, int]] = set()

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.api.client.request(method, path, **kwargs)
        found = self.app.table.find(path.split("?", 1)[0].split("/"))
        assert found is not None, path
        resource, _ = found
        self.check(method, resource.template, response)
        self.answered.add((method, resource.template, response.status_code))
        return response

    def check(self, method: str, template: str, response: httpx.Response) -> None:
        status = response.status_code
        described = self.document["paths"][template][method.lower()]["responses"]
        assert str(status) in described, (method, template, status, response.text)
        endpoint = self.app.table.find(template.split("/"))[0].endpoints[method]  # type: ignore[index]
        reply = endpoint.operation.responses.get(status)
        if reply is not None:
            if reply.type is None:
                assert response.content == b"", (method, template)
                return
            media = response.headers["content-type"].split(";")[0]
            assert media in reply.media_types, (method, template, media)
            if media == JSON:
                decoded = msgspec.json.decode(response.content, type=reply.type)
                assert msgspec.json.encode(decoded) == response.content, (method, template)
            return
        problem = msgspec.json.decode(response.content, type=ProblemBody)
        schema = described[str(status)]["content"][JSON]["schema"]
        assert problem.type in schema["allOf"][1]["properties"]["type"]["enum"], (template, status)
        for name, header in described[str(status)].get("headers", {}).items():
            assert not header["required"] or name in response.headers, (template, status, name)

    def successes(self) -> set[tuple[str, str]]:
        return {(method, template) for method, template, status in self.answered if status < 300}


async def _finish_lesson(api: Api, walk: Conformance, minigroup_id: str) -> None:
    """The sandbox route ends the lesson; the pipeline and the autopilot run to `transcoded`."""
    autopilot = api.container.autopilot
    assert autopilot is not None
    autopilot.upload_delay = 0  # the recordings are uploaded at the next step
    finished = await walk.send(
        "POST",
        f"/sandbox/minigroups/{minigroup_id}/finish",
        json={"participants": 2},
        headers=api.auth(),
    )
    assert finished.status_code == 202
    pipeline = Pipeline(api)
    for _ in range(20):
        await pipeline.settle()
        if not await autopilot.step():
            break


async def test_every_route_answers_what_it_declares(api: Api) -> None:
    document = (await api.client.get("/api/v1/openapi.json")).json()
    walk = Conformance(api, document)
    auth = api.auth()
    for path in ("/healthz", "/readyz", "/api/v1/openapi.json", "/api/v1/docs"):
        assert (await walk.send("GET", path)).status_code == 200
    for name in [*ASSETS, INITIALIZER]:
        assert (await walk.send("GET", f"/api/v1/docs/assets/{name}")).status_code == 200
    assert (await walk.send("GET", "/api/v1/docs/assets/nope.js")).status_code == 404

    body = {
        "scope": "conformance",
        "audience": AUDIENCE,
        "time": [1900000000, 1900003600],
        "tags": {"course": "algebra"},
        "properties": {"is_adult": True},
        "reserve": 10,
    }
    created = await walk.send("POST", "/api/v1/minigroups", json=body, headers=api.auth("admin"))
    assert created.status_code == 201
    again = await walk.send("POST", "/api/v1/minigroups", json=body, headers=api.auth("admin"))
    assert again.json()["type"] == "class_already_established"
    minigroup_id = created.json()["id"]
    by_id = f"/api/v1/minigroups/{minigroup_id}"
    by_scope = f"/api/v1/audiences/{AUDIENCE}/minigroups/conformance"

    read = f"{by_id}?class_keys[]=is_adult&account_keys[]=onboarding"
    assert (await walk.send("GET", read, headers=auth)).status_code == 200
    assert (await walk.send("GET", by_id)).status_code == 401
    unknown = await walk.send("GET", f"/api/v1/minigroups/{uuid4()}", headers=auth)
    assert unknown.status_code == 404
    malformed = await walk.send("GET", "/api/v1/minigroups/not-a-uuid", headers=auth)
    assert malformed.status_code == 400
    assert (await walk.send("GET", by_scope, headers=auth)).status_code == 200
    listing = f"/api/v1/audiences/{AUDIENCE}/minigroups?status=real-time&limit=5"
    assert (await walk.send("GET", listing, headers=auth)).status_code == 200
    bad_cursor = await walk.send("GET", f"{listing}&cursor=nope", headers=auth)
    assert bad_cursor.json()["type"] == "invalid_cursor"
    update = {"time": [1900000000, 1900007200], "reserve": 5}
    assert (await walk.send("PUT", by_id, json=update, headers=auth)).status_code == 200
    assert (await walk.send("PUT", by_scope, json=update, headers=auth)).status_code == 200
    bad = await walk.send("PUT", by_id, json={"time": [2, 1]}, headers=auth)
    assert bad.json()["type"] == "invalid_payload"

    prop = f"{by_id}/properties/is_adult"
    assert (await walk.send("PUT", prop, json={"a": [1]}, headers=auth)).status_code == 200
    assert (await walk.send("GET", prop, headers=auth)).status_code == 200
    assert (await walk.send("GET", f"{by_id}/properties/none", headers=auth)).status_code == 404
    account = "/api/v1/account/properties/onboarding"
    assert (await walk.send("GET", account, headers=auth)).status_code == 404
    assert (await walk.send("PUT", account, json="done", headers=auth)).status_code == 200
    assert (await walk.send("GET", account, headers=auth)).status_code == 200

    event = {"type": "message", "data": {"text": "hi"}}
    assert (await walk.send("POST", f"{by_id}/events", json=event, headers=auth)).status_code == 201
    assert (await walk.send("POST", f"{by_id}/whiteboard", headers=auth)).status_code == 201
    recreate = f"{by_id}/recreate"
    assert (await walk.send("POST", recreate, json={"time": None}, headers=auth)).status_code == 200
    restart = f"/api/v1/transcoding/minigroup/{minigroup_id}/restart"
    not_yet = await walk.send("POST", restart, headers=auth)
    assert not_yet.json()["type"] == "transcoding_flow_failed"
    missing = await walk.send("GET", f"{by_id}/download", headers=auth)
    assert missing.json()["type"] == "recording_not_found"

    await _finish_lesson(api, walk, minigroup_id)
    position = await walk.send("POST", f"{by_id}/timestamps", json={"position": 30}, headers=auth)
    assert position.status_code == 201
    transcoded = await walk.send("GET", read, headers=auth)
    assert transcoded.json()["status"] == "transcoded"
    assert transcoded.json()["position"] == 30
    assert (await walk.send("GET", f"{by_id}/download", headers=auth)).status_code == 200
    restarted = await walk.send("POST", restart, json={"priority": "high"}, headers=auth)
    assert restarted.status_code == 200
    edition = api.sandbox.event.add_edition(
        UUID(transcoded.json()["on_demand"][0]["event_room_id"]),
        created_by=f"web.editor.{AUDIENCE}",
    )
    commit = f"/api/v1/audiences/{AUDIENCE}/classes/conformance/editions/{edition['id']}"
    api.faults.fail("event", "edition.commit", status=500)
    failed = await walk.send("POST", commit, headers=auth)
    assert (failed.status_code, failed.json()["type"]) == (502, "edition_flow_failed")
    api.faults.reset_failures()
    assert (await walk.send("POST", commit, headers=auth)).status_code == 202

    every = {(method, resource.template) for resource, method, _ in walk.app.table.operations()}
    hooks = {operation for operation in every if "/webhooks" in operation[1]}
    assert every - hooks - walk.successes() == set()  # webhooks: walked below, on their own API


async def test_every_webhook_route_answers_what_it_declares(
    database_url: str, tmp_path: Path
) -> None:
    """Loopback targets are allowed here; nothing listens at the URL (port 9), and no sender
    runs (the lifespan is not started), so nothing leaves the machine."""
    allowed = {"webhooks": {"allow_http": True, "allow_private_targets": True}}
    async with running_api(database_url, tmp_path, sections=allowed) as api:
        document = (await api.client.get("/api/v1/openapi.json")).json()
        walk = Conformance(api, document)
        auth = api.auth()
        hooks = f"/api/v1/audiences/{AUDIENCE}/webhooks"
        spec = {"url": "http://127.0.0.1:9/hook", "events": ["*"], "description": "walk"}
        created = await walk.send("POST", hooks, json=spec, headers=auth)
        assert created.status_code == 201, created.text
        hook = f"{hooks}/{created.json()['id']}"
        refused = await walk.send("POST", hooks, json={**spec, "url": "ftp://x"}, headers=auth)
        assert refused.status_code >= 400
        assert (await walk.send("GET", hooks, headers=auth)).status_code == 200
        assert (await walk.send("GET", hook, headers=auth)).status_code == 200
        assert (await walk.send("GET", f"{hooks}/{uuid4()}", headers=auth)).status_code == 404
        await api.create()  # minigroup.created: one delivery to the endpoint
        listed = await walk.send("GET", f"{hook}/deliveries", headers=auth)
        assert listed.status_code == 200
        [delivery] = listed.json()["deliveries"]
        retry = f"{hook}/deliveries/{delivery['id']}/retry"
        assert (await walk.send("POST", retry, headers=auth)).status_code == 202
        rotated = await walk.send("POST", f"{hook}/rotate-secret", headers=auth)
        assert rotated.status_code == 200
        updated = await walk.send(
            "PUT", hook, json={**spec, "events": ["minigroup.ready"]}, headers=auth
        )
        assert updated.status_code == 200
        assert (await walk.send("DELETE", hook, headers=auth)).status_code == 204
        every = {
            (m, r.template) for r, m, _ in walk.app.table.operations() if "/webhooks" in r.template
        }
        assert every - walk.successes() == set()
