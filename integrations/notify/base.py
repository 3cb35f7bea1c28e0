"""The sender protocol every notification adapter implements.

A :class:`Message` goes to one address by text message (``sms``) or email. ``purpose`` names
what it is for (``code``, ``sign_in_code``, ``access_changed``, ``approval``): adapters use
it for subjects and for logs, which never hold ``text`` when ``secret`` is set (it carries
a one-time code). Nothing secret ever goes in a reference an external service keeps.

A failed send raises :class:`SendError`; ``retryable`` says whether trying again may work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Channel = Literal["sms", "email"]


@dataclass(frozen=True, slots=True)
class Message:
    to: str
    channel: Channel
    text: str
    subject: str = ""
    purpose: str = "notice"
    #: the text holds a one-time code: never logged, never kept
    secret: bool = False


class SendError(Exception):
    """The message was not sent. Never carries the message's text."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class Sender(Protocol):
    """Sends messages. ``channels`` says what it can reach (``smtp`` can't text a mobile)."""

    name: str
    channels: frozenset[Channel]

    async def send(self, message: Message) -> None:
        """Send ``message`` or raise :class:`SendError`."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
