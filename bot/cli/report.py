"""``itbot report``: the per-council report for managers and the recharge.

* ``itbot report [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--council KEY] [--format json|csv|html]``
  - the period is whole days in UK time, both ends included (default: this month so
  far); JSON by default, ``csv`` for finance, ``html`` for a page to mail round. The same
  function computes every format and ``/desk/reports``.

>>> main(["report", "--from", "2026-11-01", "--to", "2026-11-30"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from typing import Any

from bot.desk.calendar import LONDON
from bot.insight import formats
from bot.insight.report import Period, PeriodError, build
from bot.settings import Settings
from bot.storage import Database
from bot.storage.models import utcnow
from bot.web.desk.reports import standalone_html

FORMATS = ("json", "csv", "html")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "report", help="the per-council report: answers, deflection, tickets, SLA, cost split"
    )
    parser.add_argument(
        "--from",
        dest="first",
        metavar="YYYY-MM-DD",
        default="",
        help="first day (UK time; default: the 1st of this month)",
    )
    parser.add_argument(
        "--to",
        dest="last",
        metavar="YYYY-MM-DD",
        default="",
        help="last day, included (default: today)",
    )
    parser.add_argument("--council", metavar="KEY", default="", help="only this council")
    parser.add_argument(
        "--format", dest="fmt", metavar="FORMAT", default="json", help="json (default), csv or html"
    )
    parser.set_defaults(handler=report_command)


def _period(first: str, last: str, today: datetime) -> Period:
    default = Period.this_month(today.date())
    return Period.parse(first or default.first.isoformat(), last or default.last.isoformat())


def report_command(args: argparse.Namespace, settings: Settings) -> int:
    now = utcnow()
    try:
        period = _period(args.first, args.last, now.astimezone(LONDON))
    except PeriodError as exc:
        print(f"itbot report: {exc}", file=sys.stderr)
        return 2
    keys = [c.key for c in settings.councils]
    if args.council and args.council not in keys:
        print(
            f"itbot report: no council {args.council!r}; one of {', '.join(keys)}", file=sys.stderr
        )
        return 2
    if args.fmt not in FORMATS:
        print(f"itbot report: --format must be one of {', '.join(FORMATS)}", file=sys.stderr)
        return 2

    async def work() -> dict[str, Any]:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            return await build(db, settings.councils, period, now=now, council=args.council or None)
        finally:
            await db.dispose()

    report = asyncio.run(work())
    if args.fmt == "csv":
        sys.stdout.write(formats.to_csv(report))
    elif args.fmt == "html":
        sys.stdout.write(standalone_html(report, settings))
    else:
        print(json.dumps(report, indent=2))
    return 0
