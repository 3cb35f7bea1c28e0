"""The :class:`Article` model and its council variants.

An article's body is markdown. Text that differs per council sits in variant
blocks, so an editor sees both versions side by side in one file::

    Call the service desk.

    ::: council aylesbury-vale
    Phone 01632 960 100.
    :::

    ::: council dacorum
    Phone 01632 960 200.
    :::

Text outside blocks is shared. A block may name several councils
(``::: council aylesbury-vale, dacorum``).

>>> body = "Call.\\n::: council dacorum\\nDial 2.\\n:::\\n"
>>> a = Article(id="help/call", title="Call us", body=body)
>>> a.for_council("dacorum")
'Call.\\nDial 2.\\n'
>>> a.for_council("aylesbury-vale")
'Call.\\n'
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

#: ``::: council KEY[, KEY2]`` opens a variant block.
OPEN_RE = re.compile(r"^\s*:::\s*council\b(.*)$", re.IGNORECASE)
#: ``:::`` alone on a line closes it.
CLOSE_RE = re.compile(r"^\s*:::\s*$")
FENCE_RE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of body lines: shared (``councils == ()``) or a council variant block."""

    councils: tuple[str, ...]
    text: str
    line: int  # 0-based offset of the first text line within the body
    marker_line: int = -1  # 0-based offset of the ``::: council`` line, -1 when shared


@dataclass(frozen=True, slots=True)
class MarkerProblem:
    """A malformed variant marker, ``offset`` lines into the body."""

    offset: int
    message: str
    hint: str


def split_variants(body: str) -> tuple[list[Segment], list[MarkerProblem]]:
    """Split ``body`` into shared segments and variant blocks, with marker problems.

    Markers inside fenced code blocks are left alone. An unclosed block runs
    to the end of the body (and is reported).
    """
    segments: list[Segment] = []
    problems: list[MarkerProblem] = []
    lines = body.splitlines(keepends=True)
    current: list[str] = []
    start = 0
    councils: tuple[str, ...] = ()
    marker = -1
    in_fence = False

    def flush(next_start: int) -> None:
        nonlocal current, start
        if current or councils:
            segments.append(Segment(councils, "".join(current), start, marker))
        current = []
        start = next_start

    for i, line in enumerate(lines):
        if FENCE_RE.match(line):
            in_fence = not in_fence
        if in_fence:
            current.append(line)
            continue
        opened = OPEN_RE.match(line)
        if opened:
            keys = tuple(k.strip() for k in opened.group(1).split(",") if k.strip())
            if councils:
                problems.append(
                    MarkerProblem(i, "council block opened inside another one", "close with ':::'")
                )
            if not keys:
                problems.append(
                    MarkerProblem(
                        i, "council block names no council", "write '::: council KEY[, KEY2]'"
                    )
                )
            flush(i + 1)
            councils, marker = keys, i
            continue
        if CLOSE_RE.match(line):
            if not councils and marker == -1:
                problems.append(
                    MarkerProblem(i, "':::' closes no council block", "remove the line")
                )
                continue
            flush(i + 1)
            councils, marker = (), -1
            continue
        current.append(line)
    if councils or marker != -1:
        problems.append(
            MarkerProblem(marker, "council block is never closed", "add a line ':::' after it")
        )
    flush(len(lines))
    return [s for s in segments if s.text.strip() or s.councils], problems


def _tidy(text: str) -> str:
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n" if text.strip() else ""


@dataclass(frozen=True, slots=True)
class Article:
    """One knowledge-base article. ``councils == ()`` means it applies to every council."""

    id: str
    title: str
    summary: str = ""
    tags: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    councils: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    owner: str | None = None
    review_by: datetime.date | None = None
    valid_from: datetime.date | None = None
    valid_until: datetime.date | None = None
    related: tuple[str, ...] = ()
    body: str = ""
    path: Path = field(default_factory=Path)
    body_line: int = 1
    source: str | None = None

    def applies_to(self, council: str | None) -> bool:
        """Whether staff of ``council`` may be shown this article (``None``: anyone)."""
        return council is None or not self.councils or council in self.councils

    def is_live(self, today: datetime.date) -> bool:
        """Whether the article is inside its ``valid_from``/``valid_until`` window."""
        if self.valid_from is not None and self.valid_from > today:
            return False
        return self.valid_until is None or self.valid_until >= today

    @property
    def variant_councils(self) -> tuple[str, ...]:
        """Every council key that has a variant block in the body."""
        seen: dict[str, None] = {}
        for segment in split_variants(self.body)[0]:
            seen.update(dict.fromkeys(segment.councils))
        return tuple(seen)

    def for_council(self, council: str | None) -> str:
        """Markdown as ``council``'s staff see it: shared text plus their variant blocks.

        With ``council=None`` every variant is kept, each headed with its council key
        (for editors' previews).
        """
        parts: list[str] = []
        for segment in split_variants(self.body)[0]:
            if not segment.councils:
                parts.append(segment.text)
            elif council is None:
                heading = ", ".join(segment.councils)
                parts.append(f"\n**For {heading}:**\n\n{segment.text}\n")
            elif council in segment.councils:
                parts.append(segment.text)
        return _tidy("".join(parts))
