"""Log lines for people (``text``) or for a log pipeline (``json``), with the turn's context.

Where a turn starts (``ConversationEngine.handle``) it binds its context: the turn's id,
the channel, the council and, once raised, the ticket's reference (:func:`bind`). The
values live in a :mod:`contextvars` variable, so every record logged while the turn runs,
from whichever module, carries them, and concurrent turns never mix theirs up.
:class:`ContextFilter` copies them onto each record; :class:`JsonFormatter` writes one JSON
object per line. The redaction filter (``bot.redaction.install_log_redaction``) still runs
on every handler before the formatter, so neither format holds a secret.

>>> with bind(turn="t1", channel="web"):
...     current()
{'turn': 't1', 'channel': 'web'}
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from bot.redaction import redact

#: what a turn binds: its id, channel, council, ticket reference
#: (a tuple of pairs: a ContextVar's default must not be mutable)
_CONTEXT: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "itbot_log_context", default=()
)


def current() -> dict[str, str]:
    return dict(_CONTEXT.get())


def _merged(values: dict[str, str | None]) -> tuple[tuple[str, str], ...]:
    merged = {**dict(_CONTEXT.get()), **{k: v for k, v in values.items() if v}}
    return tuple(merged.items())


@contextlib.contextmanager
def bind(**values: str | None) -> Iterator[None]:
    """Add ``values`` to the context of every record logged inside the block."""
    token = _CONTEXT.set(_merged(values))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def update(**values: str | None) -> None:
    """Add to the context bound by the enclosing :func:`bind` (a ticket raised mid-turn)."""
    _CONTEXT.set(_merged(values))


F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def turn(handle: F) -> F:
    """Decorates the method that runs a turn, ``handle(self, incoming)``: a new turn id and
    the message's channel are bound while it runs."""

    @functools.wraps(handle)
    async def bound(self: Any, incoming: Any) -> Any:
        with bind(turn=uuid.uuid4().hex[:16], channel=str(incoming.channel)):
            return await handle(self, incoming)

    return cast(F, bound)


class ContextFilter(logging.Filter):
    """Puts the bound context on each record (``record.context``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.context = current()
        return True


class TextFormatter(logging.Formatter):
    """The readable line, with the context appended as ``key=value`` when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context: dict[str, str] = getattr(record, "context", {})
        if not context:
            return line
        head, sep, rest = line.partition("\n")  # after the message, before a traceback
        tags = " ".join(f"{key}={value}" for key, value in context.items())
        return f"{head} [{tags}]{sep}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "context", {}))
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class MigrationChatter(logging.Filter):
    """Drops Alembic's two lines on every start ("Context impl SQLiteImpl.", "Will assume
    non-transactional DDL."), which say nothing to an operator; "Running upgrade ..." lines,
    which say the schema changed, stay."""

    NOISE = ("Context impl ", "Will assume ")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.NOISE)


def configure(level: str, fmt: str, stream: Any) -> None:
    """Set up the root logger: one handler on ``stream`` in ``fmt`` (``text``/``json``).

    Like :func:`logging.basicConfig`, it leaves a root logger that already has handlers
    (someone else's, a test harness's) alone.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.addFilter(MigrationChatter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
