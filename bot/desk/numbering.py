"""Ticket references: ``JSD-000123`` from the ticket's id, written with the ticket.

On PostgreSQL a new ticket takes its id from the table's sequence and its reference
formatted from that id in the same ``INSERT`` (no ``UPDATE`` follows); elsewhere the
caller flushes and sets the reference from the new id with :func:`ref_for`.

>>> ref_for("JSD", 42), ref_for("JSD", 1_234_567)
('JSD-000042', 'JSD-1234567')
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Insert, Text, bindparam, case, cast, func, insert, inspect, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from bot.desk.tickets import Ticket

#: the columns the INSERT fills from the sequence
_NUMBERED = ("id", "ref")


def ref_for(prefix: str, ticket_id: int) -> str:
    return f"{prefix}-{ticket_id:06d}"


@functools.cache
def _numbered_insert(prefix: str, columns: tuple[str, ...]) -> Insert:
    """``INSERT INTO tickets`` taking the id from the table's sequence (in a CTE) and
    formatting the reference from it in SQL exactly as :func:`ref_for` does, so no
    UPDATE has to follow; ``columns`` are bound by name. Built once per shape."""
    sequence = func.pg_get_serial_sequence(Ticket.__tablename__, Ticket.id.key)
    new = select(func.nextval(sequence).label("id")).cte("new_ticket")
    digits = cast(new.c.id, Text)
    ref = literal(f"{prefix}-") + case(
        (new.c.id < 1_000_000, func.lpad(digits, 6, "0")), else_=digits
    )
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    values |= {"id": select(new.c.id).scalar_subquery(), "ref": select(ref).scalar_subquery()}
    return insert(Ticket).values(values).add_cte(new).returning(Ticket.id, Ticket.ref)


async def insert_numbered(session: AsyncSession, ticket: Ticket, prefix: str) -> Ticket:
    """Write a new ticket with its id and reference in one statement (PostgreSQL).

    Pending rows are not flushed first (the INSERT needs none of them): they go out
    together at the next flush instead of one round trip each per ticket.
    """
    state = inspect(ticket)
    values: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        column = attr.columns[0]
        if column.key in _NUMBERED:
            continue
        if attr.key in state.dict:
            values[attr.key] = state.dict[attr.key]
        elif column.default is None and column.server_default is None:
            values[attr.key] = None  # as a flush writes it
    connection = await session.connection()
    result = await connection.execute(_numbered_insert(prefix, tuple(values)), values)
    ticket.id, ticket.ref = result.one()
    written = result.last_inserted_params()  # with the columns' Python-side defaults
    assert isinstance(written, Mapping)  # one row
    for attr in state.mapper.column_attrs:
        if attr.key not in state.dict and attr.key in written:
            setattr(ticket, attr.key, written[attr.key])
    make_transient_to_detached(ticket)  # as if loaded: every attribute clean
    session.add(ticket)
    return ticket
