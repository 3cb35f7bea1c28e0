"""``itbot privacy``: retention, subject access and erasure (UK GDPR), for the data protection
officer and scripts.

* ``itbot privacy purge [--older-than DAYS]`` - purge what people typed before DAYS ago
  (``ITBOT_RETENTION_DAYS`` unless given; ``0`` purges everything up to now) and print how
  many rows of each kind changed. ``itbot serve`` runs the same purge on a schedule.
* ``itbot privacy export --email ADDRESS`` - everything held about one person, as JSON.
* ``itbot privacy erase --email ADDRESS [--yes]`` - erase one person, after typing their
  address again (or ``--yes``); written to the audit log.

>>> main(["privacy", "export", "--email", "sam.taylor@dacorum.gov.uk"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.privacy import erasure, retention, subject
from bot.settings import Settings
from bot.storage import Database
from bot.storage import staff as staff_repo
from bot.storage.models import utcnow

T = TypeVar("T")

#: who the audit log names for an erasure run from a terminal
OPERATOR = "operator:itbot-privacy"


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "privacy", help="retention purge, subject access export, erasure (UK GDPR)"
    )
    actions = parser.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)
    purge = actions.add_parser("purge", help="purge what people typed before the retention period")
    purge.add_argument(
        "--older-than",
        metavar="DAYS",
        type=_days,
        default=None,
        help="purge texts older than DAYS days (default ITBOT_RETENTION_DAYS; 0: everything)",
    )
    purge.set_defaults(handler=purge_command)
    export = actions.add_parser("export", help="everything held about one person, as JSON")
    export.add_argument("--email", required=True, metavar="ADDRESS", help="their email address")
    export.set_defaults(handler=export_command)
    erase = actions.add_parser("erase", help="erase one person (their tickets kept, anonymised)")
    erase.add_argument("--email", required=True, metavar="ADDRESS", help="their email address")
    erase.add_argument("--yes", action="store_true", help="don't ask to type the address again")
    erase.set_defaults(handler=erase_command)


def _days(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of days, 0 or more (got {raw!r})")
    return value


def _run(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def main() -> T:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


def purge_command(args: argparse.Namespace, settings: Settings) -> int:
    days = settings.retention_days if args.older_than is None else int(args.older_than)

    async def work(db: Database) -> dict[str, int]:
        return await retention.purge_once(db, now=utcnow(), days=days)

    counts = _run(settings, work)
    print(f"Purged what people typed more than {days} days ago:")
    for kind, n in counts.items():
        print(f"  {kind.replace('_', ' ')}: {n}")
    return 0


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> dict[str, Any] | None:
        async with db.session() as session:
            return await subject.export(session, args.email)

    held = _run(settings, work)
    if held is None:
        print(f"itbot: nobody with the address {args.email.strip()!r} is known", file=sys.stderr)
        return 1
    print(json.dumps(held, indent=2, ensure_ascii=False))
    return 0


def erase_command(args: argparse.Namespace, settings: Settings) -> int:
    address = staff_repo.normalise_email(args.email)

    async def known(db: Database) -> bool:
        async with db.session() as session:
            return await staff_repo.get_by_email(session, address) is not None

    if not _run(settings, known):
        print(f"itbot: nobody with the address {args.email.strip()!r} is known", file=sys.stderr)
        return 1
    if not args.yes:
        print(
            f"This erases {address}: their conversations, messages, sessions, codes and "
            "resets; their tickets are kept, anonymised. Type the address again to confirm:",
            file=sys.stderr,
        )
        typed = sys.stdin.readline()
        if staff_repo.normalise_email(typed) != address:
            print("itbot: the address didn't match; nothing was erased", file=sys.stderr)
            return 1

    async def work(db: Database) -> dict[str, int] | None:
        async with db.session() as session, session.begin():
            person = await staff_repo.get_by_email(session, address)
            if person is None:  # erased meanwhile
                return None
            return await erasure.erase(session, person, actor=OPERATOR, now=utcnow())

    counts = _run(settings, work)
    if counts is None:
        print(f"itbot: nobody with the address {args.email.strip()!r} is known", file=sys.stderr)
        return 1
    print(f"Erased {address} (recorded in the audit log):")
    for kind, n in counts.items():
        print(f"  {kind.replace('_', ' ')}: {n}")
    return 0
