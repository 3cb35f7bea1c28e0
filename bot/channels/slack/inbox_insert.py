"""The inbox's ack-path INSERT, sent on the database driver's own connection.

Every Slack request waits for this statement before it is acknowledged, so it skips what
SQLAlchemy adds per execution: on SQLite, four hops to aiosqlite's thread (cursor, execute,
fetch, close) become one (``execute_fetchall``); on PostgreSQL one prepared statement takes
any batch size (``unnest`` of one array per column) instead of a statement per batch size.
The values still go through the columns' own SQLAlchemy bind processors, so they are stored
exactly as the ORM stores them (UTC timestamps, JSON), and the connection is a SQLAlchemy
connection in autocommit: the INSERT is its own transaction, durable when it returns.

>>> insert = BatchInsert(db.engine.dialect)                  # doctest: +SKIP
>>> await insert(conn, [("event:Ev1", "message", ...)])       # doctest: +SKIP
{'event:Ev1'}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.models import SlackInboxEntry

#: the columns written on the ack path, in the order of each row's values
COLUMNS = (
    "dedupe_key",
    "kind",
    "ordering_key",
    "payload",
    "status",
    "attempts",
    "available_at",
    "created_at",
)
#: PostgreSQL: one array per column, so one prepared statement serves every batch size
_POSTGRES = (
    "INSERT INTO slack_inbox (dedupe_key, kind, ordering_key, payload, status, attempts, "
    "available_at, created_at) SELECT * FROM unnest($1::varchar[], $2::varchar[], "
    "$3::varchar[], $4::json[], $5::varchar[], $6::integer[], $7::timestamptz[], "
    "$8::timestamptz[]) ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key"
)
#: SQLite: one row of placeholders per request (at most 8 x inbox.MAX_BATCH parameters)
_SQLITE_HEAD = (
    "INSERT INTO slack_inbox (dedupe_key, kind, ordering_key, payload, status, attempts, "
    "available_at, created_at) VALUES "
)
_SQLITE_ROW = "(?, ?, ?, ?, ?, ?, ?, ?)"
_SQLITE_TAIL = " ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key"


class BatchInsert:
    """``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key`` for a batch."""

    def __init__(self, dialect: Dialect) -> None:
        if dialect.name not in {"postgresql", "sqlite"}:
            raise ValueError(f"the Slack inbox supports PostgreSQL and SQLite, not {dialect.name}")
        self.postgres = dialect.name == "postgresql"
        columns = SlackInboxEntry.__table__.c
        self._process: tuple[Callable[[Any], Any] | None, ...] = tuple(
            columns[name].type.dialect_impl(dialect).bind_processor(dialect) for name in COLUMNS
        )
        self._sqlite_sql: dict[int, str] = {}

    async def __call__(self, conn: AsyncConnection, rows: Sequence[Sequence[Any]]) -> set[str]:
        """Insert ``rows`` (values in :data:`COLUMNS` order); the keys that were new."""
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        process = self._process
        if self.postgres:
            columns: list[list[Any]] = [[] for _ in COLUMNS]
            for row in rows:
                for index, value in enumerate(row):
                    convert = process[index]
                    columns[index].append(convert(value) if convert else value)
            records = await driver.fetch(_POSTGRES, *columns)
            return {str(record[0]) for record in records}
        params: list[Any] = []
        for row in rows:
            for index, value in enumerate(row):
                convert = process[index]
                params.append(convert(value) if convert else value)
        found = await driver.execute_fetchall(self._sqlite(len(rows)), params)
        return {str(record[0]) for record in found}

    def _sqlite(self, count: int) -> str:
        sql = self._sqlite_sql.get(count)
        if sql is None:
            values = ", ".join([_SQLITE_ROW] * count)
            sql = self._sqlite_sql[count] = _SQLITE_HEAD + values + _SQLITE_TAIL
        return sql
