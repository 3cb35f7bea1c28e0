"""``itbot kb``: the knowledge editors' commands.

* ``itbot kb check [--kb DIR]`` - every problem with file:line and a fix hint; exit 1 on errors.
* ``itbot kb search "question" [--council KEY] [--json]`` - the ranking, scores and decision.
* ``itbot kb preview ID [--council KEY]`` - the article as that council's staff see it.
* ``itbot kb eval --kb DIR --questions FILE.jsonl [--results OUT.jsonl]`` - quality figures.
* ``itbot kb stats [--kb DIR]`` - what the knowledge base holds.
* ``itbot kb gaps``, ``itbot kb stub CLUSTER``, ``itbot kb usage``: the editors' loop,
  from what staff asked (reads the bot's database; see :mod:`bot.cli.kb_loop`).

``--kb`` defaults to ``ITBOT_KB_PATH``, else the bundled articles.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bot.cli import kb_loop
from bot.cli.kb_common import council_key, kb_option, load, mode, semantic_option
from bot.facts import DeskFacts
from bot.settings import Settings
from knowledge import SearchResult
from knowledge.evaluate import QuestionFileError, evaluate, read_questions
from knowledge.search import Explained


def register(sub: Any) -> None:
    """Add the ``kb`` command and its sub-commands to ``itbot``'s parser."""
    kb = sub.add_parser("kb", help="check, search, preview and evaluate the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="SUBCOMMAND", required=True)

    check = kb_sub.add_parser("check", help="report problems in the articles (exit 1 on errors)")
    kb_option(check)
    check.set_defaults(handler=check_command)

    search = kb_sub.add_parser("search", help="show how a question ranks the articles")
    search.add_argument("question", help="the question, as staff would type it")
    search.add_argument("--council", metavar="KEY", help="search as staff of this council")
    search.add_argument("--limit", type=int, default=5, help="how many hits to show (5)")
    search.add_argument("--json", action="store_true", help="print JSON")
    kb_option(search)
    semantic_option(search)
    search.set_defaults(handler=search_command)

    preview = kb_sub.add_parser("preview", help="show an article as a council's staff see it")
    preview.add_argument("article_id", metavar="ID", help="article id, e.g. email/out-of-office")
    preview.add_argument("--council", metavar="KEY", help="council key (default: every variant)")
    kb_option(preview)
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
    kb_option(ev)
    semantic_option(ev)
    ev.set_defaults(handler=eval_command)

    stats = kb_sub.add_parser("stats", help="count articles, variants, owners and problems")
    kb_option(stats)
    semantic_option(stats)
    stats.set_defaults(handler=stats_command)

    kb_loop.register(kb_sub)


def check_command(args: argparse.Namespace, settings: Settings) -> int:
    kb = load(args, settings, "off")
    problems = kb.problems
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    print(f"{len(kb.articles())} articles in {kb.root}: {errors} errors, {warnings} warnings")
    return 1 if errors else 0


def search_command(args: argparse.Namespace, settings: Settings) -> int:
    council = council_key(args, settings)
    kb = load(args, settings, mode(args, settings))
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
    council = council_key(args, settings)
    kb = load(args, settings, "off")
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
    shown = DeskFacts.of(settings)
    print(f"# {shown.render(article.title, council)}\n")
    if article.summary:
        print(f"_{shown.render(article.summary, council)}_\n")
    print(shown.body(article, council), end="")
    return 0


def eval_command(args: argparse.Namespace, settings: Settings) -> int:
    if not args.kb:
        print("itbot kb eval: --kb DIR is required", file=sys.stderr)
        return 2
    kb = load(args, settings, mode(args, settings))
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
    kb = load(args, settings, mode(args, settings))
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
