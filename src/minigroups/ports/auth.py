"""Authorization: may this account do this action on this object of an audience (D6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from minigroups.domain.ids import AccountId

Action = Literal["create", "read", "update", "delete", "download", "list"]


class Authorizer(Protocol):
    async def authorize(
        self, audience: str, subject: AccountId, object_: Sequence[str], action: Action
    ) -> None:
        """Return when allowed; raise AccessDenied, or AuthorizationUnavailable (D6)."""
        ...
