"""The terminal channel behind ``itbot chat``: one line in, the bot's replies out.

Buttons are shown numbered; typing the number presses the button, so every
flow can be completed by typing alone. Articles are rendered by ``rich``: styled on a
terminal, plain text when the output is piped, their links shown as full URLs.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from rich.console import Console
from rich.markdown import Markdown
from rich.padding import Padding

from bot.conversation.actions import Action
from bot.conversation.engine import ConversationEngine
from bot.conversation.messages import ArticleCard, Button, Incoming, Reply
from bot.conversation.text import choice_number
from bot.render import (
    ArticleLinks,
    article_link_resolver,
    article_url,
    build_environment,
    rewrite_links,
)

CHANNEL = "terminal"


class TerminalChat:
    def __init__(
        self,
        engine: ConversationEngine,
        email: str,
        *,
        out: TextIO | None = None,
        base_url: str = "http://127.0.0.1:8080",
        links: Callable[[], ArticleLinks | None] = lambda: None,
    ) -> None:
        self.engine = engine
        self.email = email
        self.out = out or sys.stdout
        self.base_url = base_url.rstrip("/")
        self.links = links
        # colours and styles on a terminal, plain text when piped (or NO_COLOR, TERM=dumb);
        # nothing typed or written in an article is read as rich's own [markup]
        self._console = Console(file=self.out, markup=False, emoji=False, highlight=False)
        self._template = build_environment().get_template("text/replies.txt")
        self._buttons: list[Button] = []

    def render(self, replies: Sequence[Reply]) -> str:
        return self._template.render(
            replies=replies, article_url=self._article_url, article_body=self._article_body
        )

    def _article_url(self, card: ArticleCard) -> str:
        return article_url(card.article_id, self.base_url)

    def _article_body(self, card: ArticleCard) -> str:
        """The card's markdown for this terminal, indented, links to other articles as URLs."""
        markdown = Markdown(card.body_markdown, hyperlinks=False)  # a link shows its URL
        rewrite_links(
            markdown.parsed, article_link_resolver(self.links(), card.article_id, self.base_url)
        )
        with self._console.capture() as captured:
            self._console.print(Padding(markdown, (0, 0, 0, 2)))
        return "\n".join(line.rstrip() for line in captured.get().splitlines())

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
            Incoming(
                channel=CHANNEL,
                email=self.email,
                text=line,
                press=press,
                proven=True,
                personal=True,
            )
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
