"""The terminal channel behind ``itbot chat``: one line in, the bot's replies out.

Buttons are shown numbered; typing the number presses the button, so every
flow can be completed by typing alone.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

from bot.conversation.actions import Action
from bot.conversation.engine import ConversationEngine
from bot.conversation.messages import Button, Incoming, Reply
from bot.conversation.text import choice_number
from bot.render import build_environment

CHANNEL = "terminal"


class TerminalChat:
    def __init__(
        self,
        engine: ConversationEngine,
        email: str,
        *,
        out: TextIO | None = None,
        base_url: str = "http://127.0.0.1:8080",
    ) -> None:
        self.engine = engine
        self.email = email
        self.out = out or sys.stdout
        self.base_url = base_url.rstrip("/")
        self._template = build_environment().get_template("text/replies.txt")
        self._buttons: list[Button] = []

    def render(self, replies: Sequence[Reply]) -> str:
        return self._template.render(replies=replies, base_url=self.base_url)

    async def say(self, line: str) -> list[Reply]:
        """Send one typed line (a number picks one of the last buttons) and print replies."""
        press: Action | None = None
        index = choice_number(line, len(self._buttons))
        if index is not None:
            button = self._buttons[index]
            press = button.action
            line = ""
        replies = await self.engine.handle(
            # the operator runs the bot with its own credentials on its server: ``--as``
            # is trusted like a single sign-on identity
            Incoming(channel=CHANNEL, email=self.email, text=line, press=press, proven=True)
        )
        self._buttons = [b for r in replies for b in r.buttons]
        self.out.write(self.render(replies).rstrip() + "\n")
        self.out.flush()
        return replies

    async def run(self, stream: TextIO) -> None:
        """Read lines until end of input."""
        interactive = stream.isatty()
        while True:
            if interactive:
                self.out.write("you> ")
                self.out.flush()
            line = await asyncio.to_thread(stream.readline)
            if not line:
                break
            if not line.strip():
                continue
            await self.say(line.rstrip("\n"))
