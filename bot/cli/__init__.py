"""``itbot``: the command line.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser(s) and sets ``handler`` to a
function ``(args, settings) -> int`` returning the exit code.

>>> main(["--help"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from bot import logs
from bot.errors import SettingsError, StorageError
from bot.redaction import install_log_redaction
from bot.settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]

#: Sub-command modules, in the order ``itbot --help`` lists them.
COMMAND_MODULES = (
    "serve",
    "chat",
    "kb",
    "intents",
    "desk",
    "audit",
    "privacy",
    "report",
    "notice",
    "slack",
    "teams",
    "db",
    "settings",
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or only ``command``'s part of it: each sub-command's
    module imports what it runs on (``serve`` the whole web app), so a scripted
    ``itbot report`` or ``itbot privacy export`` starts without importing the others."""
    parser = argparse.ArgumentParser(
        prog="itbot",
        description="Self-service IT bot for the Joint ICT Service Desk.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES if command not in COMMAND_MODULES else (command,):
        module = import_module(f"bot.cli.{name}")
        module.register(sub)
    return parser


def command_named(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` names first (``None`` for ``--help`` and the like); its
    parser still reports anything wrong after it, with the usage of that command."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def log_level(args: argparse.Namespace, settings: Settings) -> str:
    """``ITBOT_LOG_LEVEL``, except for a command that counts ``-v`` (``itbot chat``).

    Such a command talks to a person on the same terminal: warnings only by default,
    ``-v`` for INFO, ``-vv`` for DEBUG (always on standard error).
    """
    verbose: int | None = getattr(args, "verbose", None)
    if verbose is None:
        return settings.log_level
    return ("WARNING", "INFO", "DEBUG")[min(verbose, 2)]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``itbot`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(command_named(argv))
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_environ(os.environ)
    except SettingsError as exc:
        print(f"itbot: configuration error: {exc}", file=sys.stderr)
        return 2
    # text or JSON lines, each with the turn's context (turn id, channel, council, ticket)
    logs.configure(log_level(args, settings), settings.log_format, sys.stderr)
    install_log_redaction()  # no log line holds a secret someone typed
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except SettingsError as exc:
        print(f"itbot: configuration error: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:  # one line naming the database (never its password)
        print(f"itbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
