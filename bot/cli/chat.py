"""``itbot chat``: the same bot in the terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.council_for_email(args.email) is None:
        domains = ", ".join(d for c in settings.councils for d in c.domains)
        print(f"itbot: --as must be a council email address (on {domains})", file=sys.stderr)
        return 2
    try:
        asyncio.run(_chat(args.email, settings))
    except StorageError as exc:
        print(f"itbot: {exc}", file=sys.stderr)
        return 1
    return 0


async def _chat(email: str, settings: Settings) -> None:
    async with open_services(settings) as services:
        chat = TerminalChat(build_engine(services), email, base_url=settings.base_url)
        if sys.stdin.isatty():
            print(f"Chatting as {email}. Type your question; Ctrl+D to finish.")
        await chat.run(sys.stdin)
