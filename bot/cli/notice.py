"""``itbot notice``: service notices for scripts (the dashboard's ``/desk/notices`` does the same).

* ``itbot notice list [--all] [--json]`` - the notices standing (``--all``: ended ones too),
  newest first; ``--json`` prints one JSON array of ``{"id", "text", "products",
  "councils", "since", "expires_at", "ended_at", "standing"}``.
* ``itbot notice add --text TEXT --councils KEY[,KEY] [--products P[,P]] [--hours N]
  [--category C] [--by WHO]`` - publish one; prints its id.
* ``itbot notice end ID [--by WHO]`` - end one now.

Bad arguments (an unknown council, no text, hours out of range, an unknown notice) give
one line on standard error and a non-zero exit.

>>> main(["notice", "add", "--text", "Outlook is down; we're on it.",
...       "--councils", "dacorum", "--products", "Outlook"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import build_desk
from bot.desk.errors import InvalidChange
from bot.desk.notices import standing
from bot.desk.outage_tables import ServiceNotice
from bot.errors import StorageError
from bot.settings import Settings
from bot.storage import Database
from bot.web.desk.present import when

MAX_HOURS = 72


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "notice", help="service notices about known problems: list, add, end"
    )
    notice_sub = parser.add_subparsers(dest="notice_command", metavar="ACTION", required=True)
    listing = notice_sub.add_parser("list", help="the notices standing, newest first")
    listing.add_argument("--all", action="store_true", help="ended and expired ones too")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(handler=list_command)
    add = notice_sub.add_parser("add", help="publish a notice")
    add.add_argument("--text", required=True, help="what staff are told")
    add.add_argument("--councils", required=True, help="council keys, comma-separated")
    add.add_argument("--products", default="", help="products it is about, comma-separated")
    add.add_argument("--category", default="", help="ticket category it is about")
    add.add_argument("--hours", type=int, default=None, help="hours until it expires")
    add.add_argument("--by", default="itbot notice", help="who publishes it (audit log)")
    add.set_defaults(handler=add_command)
    end = notice_sub.add_parser("end", help="end a notice now")
    end.add_argument("id", help="the notice's number (from `itbot notice list`)")
    end.add_argument("--by", default="itbot notice", help="who ends it (audit log)")
    end.set_defaults(handler=end_command)


def _fail(message: str, code: int = 2) -> int:
    print(f"itbot notice: {message}", file=sys.stderr)
    return code


def _split(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def notice_json(notice: ServiceNotice, now: datetime) -> dict[str, Any]:
    return {
        "id": notice.id,
        "text": notice.text,
        "products": notice.products,
        "councils": notice.councils,
        "since": notice.since.isoformat(),
        "expires_at": notice.expires_at.isoformat(),
        "ended_at": notice.ended_at.isoformat() if notice.ended_at else None,
        "standing": standing(notice, now),
    }


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(UTC)

    async def work() -> list[ServiceNotice]:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            async with db.session() as session:
                desk = build_desk(settings)
                return await desk.notices.listing(session, now=now, ended=args.all, limit=500)
        finally:
            await db.dispose()

    try:
        notices = asyncio.run(work())
    except StorageError as exc:
        return _fail(str(exc), 1)
    if args.json:
        print(json.dumps([notice_json(n, now) for n in notices], indent=2))
        return 0
    if not notices:
        print("No notices standing." if not args.all else "No notices.")
        return 0
    for n in notices:
        state = "standing" if standing(n, now) else "ended"
        councils = ",".join(n.councils)
        print(f"{n.id:>4}  {state:<8}  {councils:<24}  until {when(n.expires_at)}  {n.text}")
    return 0


def add_command(args: argparse.Namespace, settings: Settings) -> int:
    known = [c.key for c in settings.councils]
    councils = _split(args.councils)
    unknown = [c for c in councils if c not in known]
    if unknown or not councils:
        return _fail(f"unknown council {', '.join(unknown) or '(none)'}; use {', '.join(known)}")
    hours = settings.notice_hours if args.hours is None else args.hours
    if not 1 <= hours <= MAX_HOURS:
        return _fail(f"--hours must be from 1 to {MAX_HOURS}")
    now = datetime.now(UTC)

    async def work() -> ServiceNotice:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            async with db.session() as session, session.begin():
                return await build_desk(settings).notices.publish(
                    session,
                    text=args.text,
                    products=_split(args.products),
                    councils=councils,
                    category=args.category,
                    expires_at=now + timedelta(hours=hours),
                    by=args.by,
                    now=now,
                )
        finally:
            await db.dispose()

    try:
        notice = asyncio.run(work())
    except InvalidChange as exc:
        return _fail(str(exc))
    except StorageError as exc:
        return _fail(str(exc), 1)
    print(f"Notice {notice.id} published until {when(notice.expires_at)}: {notice.text}")
    return 0


def end_command(args: argparse.Namespace, settings: Settings) -> int:
    if not args.id.isdigit():
        return _fail(f"{args.id!r} is not a notice number (see `itbot notice list`)")

    async def work() -> ServiceNotice:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            async with db.session() as session, session.begin():
                return await build_desk(settings).notices.end(
                    session, int(args.id), by=args.by, now=datetime.now(UTC)
                )
        finally:
            await db.dispose()

    try:
        notice = asyncio.run(work())
    except InvalidChange as exc:
        return _fail(str(exc), 1)
    except StorageError as exc:
        return _fail(str(exc), 1)
    print(f"Notice {notice.id} ended.")
    return 0
