"""Viewing positions (R5) and the download link of a transcoded minigroup (R10)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from minigroups.domain.errors import RecordingNotFound
from minigroups.domain.minigroup import clamp_position
from minigroups.services.access import ById, Guard, load_authorized
from minigroups.services.context import Context

# Bytes percent-encoded inside the set segment of the download URL (contract.md R10).
_ENCODED = frozenset(' "#<>?`{}/%\\\x7f')


async def save_position(ctx: Context, guard: Guard, minigroup_id: UUID, position: int) -> None:
    """R5: remember where the caller is in the recording, clamped to 0..86400 s (D10)."""
    minigroup = await load_authorized(ctx, guard, ById(minigroup_id))
    async with ctx.store.unit_of_work() as uow:
        await uow.positions.save(minigroup.id, guard.caller, clamp_position(position))
        await uow.commit()


async def download_url(ctx: Context, guard: Guard, minigroup_id: UUID) -> str:
    """R10: the mp4 URL in storage once every live recording is transcoded (D11)."""
    minigroup = await load_authorized(ctx, guard, ById(minigroup_id))
    async with ctx.store.unit_of_work(read_only=True) as uow:
        recordings = await uow.recordings.list_live(minigroup.id)
    if not recordings:
        raise RecordingNotFound("Minigroup has no recordings")
    if any(recording.transcoded_at is None for recording in recordings):
        raise RecordingNotFound("Minigroup recordings were not transcoded")
    set_id = f"ms.webinar.{minigroup.audience}::{minigroup.scope}"  # prefix kept (D11)
    return storage_url(ctx.options.storage_base_url, set_id)


def storage_url(base_url: str, set_id: str) -> str:
    """Append `api/v2/backends/yandex/sets/<set>/objects/mp4` as the reference does (R10)."""
    parts = urlsplit(base_url)
    segments = [
        "api",
        "v2",
        "backends",
        "yandex",
        "sets",
        _encode_segment(set_id),
        "objects",
        "mp4",
    ]
    base_path = parts.path
    path = (
        "/" + "/".join(segments) if base_path in ("", "/") else f"{base_path}/" + "/".join(segments)
    )
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def _encode_segment(segment: str) -> str:
    out: list[str] = []
    for char in segment:
        if char in "\t\r\n":
            continue
        if char in _ENCODED or ord(char) < 0x20 or ord(char) > 0x7E:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
        else:
            out.append(char)
    return "".join(out)
