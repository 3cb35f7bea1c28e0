"""The editors' loop on the command line: what to write next, and how articles do.

* ``itbot kb gaps [--days N] [--council KEY] [--json]`` - clusters of questions no article
  answered (declined, "none of these", rated "No", "not IT" that was IT), largest first,
  each with its id and the articles that come closest now; and the articles rated unhelpful.
* ``itbot kb stub CLUSTER [--kb DIR] [--days N] [--owner EMAIL]`` - write a new article
  for a cluster, front matter filled in, for an editor to complete.
* ``itbot kb usage [--days N] [--council KEY] [--json]`` - per article: given as the
  answer, offered, helpful rate, last edited, review due; stale and never-used articles.

All three read the bot's database (``ITBOT_DATABASE_URL``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.kb_common import council_key, kb_option, load, mode, semantic_option
from bot.conversation.gaps import RATED_NO, Gap, GapReport, find_cluster, gap_report
from bot.conversation.stubs import StubError, write_stub
from bot.conversation.usage import UsageReport, usage_report
from bot.settings import Settings
from bot.storage import Database

T = TypeVar("T")


def register(kb_sub: Any) -> None:
    """Add ``gaps``, ``stub`` and ``usage`` to ``itbot kb``."""
    gaps = kb_sub.add_parser(
        "gaps", help="clusters of questions no article answered; articles rated unhelpful"
    )
    _period(gaps, 30)
    gaps.add_argument("--council", metavar="KEY", help="only questions from this council's staff")
    gaps.add_argument("--limit", type=int, default=20, help="how many of each to show (20)")
    gaps.add_argument("--json", action="store_true", help="print JSON")
    kb_option(gaps)
    semantic_option(gaps)
    gaps.set_defaults(handler=gaps_command)

    stub = kb_sub.add_parser("stub", help="write a new article for a cluster from `kb gaps`")
    stub.add_argument("cluster", metavar="CLUSTER", help="the cluster's id, as `kb gaps` shows it")
    _period(stub, 90)
    stub.add_argument(
        "--owner", metavar="EMAIL", help="the article's owner (default: the asking council's desk)"
    )
    kb_option(stub)
    stub.set_defaults(handler=stub_command)

    usage = kb_sub.add_parser(
        "usage", help="per article: views, helpful rate, last edited, review due"
    )
    _period(usage, 30)
    usage.add_argument("--council", metavar="KEY", help="only this council's staff")
    usage.add_argument("--json", action="store_true", help="print JSON")
    kb_option(usage)
    usage.set_defaults(handler=usage_command)


def _period(parser: argparse.ArgumentParser, days: int) -> None:
    parser.add_argument("--days", type=int, default=days, help=f"look back this many days ({days})")


def _read(settings: Settings, what: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def go() -> T:
        db = Database(settings.database_url)
        try:
            await (await db.connect()).close()  # unreachable: StorageError, one line
            async with db.session() as session:
                return await what(session)
        except SQLAlchemyError as exc:
            raise db.failed("read the conversations in", exc) from exc
        finally:
            await db.dispose()

    return asyncio.run(go())


def _since(days: int) -> datetime:
    if days < 1:
        raise SystemExit("itbot kb: --days must be at least 1")
    return datetime.now(UTC) - timedelta(days=days)


def gaps_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.limit < 1:
        raise SystemExit("itbot kb: --limit must be at least 1")
    since = _since(args.days)
    council = council_key(args, settings)
    kb = load(args, settings, mode(args, settings))
    report = _read(
        settings,
        lambda s: gap_report(s, kb, since=since, council=council, now_for=args.limit),
    )
    if args.json:
        print(json.dumps(_gaps_json(report, args.limit), indent=2))
    else:
        _print_gaps(report, args.days, args.limit)
    return 0


def gap_json(g: Gap) -> dict[str, Any]:
    return {
        "id": g.id,
        "count": g.count,
        "phrasings": g.phrasings,
        "councils": dict(g.councils),
        "outcomes": dict(g.outcomes),
        "first_asked": g.first_asked.isoformat(timespec="seconds"),
        "last_asked": g.last_asked.isoformat(timespec="seconds"),
        "decision_now": g.decision_now,
        "article_now": g.article_now,
        "closest": [{"article": c.article_id, "title": c.title} for c in g.closest],
    }


def _gaps_json(report: GapReport, limit: int) -> dict[str, Any]:
    return {
        "since": report.since.isoformat(timespec="seconds"),
        "council": report.council,
        "questions_asked": report.questions_asked,
        "questions_unanswered": report.questions_unanswered,
        "gaps": [gap_json(g) for g in report.gaps[:limit]],
        "unhelpful": [
            {
                "article": u.article_id,
                "title": u.title,
                "unhelpful": u.unhelpful,
                "helpful": u.helpful,
                "questions": u.questions,
            }
            for u in report.unhelpful[:limit]
        ],
    }


def _print_gaps(report: GapReport, days: int, limit: int) -> None:
    who = f" from {report.council} staff" if report.council else ""
    print(
        f"last {days} days{who}: {report.questions_asked} questions for the knowledge base, "
        f"{report.questions_unanswered} not answered"
    )
    print()
    if not report.gaps:
        print("No unanswered questions.")
    else:
        print(
            f"Asked, and no article answered ({len(report.gaps)} clusters, most asked first; "
            "`itbot kb stub ID` writes an article for one):"
        )
    for n, gap in enumerate(report.gaps[:limit], start=1):
        councils = ", ".join(f"{k} {v}" for k, v in gap.councils.most_common())
        how = ", ".join(f"{k} {v}" for k, v in gap.outcomes.most_common())
        print(
            f'{n:2}. {gap.count}x  "{gap.phrasings[0]}"  ({councils}; last {gap.last_asked:%d %b})'
        )
        print(f"        id: {gap.id}  ({how})")
        for other in gap.phrasings[1:]:
            print(f'        also: "{other}"')
        if gap.article_now and gap.outcomes[RATED_NO] == gap.count:
            print(f'        answered by {gap.article_now}, which was rated "No"')
        elif gap.article_now:
            print(f"        now answered by {gap.article_now}")
        elif gap.closest:
            print("        closest: " + ", ".join(c.article_id for c in gap.closest))
    print()
    if not report.unhelpful:
        print("No article was rated unhelpful.")
        return
    print("Rated unhelpful (No / Yes):")
    for u in report.unhelpful[:limit]:
        print(f"  {u.unhelpful} / {u.helpful}  {u.article_id}  {u.title}")
        for q in u.questions:
            print(f'        after: "{q}"')


def stub_command(args: argparse.Namespace, settings: Settings) -> int:
    since = _since(args.days)
    root: Path | None = args.kb or settings.kb_path
    kb = load(args, settings, "off")
    gap = _read(settings, lambda s: find_cluster(s, kb, args.cluster, since=since))
    if gap is None:
        print(
            f"itbot kb stub: no cluster {args.cluster!r} in the last {args.days} days "
            "(see `itbot kb gaps` for the ids)",
            file=sys.stderr,
        )
        return 1
    owner = args.owner or _desk_email(settings, gap)
    try:
        path = write_stub(root, gap, owner=owner, today=kb.today)
    except StubError as exc:
        print(f"itbot kb stub: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}: complete it, then set valid_from so it is served")
    return 0


def _desk_email(settings: Settings, gap: Gap) -> str:
    """The desk address of the council whose staff asked most."""
    return settings.council(gap.councils.most_common(1)[0][0]).desk_email


def usage_command(args: argparse.Namespace, settings: Settings) -> int:
    since = _since(args.days)
    council = council_key(args, settings)
    kb = load(args, settings, "off")
    report = _read(settings, lambda s: usage_report(s, kb, since=since, council=council))
    if args.json:
        print(json.dumps(usage_json(report), indent=2))
    else:
        _print_usage(report, args.days)
    return 0


def usage_json(report: UsageReport) -> dict[str, Any]:
    return {
        "since": report.since.isoformat(timespec="seconds"),
        "council": report.council,
        "last_edited_from": report.edited_from,
        "articles": [
            {
                "article": a.article_id,
                "title": a.title,
                "views": a.views,
                "answered": a.answered,
                "offered": a.offered,
                "helpful": a.helpful,
                "unhelpful": a.unhelpful,
                "helpful_rate": None if a.helpful_rate is None else round(a.helpful_rate, 3),
                "last_edited": a.last_edited.isoformat(timespec="seconds")
                if a.last_edited
                else None,
                "review_by": a.review_by.isoformat() if a.review_by else None,
                "stale": a.stale,
                "served": a.served,
            }
            for a in report.articles
        ],
        "stale": [a.article_id for a in report.stale],
        "never_used": [a.article_id for a in report.never_used],
    }


def _print_usage(report: UsageReport, days: int) -> None:
    who = f" by {report.council} staff" if report.council else ""
    print(f"last {days} days{who}; last edited from {report.edited_from}")
    heads = f"{'views':>5} {'answer':>6} {'offer':>5} {'helpful':>7}"
    print(f"{heads}  {'edited':10}  {'review':10}  id")
    for a in report.articles:
        rate = "-" if a.helpful_rate is None else f"{a.helpful_rate:.0%}"
        edited = f"{a.last_edited:%Y-%m-%d}" if a.last_edited else "-"
        review = a.review_by.isoformat() if a.review_by else "-"
        flag = "  (review overdue)" if a.stale else ""
        flag += "" if a.served else "  (not served)"
        print(
            f"{a.views:5} {a.answered:6} {a.offered:5} {rate:>7}  {edited:10}  {review:10}  "
            f"{a.article_id}{flag}"
        )
    print()
    print(f"Review overdue: {len(report.stale)}")
    for a in report.stale:
        print(f"  {a.article_id}  (due {a.review_by})")
    print(f"Never used in the period: {len(report.never_used)}")
    for a in report.never_used:
        print(f"  {a.article_id}")
