"""Checks across articles: duplicates, links, related ids, review and expiry dates.

Per-file checks (front matter, values, variant markers) happen while parsing, in
:mod:`knowledge.parse`; these need the whole collection or today's date.
"""

from __future__ import annotations

import datetime
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from urllib.parse import unquote

from knowledge.article import Article
from knowledge.problems import Problem

#: ``[text](target)`` or ``[text](<target> "title")``; images too.
LINK_RE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def link_target(article_id: str, href: str) -> str | None:
    """The article id a relative ``.md`` link points at (existing or not), else ``None``."""
    href = unquote(href.strip().split("#", 1)[0].split("?", 1)[0])
    if not href or href.startswith("/") or _SCHEME_RE.match(href):
        return None
    if not href.lower().endswith(".md"):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(article_id), href))
    if joined.startswith("../") or joined == "..":
        return None
    return joined[:-3]


def _escapes(article_id: str, href: str) -> bool:
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(article_id), href))
    return joined == ".." or joined.startswith("../")


def links(article: Article) -> Iterator[tuple[int, str]]:
    """``(line number, href)`` of every markdown link in the body."""
    for offset, line in enumerate(article.body.splitlines()):
        for match in LINK_RE.finditer(line):
            yield article.body_line + offset, match.group(1)


def check_collection(
    articles: Mapping[str, Article],
    key_lines: Mapping[str, Mapping[str, int]],
    today: datetime.date,
) -> list[Problem]:
    """Problems that involve more than one article, or the date."""
    problems: list[Problem] = []
    by_lower: dict[str, list[Article]] = defaultdict(list)
    by_title: dict[str, list[Article]] = defaultdict(list)
    for article in articles.values():
        by_lower[article.id.lower()].append(article)
        by_title[" ".join(article.title.lower().split())].append(article)
    for same in by_lower.values():
        if len(same) > 1:
            for article in same:
                others = ", ".join(a.id for a in same if a is not article)
                problems.append(
                    Problem(
                        article.path,
                        1,
                        "error",
                        f"id differs from {others} only in upper/lower case",
                        "rename one of the files",
                    )
                )
    for same in by_title.values():
        if len(same) > 1 and _overlap(same):
            for article in same:
                others = ", ".join(a.id for a in same if a is not article)
                line = key_lines.get(article.id, {}).get("title", 2)
                problems.append(
                    Problem(
                        article.path,
                        line,
                        "warning",
                        f"same title as {others}",
                        "give each article a title that tells them apart",
                    )
                )
    for article in articles.values():
        lines = key_lines.get(article.id, {})
        problems.extend(_check_related(article, articles, lines.get("related", 2)))
        problems.extend(_check_links(article, articles))
        problems.extend(_check_dates(article, lines, today))
    return problems


def _overlap(same: list[Article]) -> bool:
    """Whether at least two of the articles can be shown to the same council."""
    for i, a in enumerate(same):
        for b in same[i + 1 :]:
            if not a.councils or not b.councils or set(a.councils) & set(b.councils):
                return True
    return False


def _check_related(
    article: Article, articles: Mapping[str, Article], line: int
) -> Iterator[Problem]:
    for rid in article.related:
        if rid == article.id:
            yield Problem(
                article.path,
                line,
                "warning",
                "'related' lists the article itself",
                f"remove '{rid}'",
            )
        elif rid not in articles:
            target = rid.removesuffix(".md")
            hint = (
                f"write the id without '.md': {target}"
                if target in articles
                else "use the id: the path under the knowledge base without '.md'"
            )
            yield Problem(
                article.path, line, "error", f"related article '{rid}' does not exist", hint
            )


def _check_links(article: Article, articles: Mapping[str, Article]) -> Iterator[Problem]:
    for line, href in links(article):
        target = link_target(article.id, href)
        if target is not None:
            if target not in articles:
                yield Problem(
                    article.path,
                    line,
                    "error",
                    f"broken link '{href}': no article '{target}'",
                    "link to another article's .md file, relative to this one",
                )
            continue
        clean = unquote(href.split("#", 1)[0].split("?", 1)[0])
        local = clean and not clean.startswith("/") and not _SCHEME_RE.match(clean)
        if local and _escapes(article.id, clean):
            continue  # reported with the article (knowledge.safety); never looked at on disk
        if local and not (article.path.parent / clean).exists():
            yield Problem(
                article.path,
                line,
                "warning",
                f"link '{href}' points at a file that does not exist",
                "fix the path, relative to this article",
            )


def _check_dates(
    article: Article, lines: Mapping[str, int], today: datetime.date
) -> Iterator[Problem]:
    if article.valid_until is not None and article.valid_until < today:
        yield Problem(
            article.path,
            lines.get("valid_until", 2),
            "warning",
            f"expired on {article.valid_until.isoformat()}, so it is not served",
            "update it and move 'valid_until' on, or delete the file",
        )
    if article.review_by is not None and article.review_by < today:
        yield Problem(
            article.path,
            lines.get("review_by", 2),
            "warning",
            f"review was due on {article.review_by.isoformat()}",
            "check the article is still right, then move 'review_by' on",
        )
