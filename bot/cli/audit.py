"""``itbot audit``: read the append-only audit log from a terminal, for auditors and scripts.

* ``itbot audit list [--json] [--action A] [--actor EMAIL] [--since YYYY-MM-DD] [--limit N]``
  - the newest entries first (50 unless ``--limit``). Plain output is a table; ``--json``
  prints one JSON array of ``{"at", "actor", "action", "subject", "details"}`` objects
  (``at`` in ISO 8601, UTC), ``[]`` when nothing matches. ``--since`` counts from the start
  of that day in UK time.

>>> main(["audit", "list", "--action", "approval_approved", "--json"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date, datetime, time
from typing import Any

from bot.desk.calendar import LONDON
from bot.errors import StorageError
from bot.settings import Settings
from bot.storage import Database, audit
from bot.storage.models import AuditEntry
from bot.web.desk.present import when


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "audit", help="read the audit log: resets, approvals, agents' actions"
    )
    audit_sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    listing = audit_sub.add_parser("list", help="entries, newest first")
    listing.add_argument("--action", metavar="A", default="", help="only this action")
    listing.add_argument("--actor", metavar="EMAIL", default="", help="only this actor")
    listing.add_argument(
        "--since", metavar="YYYY-MM-DD", type=_day, help="from the start of this day (UK time)"
    )
    listing.add_argument("--limit", type=int, default=50, help="at most this many (50)")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(handler=list_command)


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a date like 2026-11-27") from None


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.created_at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "details": entry.details,
    }


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    since = datetime.combine(args.since, time(0), tzinfo=LONDON) if args.since else None
    filters = audit.AuditFilter(actor=args.actor, action=args.action, since=since)

    async def work() -> list[AuditEntry]:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            async with db.session() as session:
                return await audit.search(session, filters, limit=max(args.limit, 1))
        finally:
            await db.dispose()

    try:
        entries = asyncio.run(work())
    except StorageError as exc:
        print(f"itbot: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([entry_json(e) for e in entries], default=str))
        return 0
    print(_table(entries))
    print(f"{len(entries)} entries, newest first", file=sys.stderr)
    return 0


def _table(entries: list[AuditEntry]) -> str:
    rows = [("When", "Actor", "Action", "Subject", "Details")]
    for e in entries:
        details = ", ".join(f"{k}={v}" for k, v in (e.details or {}).items())
        rows.append((when(e.created_at), e.actor, e.action, e.subject, details))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        (
            "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
            + "  "
            + row[4]
        ).rstrip()
        for row in rows
    )
