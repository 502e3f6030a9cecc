"""`minigroups sandbox finish`: finish a lesson on a running sandbox service and watch it."""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

import httpx

TERMINAL = "transcoded"


class FinishFailed(Exception):
    """The service refused, or the minigroup did not reach `transcoded` in time."""


def local_base_url(listener_address: str) -> str:
    """The URL of a listener on this machine (`0.0.0.0` and `[::]` mean loopback)."""
    host, _, port = listener_address.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - a wildcard listener, reached via loopback
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def finish_and_watch(
    base_url: str,
    token: str,
    minigroup_id: UUID,
    *,
    participants: int = 2,
    timeout: float = 30.0,
    report: Callable[[str], None] = print,
) -> list[str]:
    """Ask the sandbox to finish the lesson, then report each status until `transcoded`."""
    try:
        return _finish_and_watch(
            base_url, token, minigroup_id, participants=participants, timeout=timeout, report=report
        )
    except httpx.HTTPError as exc:
        raise FinishFailed(f"cannot reach the service at {base_url}: {exc}") from exc


def _finish_and_watch(
    base_url: str,
    token: str,
    minigroup_id: UUID,
    *,
    participants: int,
    timeout: float,
    report: Callable[[str], None],
) -> list[str]:
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=5.0) as client:
        url = f"/api/v1/minigroups/{minigroup_id}"
        statuses = [_status(client, url)]
        report(statuses[0])
        answer = client.post(
            f"/sandbox/minigroups/{minigroup_id}/finish", json={"participants": participants}
        )
        if answer.status_code != 202:
            raise FinishFailed(f"the service answered {answer.status_code}: {answer.text}")
        deadline = time.monotonic() + timeout
        while statuses[-1] != TERMINAL:
            if time.monotonic() > deadline:
                raise FinishFailed(f"still {statuses[-1]} after {timeout} s")
            time.sleep(0.1)
            status = _status(client, url)
            if status != statuses[-1]:
                statuses.append(status)
                report(status)
    return statuses


def _status(client: httpx.Client, url: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        raise FinishFailed(
            f"reading the minigroup answered {response.status_code}: {response.text}"
        )
    status: str = response.json()["status"]
    return status
