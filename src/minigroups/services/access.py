"""The one way a class-bound use case finds its minigroup and checks the caller may act on it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from minigroups.domain.errors import ClassNotFound
from minigroups.domain.ids import AccountId
from minigroups.domain.minigroup import Minigroup
from minigroups.ports import Action, MinigroupRead, UnitOfWork
from minigroups.services.context import Context


@dataclass(frozen=True, slots=True)
class Guard:
    """Who calls, and the action the route declares (HTTP §1, the Authz action column)."""

    caller: AccountId
    action: Action


@dataclass(frozen=True, slots=True)
class ById:
    """Look a minigroup up by id; `any_kind` for the routes that accept any class kind."""

    id: UUID
    any_kind: bool = False

    @property
    def not_found_detail(self) -> str:
        return "Failed to find class" if self.any_kind else "Failed to find minigroup"


@dataclass(frozen=True, slots=True)
class ByScope:
    """Look a minigroup up by audience and scope."""

    audience: str
    scope: str

    @property
    def not_found_detail(self) -> str:
        return "Failed to find minigroup by scope"


Locator = ById | ByScope


def classroom(minigroup_id: UUID) -> list[str]:
    """The authorization object of a class-bound route."""
    return ["classrooms", str(minigroup_id)]


async def find(uow: UnitOfWork, locator: Locator) -> Minigroup:
    """The established minigroup the locator names, or ClassNotFound."""
    if isinstance(locator, ById):
        found = await uow.minigroups.get(locator.id, any_kind=locator.any_kind)
    else:
        found = await uow.minigroups.get_by_scope(locator.audience, locator.scope)
    if found is None:
        raise ClassNotFound(locator.not_found_detail)
    return found


async def load_authorized(ctx: Context, guard: Guard, locator: Locator) -> Minigroup:
    """Find the minigroup (404 before 403, as the reference), then authorize in its audience.

    The lookup's connection is released before the authorization backend is asked.
    """
    async with ctx.store.unit_of_work(read_only=True) as uow:
        minigroup = await find(uow, locator)
    await ctx.authorizer.authorize(
        minigroup.audience, guard.caller, classroom(minigroup.id), guard.action
    )
    return minigroup


async def read_authorized(ctx: Context, guard: Guard, locator: Locator) -> MinigroupRead:
    """`load_authorized` for the read path: the minigroup with its live recordings and the
    caller's viewer data, found in one statement, then authorized (still 404 before 403; what
    was read for a caller who may not see it is dropped)."""
    reader = ctx.store.reader
    if isinstance(locator, ById):
        found = await reader.read_by_id(locator.id, guard.caller, any_kind=locator.any_kind)
    else:
        found = await reader.read_by_scope(locator.audience, locator.scope, guard.caller)
    if found is None:
        raise ClassNotFound(locator.not_found_detail)
    await ctx.authorizer.authorize(
        found.minigroup.audience, guard.caller, classroom(found.minigroup.id), guard.action
    )
    return found
