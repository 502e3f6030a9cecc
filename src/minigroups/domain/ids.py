"""Account and agent identities as the platform writes them (contract.md upstream §1.1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AccountId:
    """`<label>.<audience>`: split at the first dot."""

    label: str
    audience: str

    @classmethod
    def parse(cls, text: str) -> AccountId:
        label, sep, audience = text.partition(".")
        if not sep or not label or not audience:
            raise ValueError(f"account id must be <label>.<audience>: {text!r}")
        return cls(label, audience)

    def __str__(self) -> str:
        return f"{self.label}.{self.audience}"


@dataclass(frozen=True, slots=True)
class AgentId:
    """`<agent label>.<account label>.<audience>`: label up to the first dot, then an account id."""

    label: str
    account: AccountId

    @classmethod
    def parse(cls, text: str) -> AgentId:
        label, sep, rest = text.partition(".")
        if not sep or not label:
            raise ValueError(f"agent id must be <label>.<account label>.<audience>: {text!r}")
        return cls(label, AccountId.parse(rest))

    def __str__(self) -> str:
        return f"{self.label}.{self.account}"
