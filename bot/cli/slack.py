"""``itbot slack manifest``: print the Slack app manifest with your URLs filled in."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.channels.slack.manifest import ManifestError, manifest
from bot.settings import Settings


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("slack", help="Slack app set-up")
    slack_sub = parser.add_subparsers(dest="slack_command", metavar="ACTION", required=True)
    show = slack_sub.add_parser(
        "manifest",
        help="print the Slack app manifest (paste it into api.slack.com/apps → From a manifest)",
    )
    mode = show.add_mutually_exclusive_group(required=True)
    mode.add_argument("--url", help="public https:// URL of `itbot serve`, e.g. https://host")
    mode.add_argument(
        "--socket-mode",
        action="store_true",
        help="for Socket Mode (SLACK_APP_TOKEN): no request URLs",
    )
    show.set_defaults(handler=run_manifest)


def run_manifest(args: argparse.Namespace, settings: Settings) -> int:
    try:
        print(manifest(args.url, socket_mode=args.socket_mode), end="")
    except ManifestError as exc:
        print(f"itbot: {exc}", file=sys.stderr)
        return 2
    return 0
