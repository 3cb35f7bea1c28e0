"""``itbot``: the command line.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser(s) and sets ``handler`` to a
function ``(args, settings) -> int`` returning the exit code.

>>> main(["--help"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from bot.errors import SettingsError
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
    "slack",
    "db",
    "settings",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="itbot",
        description="Self-service IT bot for the Joint ICT Service Desk.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        module = import_module(f"bot.cli.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``itbot`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_environ(os.environ)
    except SettingsError as exc:
        print(f"itbot: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    install_log_redaction()  # no log line holds a secret someone typed
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except SettingsError as exc:
        print(f"itbot: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
