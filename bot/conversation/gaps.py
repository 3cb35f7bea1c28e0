"""For knowledge editors: what staff asked that no article answered, and unhelpful articles.

Read from the conversation turns the bot records (texts already redacted):

* a **gap** is a question the bot declined (``declined``) or whose offered articles the
  person turned down (``none_of_these``). Similar phrasings are grouped, so an editor
  sees "12 people asked about X" rather than twelve lines; each group says how the
  knowledge base would answer it *now*, so a gap an editor has since filled shows as
  answered.
* an **unhelpful article** is one people pressed "No" on after it was given as the
  answer, with the questions that led to it.

Only questions the bot tried to answer from the knowledge base count: out-of-scope
requests, password resets, tickets and the like are other flows.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.redaction import redact
from bot.storage.models import Conversation, Staff, Turn
from knowledge import KnowledgeBase
from knowledge.text import normalise

#: Outcomes of the answer flow that mean "no article answered this".
GAP_OUTCOMES = ("declined", "none_of_these")
#: Outcomes whose ``user_text`` is a question the knowledge base was asked.
ASKED_OUTCOMES = ("answered", "offered_articles", *GAP_OUTCOMES)
#: Two phrasings belong to one group at this fuzzy similarity (0-100, word order aside;
#: a short question doesn't join every longer one that contains its words).
GROUP_SIMILARITY = 70
#: At most this many of the most recent gap questions are grouped: about a month of a
#: busy bot's declines, grouped in under two seconds even if no two are alike.
MAX_QUESTIONS = 2000
#: Distinct phrasings shown per group or article.
SHOWN = 5


@dataclass(slots=True)
class Gap:
    """Similar questions nothing answered."""

    phrasings: list[str]
    count: int
    councils: Counter[str]
    outcomes: Counter[str]
    first_asked: datetime
    last_asked: datetime
    #: How the knowledge base answers the most recent phrasing now.
    decision_now: str = ""
    article_now: str | None = None


@dataclass(slots=True)
class Unhelpful:
    """An article people said didn't help."""

    article_id: str
    title: str
    unhelpful: int
    helpful: int
    questions: list[str] = field(default_factory=list)
    last_unhelpful: datetime | None = None

    @property
    def share_unhelpful(self) -> float:
        return self.unhelpful / max(self.unhelpful + self.helpful, 1)


@dataclass(slots=True)
class GapReport:
    since: datetime
    council: str | None
    questions_asked: int
    gaps: list[Gap]
    unhelpful: list[Unhelpful]

    @property
    def questions_unanswered(self) -> int:
        return sum(g.count for g in self.gaps)


@dataclass(frozen=True, slots=True)
class _Asked:
    text: str
    council: str
    outcome: str
    at: datetime


async def gap_report(
    session: AsyncSession,
    kb: KnowledgeBase,
    *,
    since: datetime,
    council: str | None = None,
    now_for: int = 50,
) -> GapReport:
    """Gaps and unhelpful articles from turns recorded at or after ``since``.

    ``council`` limits both to questions from that council's staff. The knowledge base
    is asked again for the ``now_for`` most asked topics (``decision_now``).
    """
    query = (
        select(
            Turn.conversation_id,
            Turn.created_at,
            Turn.user_text,
            Turn.outcome,
            Turn.details,
            Staff.council,
        )
        .join(Conversation, Conversation.id == Turn.conversation_id)
        .join(Staff, Staff.id == Conversation.staff_id)
        .where(Turn.created_at >= since)
        .where(Turn.outcome.in_((*ASKED_OUTCOMES, "feedback")))
        .order_by(Turn.conversation_id, Turn.id)
    )
    if council is not None:
        query = query.where(Staff.council == council)
    rows = (await session.execute(query)).all()

    missed: list[_Asked] = []
    rated: dict[str, Unhelpful] = {}
    asked = 0
    last_question: dict[int, str] = {}
    for conv_id, at, user_text, outcome, details, who in rows:
        details = details or {}
        if outcome in ASKED_OUTCOMES and outcome != "none_of_these":
            asked += 1
            last_question[conv_id] = user_text
        if outcome in GAP_OUTCOMES:
            # "none of these" is a press: the question it turns down is in its details
            text = details.get("question") if outcome == "none_of_these" else user_text
            if isinstance(text, str) and text.strip():
                missed.append(_Asked(redact(text.strip()), who, outcome, at))
        elif outcome == "feedback" and isinstance(details.get("article"), str):
            _rate(rated, kb, details, last_question.get(conv_id), at)

    # grouping thousands of questions and searching take CPU: not on the event loop
    gaps = await asyncio.to_thread(_group, missed[-MAX_QUESTIONS:])
    for gap in gaps[:now_for]:
        top_council = gap.councils.most_common(1)[0][0]
        result = await asyncio.to_thread(kb.search, gap.phrasings[0], council=top_council)
        gap.decision_now = result.decision
        gap.article_now = result.hits[0].article.id if result.decision == "answer" else None
    unhelpful = sorted(
        (r for r in rated.values() if r.unhelpful),
        key=lambda r: (-r.unhelpful, -r.share_unhelpful, r.article_id),
    )
    return GapReport(since, council, asked, gaps, unhelpful)


def _rate(
    rated: dict[str, Unhelpful],
    kb: KnowledgeBase,
    details: dict[str, object],
    question: str | None,
    at: datetime,
) -> None:
    article_id = str(details["article"])
    entry = rated.get(article_id)
    if entry is None:
        article = kb.get(article_id)
        title = article.title if article is not None else "(no longer in the knowledge base)"
        entry = rated[article_id] = Unhelpful(article_id, title, 0, 0)
    if details.get("helpful"):
        entry.helpful += 1
        return
    entry.unhelpful += 1
    entry.last_unhelpful = at
    if question and question not in entry.questions and len(entry.questions) < SHOWN:
        entry.questions.append(question)


def _group(asked: Sequence[_Asked]) -> list[Gap]:
    """Similar questions together, the most asked group first.

    Greedy: the most recent question not yet placed starts a group, and every other
    unplaced question at least :data:`GROUP_SIMILARITY` similar to it (rapidfuzz
    ``token_sort_ratio`` on the normalised text: the same words in any order) joins it.
    Questions asked word for word alike are compared once.
    """
    if not asked:
        return []
    by_text: dict[str, list[_Asked]] = {}
    for item in sorted(asked, key=lambda a: a.at, reverse=True):
        by_text.setdefault(normalise(item.text), []).append(item)
    texts = np.array(list(by_text), dtype=object)  # most recently asked first
    placed = np.zeros(len(texts), bool)
    gaps: list[Gap] = []
    for i, seed in enumerate(texts):
        if placed[i]:
            continue
        open_ = np.flatnonzero(~placed)
        sims = process.cdist(
            [seed],
            texts[open_].tolist(),
            scorer=fuzz.token_sort_ratio,
            score_cutoff=GROUP_SIMILARITY,
            dtype=np.uint8,
        )[0]
        members = open_[sims >= GROUP_SIMILARITY]
        placed[members] = True
        group = sorted(
            (a for j in members for a in by_text[texts[j]]), key=lambda a: a.at, reverse=True
        )
        phrasings: list[str] = []
        for a in group:
            if a.text not in phrasings and len(phrasings) < SHOWN:
                phrasings.append(a.text)
        gaps.append(
            Gap(
                phrasings=phrasings,
                count=len(group),
                councils=Counter(a.council for a in group),
                outcomes=Counter(a.outcome for a in group),
                first_asked=group[-1].at,
                last_asked=group[0].at,
            )
        )
    return sorted(gaps, key=lambda g: (-g.count, -g.last_asked.timestamp()))
