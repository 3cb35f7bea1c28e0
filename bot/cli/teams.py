"""``itbot teams manifest``: write the Teams app package (manifest + icons, zipped)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.channels.teams.manifest import ManifestError, package
from bot.settings import Settings


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("teams", help="Microsoft Teams app set-up")
    teams_sub = parser.add_subparsers(dest="teams_command", metavar="ACTION", required=True)
    make = teams_sub.add_parser(
        "manifest",
        help="write the Teams app package (upload it in Teams → Apps → Manage your apps)",
    )
    make.add_argument(
        "--url", required=True, help="public https:// URL of `itbot serve`, e.g. https://host"
    )
    make.add_argument(
        "--out",
        type=Path,
        default=Path("itbot-teams.zip"),
        help="where to write the package (default: itbot-teams.zip)",
    )
    make.add_argument("--name", default="IT help", help="the app's short name in Teams")
    make.set_defaults(handler=run_manifest)


def run_manifest(args: argparse.Namespace, settings: Settings) -> int:
    try:
        data = package(
            args.url,
            app_id=settings.teams_app_id or "",
            name=args.name,
            desk=settings.desk_name,
        )
    except ManifestError as exc:
        print(f"itbot: {exc}", file=sys.stderr)
        return 2
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes): upload it in Teams (Apps → Manage your apps)")
    return 0
