"""The demo notifier: messages are printed in the server's terminal, never sent.

For the quick start and demos. Each message goes to the stream given (standard error by
default), labelled so nobody mistakes it for a message that reached a phone or a mailbox.
It writes to the stream directly, never through :mod:`logging`, so no log line (and no
log file or log collector) ever holds a one-time code.

>>> import io
>>> out = io.StringIO()
>>> import asyncio
>>> asyncio.run(ConsoleSender(out).send(Message("07700 900123", "sms", "Your code is 123456")))
>>> out.getvalue()
'[demo notifier — not sent] text to 07700 900123: Your code is 123456\\n'
"""

from __future__ import annotations

import sys
from typing import TextIO

from .base import Channel, Message

LABEL = "[demo notifier — not sent]"


class ConsoleSender:
    """Prints each message, labelled as a demo. Reaches "sms" and "email" alike."""

    name = "console"
    channels: frozenset[Channel] = frozenset({"sms", "email"})

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, message: Message) -> None:
        what = "text" if message.channel == "sms" else "email"
        subject = f" (subject: {message.subject})" if message.subject else ""
        body = message.text.replace("\n", "\n    ")  # later lines indented under the label
        stream = self._stream if self._stream is not None else sys.stderr
        stream.write(f"{LABEL} {what} to {message.to}{subject}: {body}\n")
        stream.flush()

    async def aclose(self) -> None:
        return None
