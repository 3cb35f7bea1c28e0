"""For knowledge editors: how each article is used, and which need attention.

Per article, over a period (and optionally one council's staff), from the conversation
turns the bot records:

* **answered**: times it was given as the answer (a clear answer, or chosen from a few);
* **offered**: times it was one of the few offered to choose from;
* **helpful rate**: Yes / (Yes + No) of "Was this helpful?" (``None`` with no ratings);
* **last edited**: the date of the last git commit that touched the file when the
  knowledge base is in a git repository (a file with changes not committed yet, or
  none at all: its modification time), else the file's modification time;
* **review due**: its ``review_by`` date; **stale** once that has passed;
* **never used**: served, yet neither given nor offered in the period (a draft stub,
  not served until its ``valid_from``, is left out).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Conversation, Staff, Turn
from knowledge import Article, KnowledgeBase

log = logging.getLogger(__name__)

#: Outcomes whose ``details["articles"][0]`` was given as the answer.
GIVEN = ("answered", "chose_article")
OFFERED = "offered_articles"
GIT_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class ArticleUsage:
    article_id: str
    title: str
    answered: int
    offered: int
    helpful: int
    unhelpful: int
    last_edited: datetime | None
    review_by: date | None
    stale: bool
    #: Shown to staff today (a draft, or one outside its validity dates, is not).
    served: bool = True

    @property
    def views(self) -> int:
        return self.answered + self.offered

    @property
    def helpful_rate(self) -> float | None:
        rated = self.helpful + self.unhelpful
        return self.helpful / rated if rated else None


@dataclass(frozen=True, slots=True)
class UsageReport:
    since: datetime
    council: str | None
    #: Most viewed first.
    articles: list[ArticleUsage]
    #: Where "last edited" comes from: ``git`` or ``file times``.
    edited_from: str

    @property
    def stale(self) -> list[ArticleUsage]:
        """Review overdue, the longest overdue first."""
        late = [a for a in self.articles if a.stale]
        return sorted(late, key=lambda a: (a.review_by or date.min, a.article_id))

    @property
    def never_used(self) -> list[ArticleUsage]:
        """Served, yet neither given nor offered in the period (drafts are left out)."""
        idle = (a for a in self.articles if a.served and not a.views)
        return sorted(idle, key=lambda a: a.article_id)


async def usage_report(
    session: AsyncSession, kb: KnowledgeBase, *, since: datetime, council: str | None = None
) -> UsageReport:
    """Every article's figures from turns recorded at or after ``since``."""
    query = (
        select(Turn.outcome, Turn.details)
        .join(Conversation, Conversation.id == Turn.conversation_id)
        .join(Staff, Staff.id == Conversation.staff_id)
        .where(Turn.created_at >= since)
        .where(Turn.outcome.in_((*GIVEN, OFFERED, "feedback")))
    )
    if council is not None:
        query = query.where(Staff.council == council)
    answered: Counter[str] = Counter()
    offered: Counter[str] = Counter()
    helpful: Counter[str] = Counter()
    unhelpful: Counter[str] = Counter()
    for outcome, details in (await session.execute(query)).all():
        details = details or {}
        ids = details.get("articles")
        ids = [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []
        if outcome in GIVEN and ids:
            answered[ids[0]] += 1
        elif outcome == OFFERED:
            offered.update(set(ids))
        elif outcome == "feedback" and isinstance(details.get("article"), str):
            (helpful if details.get("helpful") else unhelpful)[details["article"]] += 1
    articles = kb.articles()
    edited, source = await asyncio.to_thread(last_edited, kb.root, articles)
    today = kb.today
    rows = [
        ArticleUsage(
            article_id=a.id,
            title=a.title,
            answered=answered[a.id],
            offered=offered[a.id],
            helpful=helpful[a.id],
            unhelpful=unhelpful[a.id],
            last_edited=edited.get(a.id),
            review_by=a.review_by,
            stale=a.review_by is not None and a.review_by < today,
            served=a.is_live(today),
        )
        for a in articles
    ]
    rows.sort(key=lambda r: (-r.views, -r.answered, r.article_id))
    return UsageReport(since, council, rows, source)


def last_edited(root: Path, articles: Sequence[Article]) -> tuple[dict[str, datetime], str]:
    """When each article's file was last edited, and where that comes from."""
    from_git = _git_dates(root)
    dates: dict[str, datetime] = {}
    for article in articles:
        path = article.path.resolve()
        when = from_git.get(path) if from_git is not None else None
        if when is None:
            try:
                when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except OSError:
                continue
        dates[article.id] = when
    return dates, "git" if from_git is not None else "file times"


def _git(root: Path, *args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        # S603: fixed arguments of our own; only the folder comes from the settings
        done = subprocess.run(  # noqa: S603
            [git, "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _git_dates(root: Path) -> dict[Path, datetime] | None:
    """Last commit date of each file under ``root`` (uncommitted changes left out), or
    ``None`` when ``root`` is not in a git repository."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or not top.strip():
        return None
    base = Path(top.strip()).resolve()
    out = _git(root, "log", "--format=%x00%cI", "--name-only", "--no-renames", "--", ".")
    if out is None:
        return None
    dates: dict[Path, datetime] = {}
    when: datetime | None = None
    for line in out.splitlines():
        if line.startswith("\x00"):
            when = datetime.fromisoformat(line[1:].strip())
        elif line.strip() and when is not None:
            dates.setdefault((base / line.strip()).resolve(), when)  # newest commit first
    # a file changed since its last commit (or never committed) goes by its file time
    status = _git(root, "status", "--porcelain", "--no-renames", "--", ".") or ""
    for line in status.splitlines():
        if len(line) > 3:
            dates.pop((base / line[3:].strip().strip('"')).resolve(), None)
    return dates
