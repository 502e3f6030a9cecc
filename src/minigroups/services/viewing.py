"""Viewing positions (R5) and the download link of a transcoded minigroup (R10)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from minigroups.domain.errors import RecordingNotFound
from minigroups.domain.minigroup import clamp_position
from minigroups.services.access import ById, Guard, load_authorized
from minigroups.services.context import Context

# Characters percent-encoded inside the set segment of the download URL (contract.md R10), besides
# every C0 control and every non-ASCII character.
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
    return storage_url(ctx.options.storage_base_url, minigroup.audience, minigroup.scope)


def storage_url(base_url: str, audience: str, scope: str) -> str:
    """Append `api/v2/backends/yandex/sets/<set>/objects/mp4` as the reference does (R10)."""
    parts = urlsplit(base_url)
    segments = ["api", "v2", "backends", "yandex", "sets", set_segment(audience, scope)]
    segments += ["objects", "mp4"]
    base_path = parts.path
    path = (
        "/" + "/".join(segments) if base_path in ("", "/") else f"{base_path}/" + "/".join(segments)
    )
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def set_segment(audience: str, scope: str) -> str:
    """`ms.webinar.<audience>::<scope>` (prefix kept, D11) as one percent-encoded path segment.

    Distinct (audience, scope) pairs never share a segment: every control character is encoded
    (the reference dropped tab, CR and LF), and a `:` of the audience is encoded too, so the first
    `::` always ends the audience.
    """
    return f"ms.webinar.{_encode(audience, _ENCODED | {':'})}::{_encode(scope, _ENCODED)}"


def _encode(text: str, encoded: frozenset[str]) -> str:
    out: list[str] = []
    for char in text:
        if char in encoded or ord(char) < 0x20 or ord(char) > 0x7E:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        else:
            out.append(char)
    return "".join(out)
