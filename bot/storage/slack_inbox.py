"""The Slack inbox table (``slack_inbox``): recording, claiming, finishing and pruning rows.

The Slack channel's ``Inbox`` decides when and in what batches; this module holds every
statement it runs, each on a connection the caller opened (a Core connection, not an ORM
session: the ack path and the workers pay for nothing they do not use).

Recording is :class:`BatchInsert`, sent on the database driver's own connection. Every
Slack request waits for it before it is acknowledged, so it skips what SQLAlchemy adds per
execution: on SQLite, four hops to aiosqlite's thread (cursor, execute, fetch, close)
become one (``execute_fetchall``); on PostgreSQL one prepared statement takes any batch
size (``unnest`` of one array per column) instead of a statement per batch size. The
values still go through the columns' own SQLAlchemy bind processors, so they are stored
exactly as the ORM stores them (UTC timestamps, JSON), and the connection is a SQLAlchemy
connection in autocommit: the INSERT is its own transaction, durable when it returns.

Claiming takes ``pending`` rows (and rows whose lease ran out because their replica
stopped) with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL and an atomic ``UPDATE
... RETURNING`` on both databases, so each row goes to exactly one worker. Rows of one
conversation are claimed oldest first and never while an older one is unfinished.

>>> insert = BatchInsert(db.engine.dialect)                  # doctest: +SKIP
>>> await insert(conn, [("event:Ev1", "message", ...)])       # doctest: +SKIP
{'event:Ev1'}
>>> rows = await claim(conn, worker_id="host:1", limit=8, now=now, lease_until=later)
...                                                          # doctest: +SKIP
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.storage.models import SlackInboxEntry

PENDING, CLAIMED, DONE, FAILED = "pending", "claimed", "done", "failed"

T = SlackInboxEntry

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
#: SQLite: one row of placeholders per request (at most 8 x the inbox's MAX_BATCH parameters)
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


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """A row a worker now holds, as stored: the job is still its JSON ``payload``."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    outbox: dict[str, Any] | None


async def claim(
    conn: AsyncConnection, *, worker_id: str, limit: int, now: datetime, lease_until: datetime
) -> list[ClaimedRow]:
    """Up to ``limit`` rows for ``worker_id``, oldest first, in each conversation's order.

    Run it in a transaction (``engine.begin()``): the candidates stay locked until the
    claim commits.
    """
    ready = _ready(now)
    candidates = (
        await conn.execute(
            select(T.id, T.ordering_key)
            .where(ready)
            .order_by(T.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not candidates:
        return []
    unfinished = (
        await conn.execute(
            select(T.ordering_key, T.id)
            .where(
                T.ordering_key.in_({row.ordering_key for row in candidates}),
                T.status.in_((PENDING, CLAIMED)),
            )
            .order_by(T.id)
        )
    ).all()
    ids = _in_order({row.id for row in candidates}, unfinished)
    if not ids:
        return []
    claimed = (
        await conn.execute(
            update(T)
            .where(T.id.in_(ids), ready)
            .values(
                status=CLAIMED,
                claimed_by=worker_id,
                lease_until=lease_until,
                attempts=T.attempts + 1,
            )
            .returning(T.id, T.kind, T.payload, T.attempts, T.outbox)
        )
    ).all()
    rows = [ClaimedRow(row.id, row.kind, row.payload, row.attempts, row.outbox) for row in claimed]
    return sorted(rows, key=lambda row: row.id)


async def save_outbox(
    conn: AsyncConnection, row_id: int, *, worker_id: str, outbox: dict[str, Any]
) -> bool:
    """Keep what a processed row is sending (and how much of it went), if it is still ours."""
    return await _update_mine(conn, [row_id], worker_id, outbox=outbox)


async def complete(conn: AsyncConnection, row_id: int, *, worker_id: str, now: datetime) -> bool:
    """Mark done and forget the content (the key stays, to refuse later retries)."""
    return await _update_mine(
        conn,
        [row_id],
        worker_id,
        status=DONE,
        payload={},
        outbox=None,
        lease_until=None,
        finished_at=now,
    )


async def fail(
    conn: AsyncConnection, row_id: int, *, worker_id: str, error: str, now: datetime
) -> bool:
    """Give up on a row: failed, content forgotten, the key kept."""
    return await _update_mine(
        conn, [row_id], worker_id, status=FAILED, payload={}, error=error[:200], finished_at=now
    )


async def retry_at(
    conn: AsyncConnection, row_id: int, *, worker_id: str, error: str, available_at: datetime
) -> bool:
    """Give a row back, to be claimed again from ``available_at``."""
    return await _update_mine(
        conn,
        [row_id],
        worker_id,
        status=PENDING,
        claimed_by=None,
        lease_until=None,
        available_at=available_at,
        error=error[:200],
    )


async def release(conn: AsyncConnection, ids: Sequence[int], *, worker_id: str) -> bool:
    """Give rows back untouched (the claim does not count as an attempt)."""
    return await _update_mine(
        conn,
        ids,
        worker_id,
        status=PENDING,
        claimed_by=None,
        lease_until=None,
        attempts=T.attempts - 1,
    )


async def extend(
    conn: AsyncConnection, ids: Sequence[int], *, worker_id: str, lease_until: datetime
) -> bool:
    return await _update_mine(conn, ids, worker_id, lease_until=lease_until)


async def prune(conn: AsyncConnection, *, finished_before: datetime) -> int:
    """Delete done and failed rows finished before ``finished_before``; how many went."""
    result = await conn.execute(
        delete(T).where(T.status.in_((DONE, FAILED)), T.finished_at < finished_before)
    )
    return int(result.rowcount or 0)


async def counts(conn: AsyncConnection) -> dict[str, int]:
    """How many rows are in each status."""
    rows = (await conn.execute(select(T.status, func.count()).group_by(T.status))).all()
    return {str(status): int(count) for status, count in rows}


async def _update_mine(
    conn: AsyncConnection, ids: Sequence[int], worker_id: str, **values: Any
) -> bool:
    result = await conn.execute(
        update(T)
        .where(T.id.in_(list(ids)), T.claimed_by == worker_id, T.status == CLAIMED)
        .values(**values)
    )
    return bool(result.rowcount)


def _ready(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(T.status == PENDING, T.available_at <= now),
        and_(T.status == CLAIMED, T.lease_until < now),
    )


def _in_order(candidates: set[int], unfinished: Sequence[Any]) -> list[int]:
    """Candidates that are at the head of their conversation's unfinished rows."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for key, row_id in unfinished:
        by_key[key].append(row_id)
    chosen: list[int] = []
    for row_ids in by_key.values():
        for row_id in row_ids:
            if row_id not in candidates:
                break
            chosen.append(row_id)
    return sorted(chosen)
