"""The tq client: task creation over HTTP (contract.md upstream §5.1)."""

from __future__ import annotations

import json
from urllib.parse import urljoin
from uuid import UUID

import httpx

from minigroups.domain import escaping
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from minigroups.domain.json_value import JsonObject

SERVICE = "tq"
METHOD = "create_task"


def task_url(base_url: str, audience: str, task_id: str, classroom_id: UUID) -> str:
    """The reference's relative join: a base without a trailing `/` loses its last segment.

    Audience and task id (which holds the caller's scope) are percent-encoded, each into exactly
    one segment (`domain/escaping.py`); the reference put them in raw, so a scope with `/`, `..`,
    `?` or `#` could move the request to another audience's path (issue 8).
    """
    path = "/".join(
        (
            "api/v1/audiences",
            escaping.segment(audience),
            "tasks",
            escaping.segment(task_id),
            "classrooms",
            str(classroom_id),
        )
    )
    return urljoin(base_url, path)


class TqClient:
    """`ports.TaskQueue`: POSTs the task; success is status 200 and nothing else."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        token: str,
        user_agent: str,
        timeout: float,
    ) -> None:
        self._http = http
        self._base_url = base_url
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "User-Agent": user_agent,
        }
        self._timeout = timeout

    async def create_task(
        self, *, audience: str, task_id: str, classroom_id: UUID, task: JsonObject
    ) -> None:
        url = task_url(self._base_url, audience, task_id, classroom_id)
        body = json.dumps(task, separators=(",", ":")).encode()
        try:
            response = await self._http.post(
                url, content=body, headers=self._headers, timeout=self._timeout
            )
        except httpx.TimeoutException as exc:
            detail = f"no answer within {self._timeout}s"
            raise _failure(UpstreamFailureKind.TIMEOUT, detail) from exc
        except (httpx.RequestError, httpx.InvalidURL) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            raise _failure(UpstreamFailureKind.UNAVAILABLE, detail) from exc
        if response.status_code != 200:
            detail = response.text or f"status {response.status_code}"
            raise _failure(UpstreamFailureKind.REJECTED, detail, response.status_code)


def _failure(kind: UpstreamFailureKind, detail: str, status: int | None = None) -> UpstreamFailed:
    return UpstreamFailed(kind, SERVICE, METHOD, detail, peer_status=status)
