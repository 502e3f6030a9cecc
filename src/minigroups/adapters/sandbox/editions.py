"""The sandbox event service's editions: `edition.create`, `edition.list` and the lookup that
`edition.commit` does first.

[peer] facts from foxford/event: an edition is `{id, source_room_id, created_by, created_at}`
with `created_at` in Unix seconds; `edition.list` lists one source room's editions, newest first,
25 per page by default, `last_created_at` continuing after the last one seen; an unknown edition
is `404 edition_not_found`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

from minigroups.adapters.sandbox import problems as p
from minigroups.domain.json_value import JsonObject
from minigroups.domain.timerange import to_unix

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


class EditionStore:
    """Editions by id, in creation order."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._editions: dict[UUID, JsonObject] = {}

    def add(
        self, source_room_id: UUID, *, created_by: str, created_at: int | None = None
    ) -> JsonObject:
        edition: JsonObject = {
            "id": str(uuid4()),
            "source_room_id": str(source_room_id),
            "created_by": created_by,
            "created_at": to_unix(self._clock()) if created_at is None else created_at,
        }
        self._editions[UUID(edition["id"])] = edition
        return edition

    def find(self, edition_id: UUID) -> JsonObject:
        edition = self._editions.get(edition_id)
        if edition is None:
            raise p.PeerProblem(p.EDITION_NOT_FOUND, f"the edition = '{edition_id}' is not found")
        return edition

    def list(self, payload: JsonObject) -> list[JsonObject]:
        """One page of `edition.list` for `payload["room_id"]` (the caller checks the room)."""
        room_id = str(p.require_uuid(payload, "room_id"))
        last = p.optional_int(payload, "last_created_at")
        limit = p.optional_int(payload, "limit")
        limit = DEFAULT_LIMIT if limit is None else limit
        if limit < 0:
            raise p.PeerProblem(p.INVALID_PAYLOAD, "`limit` must not be negative")
        editions = [e for e in self._editions.values() if e["source_room_id"] == room_id]
        # Newest first; among equal `created_at`, the later created first.
        order = {edition["id"]: index for index, edition in enumerate(editions)}
        newest_first = sorted(
            editions, key=lambda e: (int(e["created_at"]), order[e["id"]]), reverse=True
        )
        if last is not None:
            newest_first = [e for e in newest_first if e["created_at"] < last]
        return newest_first[: min(limit, MAX_LIMIT)]
