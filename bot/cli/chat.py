"""``itbot chat``: the same bot in the terminal."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from typing import Any

from bot import wording
from bot.app import build_engine, open_services
from bot.channels.terminal import TerminalChat
from bot.errors import StorageError
from bot.settings import Settings


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "chat", help="chat with the bot in the terminal"
    )
    parser.add_argument(
        "--as",
        dest="email",
        default="alex.jones@aylesburyvaledc.gov.uk",
        help="who you are: a council email address (default %(default)s)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log to standard error: warnings only by default, -v for INFO, -vv for DEBUG",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.council_for_email(args.email) is None:
        domains = wording.staff_domains(settings)
        print(f"itbot: --as must be a council email address ({domains})", file=sys.stderr)
        return 2
    try:
        asyncio.run(_chat(args.email, settings))
    except StorageError as exc:
        print(f"itbot: {exc}", file=sys.stderr)
        return 1
    return 0


async def _chat(email: str, settings: Settings) -> None:
    async with open_services(settings) as services:
        chat = TerminalChat(
            build_engine(services),
            email,
            base_url=settings.base_url,
            links=lambda: services.knowledge.kb,
        )
        if sys.stdin.isatty():
            print(f"Chatting as {email}. Type your question; Ctrl+D to finish.")
        if isinstance(sys.stdin, io.TextIOWrapper):
            # bytes that aren't UTF-8 become U+FFFD rather than ending the chat
            sys.stdin.reconfigure(errors="replace")
        await chat.run(sys.stdin)
