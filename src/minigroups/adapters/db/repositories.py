"""Account properties and viewing positions (contract.md HTTP §6.4, §6.5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import bindparam, select

from minigroups.adapters.db.connection import TranslatingConnection
from minigroups.adapters.db.tables import account, record_timestamp
from minigroups.adapters.db.upsert import insert_into
from minigroups.domain.ids import AccountId
from minigroups.domain.json_value import JsonObject

_ACCOUNT_PROPERTIES = select(account.c.properties).where(account.c.id == bindparam("p_id"))
_LOCK_ACCOUNT = _ACCOUNT_PROPERTIES.with_for_update()
_POSITION = select(record_timestamp.c.position_secs).where(
    record_timestamp.c.class_id == bindparam("p_class_id"),
    record_timestamp.c.account_id == bindparam("p_account_id"),
)

_POSITIONS = select(record_timestamp.c.class_id, record_timestamp.c.position_secs).where(
    record_timestamp.c.class_id.in_(bindparam("p_class_ids", expanding=True)),
    record_timestamp.c.account_id == bindparam("p_account_id"),
)


class SqlAccountRepository:
    def __init__(self, connection: TranslatingConnection) -> None:
        self._connection = connection

    async def get_properties(self, account_id: AccountId) -> JsonObject | None:
        properties: JsonObject | None = await self._connection.scalar_one_or_none(
            _ACCOUNT_PROPERTIES, {"p_id": account_id.key()}
        )
        return properties

    async def lock_properties(self, account_id: AccountId) -> JsonObject:
        insert = insert_into(self._connection.dialect_name, account)
        await self._connection.execute(
            insert.values(id=account_id.key(), properties={}).on_conflict_do_nothing(
                index_elements=[account.c.id]
            )
        )
        properties: JsonObject = await self._connection.scalar_one(
            _LOCK_ACCOUNT, {"p_id": account_id.key()}
        )
        return properties

    async def set_properties(self, account_id: AccountId, properties: JsonObject) -> None:
        insert = insert_into(self._connection.dialect_name, account)
        statement = insert.values(id=account_id.key(), properties=properties)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[account.c.id],
                set_={"properties": statement.excluded.properties},
            )
        )


class SqlPositionRepository:
    def __init__(self, connection: TranslatingConnection) -> None:
        self._connection = connection

    async def get(self, class_id: UUID, account_id: AccountId) -> int | None:
        position: int | None = await self._connection.scalar_one_or_none(
            _POSITION, {"p_class_id": class_id, "p_account_id": account_id.key()}
        )
        return position

    async def get_many(self, class_ids: Sequence[UUID], account_id: AccountId) -> dict[UUID, int]:
        if not class_ids:
            return {}
        rows = await self._connection.all(
            _POSITIONS, {"p_class_ids": list(class_ids), "p_account_id": account_id.key()}
        )
        return {row.class_id: row.position_secs for row in rows}

    async def save(self, class_id: UUID, account_id: AccountId, position_secs: int) -> None:
        now = datetime.now(UTC)
        insert = insert_into(self._connection.dialect_name, record_timestamp)
        statement = insert.values(
            class_id=class_id,
            account_id=account_id.key(),
            position_secs=position_secs,
            created_at=now,
            updated_at=now,
        )
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[record_timestamp.c.class_id, record_timestamp.c.account_id],
                set_={
                    "position_secs": statement.excluded.position_secs,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )
