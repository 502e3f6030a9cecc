"""contract.md upstream §6.4 step 3 and §6.7 (D20): each recording's new `modified_segments`."""

from __future__ import annotations

import uuid
from datetime import timedelta

from minigroups.domain.adjustment import adjusted_segments, edited_segments
from minigroups.domain.minigroup import Recording, Segments
from tests.unit.pipeline.support import NOW, RTC1, RTC2, USER1, USER2, recording

CUT: Segments = [(3000, 1_500_000), (1_800_000, 3_000_000)]
REC1_SEGMENTS: Segments = [(0, 1_500_000), (1_800_000, 3_000_000)]
REC2_SEGMENTS: Segments = [(0, 2_700_000)]


def _recordings() -> tuple[Recording, Recording]:
    """Upstream §10 item 3: rec1 by the host user1, rec2 by user2."""
    rec1 = recording(RTC1, USER1, started_at=NOW - timedelta(hours=1), segments=REC1_SEGMENTS)
    rec2 = recording(RTC2, USER2, started_at=NOW - timedelta(minutes=50), segments=REC2_SEGMENTS)
    return rec1, rec2


def test_the_host_gets_the_cut_and_everyone_else_their_own_segments() -> None:
    """Upstream §10 item 3's database assertions."""
    rec1, rec2 = _recordings()

    result = adjusted_segments([rec1, rec2], USER1, CUT)

    assert result == {rec1.id: CUT, rec2.id: REC2_SEGMENTS}
    assert result[rec2.id] is not rec2.segments  # a copy: the caller may keep the old value
    assert result[rec1.id] is not CUT


def test_unconverted_recordings_keep_no_segments() -> None:
    rec1, rec2 = _recordings()
    pending = recording(
        uuid.uuid4(), "web.user3.dev.usr.example.com", started_at=None, segments=None
    )

    result = adjusted_segments([rec1, rec2, pending], USER2, CUT)

    assert result == {rec1.id: REC1_SEGMENTS, rec2.id: CUT, pending.id: None}


def test_the_host_is_matched_by_exact_agent_id() -> None:
    rec1, rec2 = _recordings()

    result = adjusted_segments([rec1, rec2], USER1.upper(), CUT)

    assert result == {rec1.id: REC1_SEGMENTS, rec2.id: REC2_SEGMENTS}


def test_an_edition_commit_gives_the_host_no_segments() -> None:
    """D20: kept from the reference."""
    rec1, rec2 = _recordings()

    assert edited_segments([rec1, rec2], USER1) == {rec1.id: [], rec2.id: REC2_SEGMENTS}
