"""What an authorization question is about, and the reference's wording of its refusals."""

from __future__ import annotations

from dataclasses import dataclass

from minigroups.domain.errors import AccessDenied, AuthorizationUnavailable
from minigroups.domain.ids import AccountId


@dataclass(frozen=True, slots=True)
class Intent:
    """`subject` wants to do `action` on `object_`.

    Backends compare intents, and the decision cache keys on them, as values: the subject's
    (label, audience) pair, the object's segments and the action. The text is only for messages:
    different intents can print the same (`alice.usr` of `a`, an object segment with a `/`).
    """

    subject: AccountId
    object_: tuple[str, ...]
    action: str

    def __str__(self) -> str:
        return f"intent::{self.subject}::{'/'.join(self.object_)}::{self.action}"

    def denied(self, reason: str) -> AccessDenied:
        """The backend said no (403 `access_denied`)."""
        return AccessDenied(f"[Forbidden] {self} has been forbidden, {reason}")

    def unavailable(self, reason: str) -> AuthorizationUnavailable:
        """The backend could not answer (503 `authorization_failed`, D6)."""
        return AuthorizationUnavailable(f"[Network] {self} has been forbidden, {reason}")
