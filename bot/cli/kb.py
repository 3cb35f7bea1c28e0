"""``itbot kb``: the knowledge editors' commands.

* ``itbot kb check [--kb DIR]`` - every problem with file:line and a fix hint; exit 1 on errors.
* ``itbot kb search "question" [--council KEY] [--json]`` - the ranking, scores and decision.
* ``itbot kb preview ID [--council KEY]`` - the article as that council's staff see it.
* ``itbot kb eval --kb DIR --questions FILE.jsonl [--results OUT.jsonl]`` - quality figures.
* ``itbot kb stats [--kb DIR]`` - what the knowledge base holds.
* ``itbot kb gaps [--days N] [--council KEY] [--json]`` - what staff asked that no article
  answered, and the articles they rated unhelpful (reads the bot's database).

``--kb`` defaults to ``ITBOT_KB_PATH``, else the bundled articles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.conversation.gaps import GapReport, gap_report
from bot.settings import SemanticMode, Settings
from bot.storage import Database
from knowledge import KnowledgeBase, SearchResult, bundled_root
from knowledge.evaluate import QuestionFileError, evaluate, read_questions
from knowledge.search import Explained

SEMANTIC_CHOICES = ("auto", "on", "off")


def register(sub: Any) -> None:
    """Add the ``kb`` command and its sub-commands to ``itbot``'s parser."""
    kb = sub.add_parser("kb", help="check, search, preview and evaluate the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="SUBCOMMAND", required=True)

    check = kb_sub.add_parser("check", help="report problems in the articles (exit 1 on errors)")
    _kb_option(check)
    check.set_defaults(handler=check_command)

    search = kb_sub.add_parser("search", help="show how a question ranks the articles")
    search.add_argument("question", help="the question, as staff would type it")
    search.add_argument("--council", metavar="KEY", help="search as staff of this council")
    search.add_argument("--limit", type=int, default=5, help="how many hits to show (5)")
    search.add_argument("--json", action="store_true", help="print JSON")
    _kb_option(search)
    _semantic_option(search)
    search.set_defaults(handler=search_command)

    preview = kb_sub.add_parser("preview", help="show an article as a council's staff see it")
    preview.add_argument("article_id", metavar="ID", help="article id, e.g. email/out-of-office")
    preview.add_argument("--council", metavar="KEY", help="council key (default: every variant)")
    _kb_option(preview)
    preview.set_defaults(handler=preview_command)

    ev = kb_sub.add_parser("eval", help="measure search quality on a question file")
    ev.add_argument(
        "--questions",
        type=Path,
        required=True,
        metavar="FILE.jsonl",
        help='lines {"q": ..., "expected": [ids]}; [] = out of scope',
    )
    ev.add_argument(
        "--results",
        type=Path,
        metavar="OUT.jsonl",
        help="write one line per question: q, ranked ids, decision",
    )
    _kb_option(ev)
    _semantic_option(ev)
    ev.set_defaults(handler=eval_command)

    stats = kb_sub.add_parser("stats", help="count articles, variants, owners and problems")
    _kb_option(stats)
    _semantic_option(stats)
    stats.set_defaults(handler=stats_command)

    gaps = kb_sub.add_parser(
        "gaps", help="what staff asked that no article answered; articles rated unhelpful"
    )
    gaps.add_argument("--days", type=int, default=30, help="look back this many days (30)")
    gaps.add_argument("--council", metavar="KEY", help="only questions from this council's staff")
    gaps.add_argument("--limit", type=int, default=20, help="how many of each to show (20)")
    gaps.add_argument("--json", action="store_true", help="print JSON")
    _kb_option(gaps)
    _semantic_option(gaps)
    gaps.set_defaults(handler=gaps_command)


def _kb_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kb",
        type=Path,
        metavar="DIR",
        help="knowledge base folder (default: ITBOT_KB_PATH or the bundled one)",
    )


def _semantic_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--semantic",
        choices=SEMANTIC_CHOICES,
        help="sentence embeddings: auto, on or off (default: ITBOT_SEMANTIC)",
    )


def _load(args: argparse.Namespace, settings: Settings, semantic: SemanticMode) -> KnowledgeBase:
    root: Path = args.kb or settings.kb_path or bundled_root()
    if not root.is_dir():
        raise SystemExit(f"itbot kb: {root} is not a folder")
    return KnowledgeBase.load(
        root,
        councils=[c.key for c in settings.councils],
        cache_dir=settings.cache_dir,
        semantic=semantic,
    )


def _mode(args: argparse.Namespace, settings: Settings) -> SemanticMode:
    chosen: SemanticMode = args.semantic or settings.semantic
    return chosen


def _council(args: argparse.Namespace, settings: Settings) -> str | None:
    council: str | None = args.council
    keys = [c.key for c in settings.councils]
    if council is not None and council not in keys:
        raise SystemExit(f"itbot kb: unknown council {council!r} (known: {', '.join(keys)})")
    return council


def check_command(args: argparse.Namespace, settings: Settings) -> int:
    kb = _load(args, settings, "off")
    problems = kb.problems
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    print(f"{len(kb.articles())} articles in {kb.root}: {errors} errors, {warnings} warnings")
    return 1 if errors else 0


def search_command(args: argparse.Namespace, settings: Settings) -> int:
    council = _council(args, settings)
    kb = _load(args, settings, _mode(args, settings))
    explained = kb.explain(args.question, council=council, limit=args.limit)
    if args.json:
        print(json.dumps(_search_json(explained, kb.semantic_status), indent=2))
    else:
        _print_search(explained, kb.semantic_status)
    return 0


def _search_json(explained: Explained, status: str) -> dict[str, Any]:
    result, query = explained.result, explained.query
    return {
        "query": result.query,
        "decision": result.decision,
        "confidence": round(result.confidence, 4),
        "candidates": [h.article.id for h in result.candidates],
        "hits": [
            {
                "id": h.article.id,
                "title": h.article.title,
                "score": round(h.score, 5),
                "parts": {k: round(v, 4) for k, v in h.parts.items()},
            }
            for h in result.hits
        ],
        "corrections": query.corrections,
        "synonyms": query.expansions,
        "unknown_words": query.unknown,
        "signals": {k: round(v, 4) for k, v in explained.features.items()},
        "semantic": status,
    }


def _print_search(explained: Explained, status: str) -> None:
    result, query = explained.result, explained.query
    print(f"{result.query!r}: {_decision_line(result)}")
    notes = []
    if query.corrections:
        notes.append("spelling " + ", ".join(f"{a}->{b}" for a, b in query.corrections.items()))
    if query.expansions:
        notes.append("synonyms " + ", ".join(query.expansions))
    if query.unknown:
        notes.append("no article has " + ", ".join(query.unknown))
    for note in notes:
        print(f"  {note}")
    print(f"  ({status})")
    signals = ", ".join(f"{k} {v:.2f}" for k, v in explained.features.items())
    if signals:
        print(f"  signals: {signals}")
    for rank, hit in enumerate(result.hits, start=1):
        print(f"{rank:2}. {hit.article.id}  {hit.score:.4f}  {hit.article.title}")
        parts = "  ".join(
            f"{name} {hit.parts[name]:.3f} (#{int(hit.parts[name + '_rank'])})"
            if name + "_rank" in hit.parts
            else f"{name} {hit.parts[name]:.3f}"
            for name in ("lexical", "semantic", "fuzzy")
            if name in hit.parts
        )
        print(f"      {parts}  coverage {hit.parts.get('coverage', 0.0):.2f}")


def _decision_line(result: SearchResult) -> str:
    ids = ", ".join(h.article.id for h in result.candidates)
    text = f"{result.decision} (confidence {result.confidence:.2f})"
    return f"{text}: {ids}" if ids else text


def preview_command(args: argparse.Namespace, settings: Settings) -> int:
    council = _council(args, settings)
    kb = _load(args, settings, "off")
    article = kb.get(args.article_id)
    if article is None:
        print(f"itbot kb: no article {args.article_id!r} in {kb.root}", file=sys.stderr)
        return 1
    if not article.applies_to(council):
        print(
            f"itbot kb: {article.id} is not shown to {council} staff "
            f"(councils: {', '.join(article.councils)})",
            file=sys.stderr,
        )
        return 1
    if not article.is_live(kb.today):
        print(
            f"note: {article.id} is outside its valid_from/valid_until dates, so it is not served",
            file=sys.stderr,
        )
    print(f"# {article.title}\n")
    if article.summary:
        print(f"_{article.summary}_\n")
    print(article.for_council(council), end="")
    return 0


def eval_command(args: argparse.Namespace, settings: Settings) -> int:
    if not args.kb:
        print("itbot kb eval: --kb DIR is required", file=sys.stderr)
        return 2
    kb = _load(args, settings, _mode(args, settings))
    try:
        questions = list(read_questions(args.questions))
    except (OSError, QuestionFileError) as exc:
        print(f"itbot kb eval: {exc}", file=sys.stderr)
        return 2
    missing = sorted({e for q in questions for e in q.expected if kb.get(e) is None})
    if missing:
        print(
            f"itbot kb eval: {len(missing)} expected ids are not in {kb.root}, e.g. {missing[0]}",
            file=sys.stderr,
        )
    started = time.perf_counter()
    summary, rows = evaluate(kb, questions)
    elapsed = time.perf_counter() - started
    print(f"{kb.semantic_status}; {len(questions)} questions in {elapsed:.1f}s", file=sys.stderr)
    if args.results:
        with args.results.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row) + "\n")
    print(json.dumps(summary))
    return 0


def stats_command(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    kb = _load(args, settings, _mode(args, settings))
    seconds = time.perf_counter() - started
    articles = kb.articles()
    today = kb.today
    councils = Counter(c for a in articles for c in (a.councils or ("all councils",)))
    products = Counter(p for a in articles for p in a.products)
    problems = kb.problems
    lines = [
        f"knowledge base: {kb.root}",
        f"articles: {len(articles)} ({sum(a.is_live(today) for a in articles)} served now)",
        "by council: " + _counts(councils),
        "by product: " + (_counts(products) or "(none)"),
        f"with council variants: {sum(bool(a.variant_councils) for a in articles)}",
        f"with questions: {sum(bool(a.questions) for a in articles)} "
        f"({sum(len(a.questions) for a in articles)} questions)",
        f"without owner: {sum(a.owner is None for a in articles)}",
        f"review overdue: {sum(a.review_by is not None and a.review_by < today for a in articles)}",
        f"problems: {sum(p.severity == 'error' for p in problems)} errors, "
        f"{sum(p.severity == 'warning' for p in problems)} warnings",
        f"loaded and indexed in {seconds:.2f}s",
        kb.semantic_status,
    ]
    print("\n".join(lines))
    return 0


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def gaps_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.days < 1 or args.limit < 1:
        raise SystemExit("itbot kb: --days and --limit must be at least 1")
    council = _council(args, settings)
    kb = _load(args, settings, _mode(args, settings))
    since = datetime.now(UTC) - timedelta(days=args.days)

    async def go() -> GapReport:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                return await gap_report(
                    session, kb, since=since, council=council, now_for=args.limit
                )
        finally:
            await db.dispose()

    try:
        report = asyncio.run(go())
    except SQLAlchemyError as exc:
        print(f"itbot kb: could not read the conversations at {settings.database_url}: {exc}")
        return 1
    if args.json:
        print(json.dumps(_gaps_json(report, args.limit), indent=2))
    else:
        _print_gaps(report, args.days, args.limit)
    return 0


def _gaps_json(report: GapReport, limit: int) -> dict[str, Any]:
    return {
        "since": report.since.isoformat(timespec="seconds"),
        "council": report.council,
        "questions_asked": report.questions_asked,
        "questions_unanswered": report.questions_unanswered,
        "gaps": [
            {
                "count": g.count,
                "phrasings": g.phrasings,
                "councils": dict(g.councils),
                "outcomes": dict(g.outcomes),
                "first_asked": g.first_asked.isoformat(timespec="seconds"),
                "last_asked": g.last_asked.isoformat(timespec="seconds"),
                "decision_now": g.decision_now,
                "article_now": g.article_now,
            }
            for g in report.gaps[:limit]
        ],
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
        print(f"Asked, and no article answered ({len(report.gaps)} topics, most asked first):")
    for n, gap in enumerate(report.gaps[:limit], start=1):
        councils = ", ".join(f"{k} {v}" for k, v in gap.councils.most_common())
        print(
            f'{n:2}. {gap.count}x  "{gap.phrasings[0]}"  ({councils}; last {gap.last_asked:%d %b})'
        )
        for other in gap.phrasings[1:]:
            print(f'        also: "{other}"')
        if gap.article_now:
            print(f"        now answered by {gap.article_now}")
    print()
    if not report.unhelpful:
        print("No article was rated unhelpful.")
        return
    print("Rated unhelpful (No / Yes):")
    for u in report.unhelpful[:limit]:
        print(f"  {u.unhelpful} / {u.helpful}  {u.article_id}  {u.title}")
        for q in u.questions:
            print(f'        after: "{q}"')
