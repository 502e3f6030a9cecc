"""Each recording's `modified_segments` after an adjust or a commit (upstream §6.4, §6.7)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from minigroups.domain.minigroup import Recording, Segments


def adjusted_segments(
    recordings: Sequence[Recording], host: str, cut_original_segments: Segments
) -> dict[UUID, Segments | None]:
    """New `modified_segments` by recording id after `room.adjust` (upstream §6.4 step 3).

    The host's recording gets the cut segments; everyone else a copy of their own segments.
    """
    return {
        recording.id: (
            list(cut_original_segments)
            if recording.created_by == host
            else _copy(recording.segments)
        )
        for recording in recordings
    }


def edited_segments(recordings: Sequence[Recording], host: str) -> dict[UUID, Segments | None]:
    """New `modified_segments` by recording id after `edition.commit` (upstream §6.7)."""
    # D20: the reference gives the host `[]` (no cut segments after a commit); kept on purpose.
    return adjusted_segments(recordings, host, [])


def _copy(segments: Segments | None) -> Segments | None:
    return None if segments is None else list(segments)
