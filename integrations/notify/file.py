"""``file:PATH``: each message appended to a file as one JSON line, for demos and tests.

Every line holds ``to``, ``channel``, ``text``, ``subject``, ``purpose`` and ``sent_at``
(UTC, ISO 8601). The file is created readable by its owner only (mode 0600): it holds
one-time codes. Concurrent sends never interleave: a lock in the process, and each line
is written with a single ``write`` to a file opened for appending, which keeps lines
whole between processes too.

>>> sender = FileSender(Path("/tmp/itbot-codes.jsonl"))  # doctest: +SKIP
>>> await sender.send(Message("07700 900123", "sms", "Your code is 123456"))  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from .base import Channel, Message, SendError

MODE = 0o600


def _now() -> datetime:
    return datetime.now(UTC)


class FileSender:
    """Appends one JSON line per message to ``path``."""

    name = "file"
    channels: frozenset[Channel] = frozenset({"sms", "email"})

    def __init__(self, path: Path, *, clock: Callable[[], datetime] = _now) -> None:
        self.path = path
        self._clock = clock
        self._lock = asyncio.Lock()

    async def send(self, message: Message) -> None:
        line = json.dumps(
            {
                "to": message.to,
                "channel": message.channel,
                "text": message.text,
                "subject": message.subject,
                "purpose": message.purpose,
                "sent_at": self._clock().isoformat(),
            },
            ensure_ascii=False,
        )
        async with self._lock:
            try:
                await asyncio.to_thread(self._append, (line + "\n").encode("utf-8"))
            except OSError as exc:
                # the path and the reason, never the message
                raise SendError(
                    f"cannot write to {self.path} ({exc.strerror or type(exc).__name__})",
                    retryable=False,
                ) from None

    def _append(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, MODE)
        try:
            written = os.write(fd, data)
            while written < len(data):  # a short write: finish the line
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)

    async def aclose(self) -> None:
        return None
