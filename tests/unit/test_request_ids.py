"""A generated request id (services/trail.py): a version-4 UUID's canonical text, a new one
each time, and not the parent's sequence in a forked worker."""

from __future__ import annotations

import os
from uuid import RFC_4122, UUID

import pytest

from minigroups.services.trail import new_request_id


def test_a_generated_id_is_a_version_4_uuid_in_its_canonical_text() -> None:
    ids = [new_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, RFC_4122, text)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_process_draws_other_ids_than_its_parent() -> None:
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        os.write(writer, ",".join(new_request_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader) as pipe:
        childs = pipe.read().split(",")
    parents = [new_request_id() for _ in range(3)]
    assert len(childs) == 3
    assert not set(childs) & set(parents)
