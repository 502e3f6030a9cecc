"""Account and agent identities as the platform writes them (contract.md upstream §1.1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AccountId:
    """`<label>.<audience>`: split at the first dot.

    Compare accounts as this (label, audience) pair, never as text: `alice.usr` of `a` and `alice`
    of `usr.a` print the same. Authentication refuses a label with a dot (the platform's labels
    never have one), so the text is unambiguous wherever it is stored (`key`).
    """

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

    def key(self) -> str:
        """The text under which the account's rows are stored; ValueError for a dotted label.

        Only a dot-free label makes `<label>.<audience>` name one pair, so that is checked here,
        at the storage boundary, as well as at authentication.
        """
        if "." in self.label:
            raise ValueError(f"an account label contains a dot: {self.label!r}")
        return str(self)


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
