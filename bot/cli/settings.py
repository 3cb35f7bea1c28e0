"""``itbot settings``: the settings in effect, or the README's configuration table.

* ``itbot settings`` - every variable with the value in effect (secrets hidden), marking
  the ones left at their default.
* ``itbot settings --markdown`` - the configuration table of the README, generated from
  the declarations in :mod:`bot.settings`.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.settings import SETTINGS, Settings, settings_table_markdown


def register(sub: Any) -> None:
    """Add the ``settings`` command to ``itbot``'s parser."""
    parser = sub.add_parser("settings", help="show the settings in effect (secrets hidden)")
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="print the README's configuration table instead",
    )
    parser.set_defaults(handler=settings_command)


def settings_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.markdown:
        print(settings_table_markdown(), end="")
        return 0
    fields = [s for s in SETTINGS if s.attr]
    width = max(len(s.env) for s in fields)
    for s in fields:
        value = getattr(settings, s.attr)
        note = "  (default)" if value == s.default else ""
        print(f"{s.env:<{width}}  {s.display(value)}{note}")
    return 0
