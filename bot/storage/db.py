"""The async engine, session factory and migrations.

>>> db = Database("sqlite+aiosqlite:///:memory:")  # doctest: +SKIP
>>> await db.upgrade()                              # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from bot.errors import StorageError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


#: PostgreSQL connections a replica keeps open, and how many more it may open at busy times
POOL_SIZE = 10
POOL_OVERFLOW = 20

#: the PostgreSQL advisory lock key under which migrations run (any fixed number)
MIGRATION_LOCK = 0x17B07


class Database:
    """Owns the engine and hands out sessions: one session per unit of work."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if not self.is_sqlite:
            # every turn holds a connection for its unit of work: SQLAlchemy's default pool
            # (5 kept) made each turn beyond the fifth at once open a new connection (TLS
            # attempt, authentication, a new server process, every statement prepared
            # again) and close it after; keep enough for a busy replica's turns
            engine_kwargs = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW,
                             **engine_kwargs}  # fmt: skip
            # a pooled connection the server dropped (a failover, pg_terminate_backend, an
            # idle timeout in a proxy) is noticed at checkout and replaced, so no request
            # fails for it and the bot recovers without a restart
            engine_kwargs.setdefault("pool_pre_ping", True)
        # a failed statement's error text would otherwise carry its parameters (a person's
        # words, a ticket's text) into the log lines that report it
        engine_kwargs.setdefault("hide_parameters", True)
        self.engine: AsyncEngine = create_async_engine(url, **engine_kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> AsyncSession:
        return self.sessions()

    async def upgrade(self, revision: str = "head") -> None:
        """Apply the pending Alembic migrations up to ``revision`` (default: all of them)."""
        conn = await self.connect()
        try:
            if self.is_sqlite:
                # SQLite alters a table by copying it and dropping the old one; with
                # foreign keys on, that drop would cascade to every row that points at
                # it (a ticket's comments, events, outbox rows). The pragma only takes
                # effect outside a transaction, so it is set before and after.
                await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                await conn.commit()
            try:
                if not self.is_sqlite:
                    # replicas starting together on an empty database take turns: the
                    # lock is held until this transaction (every migration in it) commits
                    await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
                await conn.run_sync(_upgrade, revision)
                await conn.commit()
            finally:
                if self.is_sqlite:
                    await conn.rollback()
                    await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    await conn.commit()
        except (SQLAlchemyError, OSError) as exc:
            raise self.failed("migrate", exc) from exc
        finally:
            await conn.close()

    async def current_revision(self) -> str | None:
        conn = await self.connect()
        try:
            return await conn.run_sync(
                lambda c: MigrationContext.configure(c).get_current_revision()
            )
        except (SQLAlchemyError, OSError) as exc:
            raise self.failed("read", exc) from exc
        finally:
            await conn.close()

    async def connect(self) -> AsyncConnection:
        """An open connection (close it after); :class:`StorageError` if none can be made.

        The error is one line naming the database and its host, never the password:
        ``cannot reach the database none on 127.0.0.1:1: connection refused. ...``
        """
        try:
            return await self.engine.connect().start()
        except (SQLAlchemyError, OSError) as exc:
            if self.is_sqlite:
                await _let_sqlite_threads_stop()
            check = (
                "its folder exists and can be written to"
                if self.is_sqlite
                else "the database server is running and accepts connections"
            )
            raise StorageError(
                f"cannot reach {self.where}: {self._reason(exc)}. "
                f"Check ITBOT_DATABASE_URL and that {check}."
            ) from exc

    @property
    def where(self) -> str:
        """The database as a person names it: "the database itbot on db.council.local:5432"."""
        url = make_url(self.url)
        if self.is_sqlite:
            return f"the SQLite database {url.database or ':memory:'}"
        port = f":{url.port}" if url.port else ""
        return f"the database {url.database or '(default)'} on {url.host or 'localhost'}{port}"

    def failed(self, doing: str, exc: BaseException) -> StorageError:
        """One line for ``exc`` met while ``doing`` something: "could not read the database ..."."""
        return StorageError(f"could not {doing} {self.where}: {self._reason(exc)}")

    def _reason(self, exc: BaseException) -> str:
        """Why, in one line: the driver's own error (SQLAlchemy wraps it), password hidden."""
        cause: BaseException = getattr(exc, "orig", None) or exc
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "no such host"
        if isinstance(cause, TimeoutError):
            return "timed out"
        lines = str(cause).strip().splitlines()
        reason = lines[0] if lines else type(cause).__name__
        password = make_url(self.url).password
        return reason.replace(str(password), "***") if password else reason

    async def ping(self) -> bool:
        from sqlalchemy import text

        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError):
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(conn: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


async def _let_sqlite_threads_stop(limit: float = 1.0) -> None:
    """After a failed connect, aiosqlite stops that connection's thread by queueing a close
    that reports back to this event loop. A command that then ends (``asyncio.run``
    closing the loop) before the thread gets there makes it print "Event loop is closed"
    tracebacks under the command's one-line error; give the thread the loop first."""
    for _ in range(int(limit / 0.01)):
        if not any("_connection_worker_thread" in t.name for t in threading.enumerate()):
            return
        await asyncio.sleep(0.01)
