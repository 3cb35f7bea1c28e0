"""The short texts embedded for an article besides its whole: phrasings and body passages.

One vector for a whole article dilutes it: a question that matches one section or one
of the listed ``questions`` well scores no better than a vague one. So the semantic side
also embeds

* the article's **phrasings**: its title and each of its ``questions``;
* its **passages**: each section of the body (split at markdown headings, long sections
  cut at paragraph breaks), headed with the section's heading.

A section that holds council variant blocks becomes one passage per council, with the
shared text and that council's blocks only, so a question never matches text that the
asker's council does not see.

>>> body = "Rooms are free.\\n## Phone\\nCall us.\\n::: council dacorum\\nDial 2.\\n:::\\n"
>>> [(p.councils, p.text) for p in passages(body)]
[((), 'Rooms are free.'), (('dacorum',), 'Phone Call us. Dial 2.')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.article import Article, split_variants
from knowledge.text import strip_markdown

#: A passage longer than this (characters) is cut at paragraph breaks: about what the
#: model's 256-token window holds.
PASSAGE_CHARS = 1000
#: Passages shorter than this many words (a heading with nothing under it) are skipped.
MIN_WORDS = 3

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*)$", re.MULTILINE)
_PARAGRAPH_RE = re.compile(r"\n\s*\n")


@dataclass(frozen=True, slots=True)
class Passage:
    """Text to embed and the councils it is shown to (``()``: every council)."""

    councils: tuple[str, ...]
    text: str


def phrasings(article: Article) -> list[str]:
    """The title and the listed questions: short ways of asking for the article."""
    return [t for t in (article.title, *article.questions) if t.strip()]


def _clean(text: str) -> str:
    return " ".join(strip_markdown(text).replace("**", "").split())


def _sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) for each part of the body between markdown headings."""
    out: list[tuple[str, str]] = []
    heading, start = "", 0
    for match in _HEADING_RE.finditer(body):
        out.append((heading, body[start : match.start()]))
        heading, start = match.group(2), match.end()
    out.append((heading, body[start:]))
    return out


def _chunks(heading: str, text: str) -> list[str]:
    """``text`` cut at paragraph breaks into pieces of about :data:`PASSAGE_CHARS`."""
    pieces: list[str] = []
    current = ""
    for paragraph in _PARAGRAPH_RE.split(text):
        paragraph = _clean(paragraph)
        if current and len(current) + len(paragraph) > PASSAGE_CHARS:
            pieces.append(current)
            current = ""
        current = f"{current} {paragraph}".strip()
    if current:
        pieces.append(current)
    head = _clean(heading)
    return [f"{head} {p}" if head else p for p in pieces]


def passages(body: str) -> list[Passage]:
    """The body's passages, council by council where a section has variant blocks."""
    out: list[Passage] = []
    for heading, text in _sections(body):
        segments, _ = split_variants(text)
        keys = dict.fromkeys(k for s in segments for k in s.councils)
        if not keys:
            out.extend(Passage((), chunk) for chunk in _chunks(heading, text))
            continue
        for key in keys:
            own = "".join(s.text for s in segments if not s.councils or key in s.councils)
            out.extend(Passage((key,), chunk) for chunk in _chunks(heading, own))
    return [p for p in out if len(p.text.split()) >= MIN_WORDS]
