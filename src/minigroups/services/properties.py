"""Class properties (R6, R7) and the caller's account properties (R14, R15)."""

from __future__ import annotations

from uuid import UUID

from minigroups.domain.errors import (
    AccountNotFound,
    AccountPropertyNotFound,
    ClassNotFound,
    ClassPropertyNotFound,
)
from minigroups.domain.ids import AccountId
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.services.access import ById, Guard, load_authorized
from minigroups.services.context import Context


async def read_class_property(
    ctx: Context, guard: Guard, minigroup_id: UUID, property_id: str
) -> JsonValue:
    """R6: one property's value (any JSON, `null` included)."""
    minigroup = await load_authorized(ctx, guard, ById(minigroup_id, any_kind=True))
    if property_id not in minigroup.properties:
        raise ClassPropertyNotFound
    return minigroup.properties[property_id]


async def write_class_property(
    ctx: Context, guard: Guard, minigroup_id: UUID, property_id: str, value: JsonValue
) -> JsonObject:
    """R7: set one key atomically under a row lock, so concurrent writers keep every key (D16).

    The key and value are checked against the limits first, the resulting map under the lock;
    a refused write changes nothing.
    """
    limits = ctx.options.limits
    await load_authorized(ctx, guard, ById(minigroup_id, any_kind=True))
    limits.check_property_key(property_id)
    limits.check_property_value(value)
    async with ctx.store.unit_of_work() as uow:
        minigroup = await uow.minigroups.lock(minigroup_id)
        if minigroup is None:
            raise ClassNotFound("Failed to find class")
        properties = {**minigroup.properties, property_id: value}
        limits.check_property_map(properties)
        await uow.minigroups.set_properties(minigroup_id, properties)
        await uow.commit()
    return properties


async def read_account_property(ctx: Context, caller: AccountId, property_id: str) -> JsonValue:
    """R14: no authorization; a caller only ever reads their own account."""
    async with ctx.store.unit_of_work(read_only=True) as uow:
        properties = await uow.accounts.get_properties(caller)
    if properties is None:
        raise AccountNotFound("Failed to find account")
    if property_id not in properties:
        raise AccountPropertyNotFound
    return properties[property_id]


async def write_account_property(
    ctx: Context, caller: AccountId, property_id: str, value: JsonValue
) -> JsonObject:
    """R15: shallow merge of one key, atomic under a row lock (D16), within the limits."""
    limits = ctx.options.limits
    limits.check_property_key(property_id)
    limits.check_property_value(value)
    async with ctx.store.unit_of_work() as uow:
        current = await uow.accounts.lock_properties(caller)
        properties = {**current, property_id: value}
        limits.check_property_map(properties)
        await uow.accounts.set_properties(caller, properties)
        await uow.commit()
    return properties
