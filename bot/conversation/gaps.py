"""For knowledge editors: what staff asked that no article answered, and unhelpful articles.

Read from the conversation turns the bot records (texts already redacted):

* a **gap** is a question the bot declined (``declined``), whose offered articles the
  person turned down (``none_of_these``), whose answer they rated "No" (``rated_no``),
  or that the bot turned away as "not IT" when it was (``not_it_but_was``: a ticket, or
  a rephrasing that got an answer, followed in the same conversation within
  :data:`FOLLOW_UP`). Similar phrasings are grouped into clusters, so an editor sees
  "12 people asked about X" rather than twelve lines; each cluster has a stable id
  (:func:`cluster_id`, from the phrasing that started it), the articles that come
  closest *now*, and says how the knowledge base would answer it now, so a gap an
  editor has since filled shows as answered.
* an **unhelpful article** is one people pressed "No" on after it was given as the
  answer, with the questions that led to it.

Only questions the bot tried to answer from the knowledge base count: password resets,
tickets and the like are other flows, and a "not IT" reply counts only when what
followed shows it was IT.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.redaction import redact
from bot.storage.models import Conversation, Staff, Turn
from knowledge import KnowledgeBase
from knowledge.text import content_words, normalise, stem, words

#: Outcomes of the answer flow that mean "no article answered this".
GAP_OUTCOMES = ("declined", "none_of_these")
#: Outcomes whose ``user_text`` is a question the knowledge base was asked.
ASKED_OUTCOMES = ("answered", "offered_articles", *GAP_OUTCOMES)
#: How a question got into a cluster besides :data:`GAP_OUTCOMES`.
RATED_NO = "rated_no"
NOT_IT_BUT_WAS = "not_it_but_was"
#: A "not IT" reply was wrong when, within this time in the same conversation, the
#: person raised a ticket or asked again in other words (sharing a word) and got an answer.
FOLLOW_UP = timedelta(minutes=15)
#: Outcomes that show a question was IT after all, when they follow a "not IT" reply.
_ANSWERED = ("answered", "chose_article")
#: Articles shown as the closest to a cluster.
CLOSEST = 3
#: Two phrasings belong to one group at this fuzzy similarity (0-100, word order aside;
#: a short question doesn't join every longer one that contains its words).
GROUP_SIMILARITY = 70
#: At most this many of the most recent gap questions are grouped: about a month of a
#: busy bot's declines, grouped in under two seconds even if no two are alike.
MAX_QUESTIONS = 2000
#: Distinct phrasings shown per group or article.
SHOWN = 5


@dataclass(frozen=True, slots=True)
class Closest:
    """An article that comes close to a cluster's questions now."""

    article_id: str
    title: str


@dataclass(slots=True)
class Gap:
    """A cluster: similar questions nothing answered."""

    #: Stable id (:func:`cluster_id` of the phrasing that started the cluster).
    id: str
    phrasings: list[str]
    count: int
    councils: Counter[str]
    outcomes: Counter[str]
    first_asked: datetime
    last_asked: datetime
    #: How the knowledge base answers the most recent phrasing now.
    decision_now: str = ""
    article_now: str | None = None
    #: The articles that come closest to the most recent phrasing now, best first.
    closest: list[Closest] = field(default_factory=list)


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
class Asked:
    """One question that no article answered."""

    text: str
    council: str
    outcome: str
    at: datetime


def cluster_id(text: str) -> str:
    """A cluster's id: a slug of the first words of its starting phrasing and a short hash
    of the whole normalised phrasing, so it stays the same from one report to the next.

    >>> cluster_id("How do I use the microfiche reader?")
    'use-microfiche-reader-13231b'
    """
    norm = normalise(text)
    slug = "-".join(content_words(words(norm))[:4]) or "question"
    return f"{slug[:48]}-{hashlib.sha256(norm.encode()).hexdigest()[:6]}"


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
    is asked again for the ``now_for`` most asked topics (``decision_now``, ``closest``).
    """
    asked, missed, rated = await _read(session, kb, since=since, council=council)
    # grouping thousands of questions and searching take CPU: not on the event loop
    gaps = await asyncio.to_thread(_group, missed[-MAX_QUESTIONS:])
    for gap in gaps[:now_for]:
        await ask_now(kb, gap)
    unhelpful = sorted(
        (r for r in rated.values() if r.unhelpful),
        key=lambda r: (-r.unhelpful, -r.share_unhelpful, r.article_id),
    )
    return GapReport(since, council, asked, gaps, unhelpful)


async def find_cluster(
    session: AsyncSession, kb: KnowledgeBase, wanted: str, *, since: datetime
) -> Gap | None:
    """The cluster with id ``wanted`` among questions asked since ``since``, or ``None``.

    The cluster is grouped around the phrasing whose :func:`cluster_id` is ``wanted``, so
    an id shown by a report over a shorter period is found too.
    """
    _, missed, _ = await _read(session, kb, since=since, council=None)
    recent = missed[-MAX_QUESTIONS:]
    seed = next((a.text for a in recent if cluster_id(a.text) == wanted), None)
    if seed is None:
        return None
    gaps = await asyncio.to_thread(_group, recent, normalise(seed))
    gap = next(g for g in gaps if g.id == wanted)
    await ask_now(kb, gap)
    return gap


async def ask_now(kb: KnowledgeBase, gap: Gap) -> None:
    """Fill in how the knowledge base answers ``gap`` now, and its closest articles."""
    top_council = gap.councils.most_common(1)[0][0]
    result = await asyncio.to_thread(kb.search, gap.phrasings[0], council=top_council)
    gap.decision_now = result.decision
    gap.article_now = result.hits[0].article.id if result.decision == "answer" else None
    gap.closest = [Closest(h.article.id, h.article.title) for h in result.hits[:CLOSEST]]


async def _read(
    session: AsyncSession, kb: KnowledgeBase, *, since: datetime, council: str | None
) -> tuple[int, list[Asked], dict[str, Unhelpful]]:
    """(questions asked, the questions nothing answered oldest first, ratings by article)."""
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
        .where(
            Turn.outcome.in_(
                (*ASKED_OUTCOMES, "feedback", "out_of_scope", "ticket_raised", "chose_article")
            )
        )
        .order_by(Turn.conversation_id, Turn.id)
    )
    if council is not None:
        query = query.where(Staff.council == council)
    rows = (await session.execute(query)).all()

    missed: list[Asked] = []
    rated: dict[str, Unhelpful] = {}
    asked = 0
    last_question: dict[int, str] = {}
    #: "not IT" replies per conversation, waiting to see what follows
    turned_away: dict[int, list[Asked]] = {}
    for conv_id, at, user_text, outcome, details, who in rows:
        details = details or {}
        waiting = turned_away.get(conv_id, [])
        waiting[:] = [w for w in waiting if at - w.at <= FOLLOW_UP]
        if outcome == "out_of_scope":
            if user_text.strip():
                turned_away.setdefault(conv_id, []).append(
                    Asked(redact(user_text.strip()), who, NOT_IT_BUT_WAS, at)
                )
            continue
        if outcome == "ticket_raised" or (outcome in _ANSWERED and waiting):
            was_it = [w for w in waiting if outcome == "ticket_raised" or _rephrased(w, user_text)]
            asked += len(was_it)
            missed.extend(was_it)
            waiting[:] = [w for w in waiting if w not in was_it]
        if outcome in ASKED_OUTCOMES and outcome != "none_of_these":
            asked += 1
            last_question[conv_id] = user_text
        if outcome in GAP_OUTCOMES:
            # "none of these" is a press: the question it turns down is in its details
            text = details.get("question") if outcome == "none_of_these" else user_text
            if isinstance(text, str) and text.strip():
                missed.append(Asked(redact(text.strip()), who, outcome, at))
        elif outcome == "feedback" and isinstance(details.get("article"), str):
            question = last_question.get(conv_id)
            _rate(rated, kb, details, question, at)
            if not details.get("helpful") and question and question.strip():
                missed.append(Asked(redact(question.strip()), who, RATED_NO, at))
    missed.sort(key=lambda a: a.at)
    return asked, missed, rated


def _rephrased(turned_away: Asked, text: str) -> bool:
    """Whether ``text`` asks again what was turned away: they share a meaningful word."""
    before = {stem(w) for w in content_words(words(turned_away.text))}
    return bool(before & {stem(w) for w in content_words(words(text))})


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


def _group(asked: Sequence[Asked], first_seed: str | None = None) -> list[Gap]:
    """Similar questions together, the most asked group first.

    Greedy: the earliest question not yet placed starts a group (``first_seed``, a
    normalised phrasing, goes first), and every other unplaced question at least
    :data:`GROUP_SIMILARITY` similar to it (rapidfuzz ``token_sort_ratio`` on the
    normalised text: the same words in any order) joins it. Seeding with the earliest
    keeps a cluster's id the same as new questions arrive. Questions asked word for word
    alike are compared once.
    """
    if not asked:
        return []
    by_text: dict[str, list[Asked]] = {}
    for item in sorted(asked, key=lambda a: a.at):
        by_text.setdefault(normalise(item.text), []).append(item)
    order = list(by_text)  # earliest asked first
    if first_seed in by_text:
        order.remove(first_seed)
        order.insert(0, first_seed)
    texts = np.array(order, dtype=object)
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
                id=cluster_id(by_text[seed][0].text),
                phrasings=phrasings,
                count=len(group),
                councils=Counter(a.council for a in group),
                outcomes=Counter(a.outcome for a in group),
                first_asked=group[-1].at,
                last_asked=group[0].at,
            )
        )
    return sorted(gaps, key=lambda g: (-g.count, -g.last_asked.timestamp()))
